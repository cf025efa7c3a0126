"""adproto: the wire codec shared by the adserver daemon and its clients.

A message is a list of ZeroMQ frames: a msgpack header, a msgpack body, then the raw
buffers of any arrays the body carries (see protocol/PROTOCOL.md).
"""
from .codec import (
    PROTOCOL_VERSION, DTYPES, Ref, encode, decode, decode_header, pack_header, error_object,
    handle_ext,
)
from .errors import ProtocolError, VersionError, LimitExceeded, RemoteError
from .quoting import shorten, clip
from . import kinds

__all__ = [
    "PROTOCOL_VERSION", "DTYPES", "Ref", "encode", "decode", "decode_header", "pack_header",
    "error_object", "handle_ext", "ProtocolError", "VersionError", "LimitExceeded", "RemoteError", "kinds",
    "shorten", "clip",
]
