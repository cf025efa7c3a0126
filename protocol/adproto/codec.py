"""Framing: msgpack header and body, arrays as out-of-band raw frames.

Arrays never travel inside the msgpack body. The body holds an extension value that
names the frame carrying the array's bytes, its dtype and its shape; the bytes follow
the body as frames of their own, C-contiguous and little-endian, so that a large
array is sent and received without a copy.
"""
import sys

import msgpack
import numpy as np

from .errors import ProtocolError, VersionError, LimitExceeded

PROTOCOL_VERSION = 1

# Extension type codes inside a msgpack body.
EXT_ARRAY = 1     # [frame index, dtype name, shape]
EXT_HANDLE = 2    # int: a handle in the sender's session
EXT_COMPLEX = 3   # [real, imag]
EXT_TUPLE = 4     # a msgpack array that must come back as a tuple
EXT_SLICE = 5     # [start, stop, step]
EXT_ELLIPSIS = 6  # empty payload

# The only dtypes that may cross the wire, by numpy name.
DTYPES = frozenset({
    "bool",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
    "complex64", "complex128",
})

_LITTLE = sys.byteorder == "little"
_EMPTY = b""


class Ref:
    """A reference to a handle, as it appears in an op's arguments."""

    __slots__ = ("handle",)

    def __init__(self, handle):
        self.handle = handle

    @property
    def __adhandle__(self):
        return self.handle

    def __eq__(self, other):
        return isinstance(other, Ref) and other.handle == self.handle

    def __hash__(self):
        return hash(("Ref", self.handle))

    def __repr__(self):
        return f"Ref({self.handle})"


def _wire_array(arr):
    """The array as the wire carries it: whitelisted dtype, little-endian, C-contiguous."""
    name = arr.dtype.name
    if name not in DTYPES:
        raise ProtocolError(f"dtype {arr.dtype} cannot be sent; allowed: {sorted(DTYPES)}")
    if not arr.dtype.isnative or (arr.dtype.byteorder == ">"):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not _LITTLE:  # pragma: no cover - no big-endian hosts in CI
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if not arr.flags.c_contiguous:
        # (np.ascontiguousarray would also turn a 0-d array into a 1-d one)
        arr = np.ascontiguousarray(arr)
    return arr, name


_new_tuple = tuple.__new__
_ExtType = msgpack.ExtType


def handle_ext(h):
    """A reference to handle ``h``, already in its wire form (extension type 2).

    The packer writes it as it is, without calling back into Python for it: a client that
    queues thousands of small ops saves most of their encoding time. (Made with
    tuple.__new__: ExtType's own constructor re-checks its arguments on every call.)
    """
    if 0 <= h < 128:
        data = _SMALL_INTS[h]
    elif 0 <= h < 256:
        data = b"\xcc" + _SMALL_BYTES[h]
    elif 0 <= h < 1 << 16:
        data = b"\xcd" + h.to_bytes(2, "big")
    elif 0 <= h < 1 << 32:
        data = b"\xce" + h.to_bytes(4, "big")
    else:
        data = msgpack.packb(h)
    return _new_tuple(_ExtType, (EXT_HANDLE, data))


_SMALL_INTS = [bytes((i,)) for i in range(128)]     # msgpack's positive fixints
_SMALL_BYTES = [bytes((i,)) for i in range(256)]


class _Packer:
    """One message's packing state: the buffers that follow the body.

    It holds no packer of its own: a packer whose ``default`` is this object's bound method
    would make a reference cycle, and keep every array packed alive until the cyclic
    garbage collector happened to run.
    """

    __slots__ = ("buffers",)

    def __init__(self):
        self.buffers = []

    def nested(self, value):
        # A Packer is not reentrant: values inside an extension get a packer of their
        # own, sharing this message's buffer list.
        return msgpack.packb(value, default=self.default, strict_types=True, use_bin_type=True)

    def default(self, obj):
        h = getattr(obj, "__adhandle__", None)
        if h is not None:
            return msgpack.ExtType(EXT_HANDLE, msgpack.packb(h))
        if isinstance(obj, np.ndarray):
            arr, name = _wire_array(obj)
            index = len(self.buffers)
            self.buffers.append(memoryview(arr).cast("B") if arr.size else _EMPTY)
            return msgpack.ExtType(EXT_ARRAY, msgpack.packb([index, name, list(arr.shape)]))
        if isinstance(obj, tuple):
            return msgpack.ExtType(EXT_TUPLE, self.nested(list(obj)))
        if isinstance(obj, bool) or isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, (int, np.integer)):
            v = int(obj)
            if not -(1 << 63) <= v < (1 << 64):
                raise ProtocolError(f"integer {v} does not fit in 64 bits")
            return v
        if isinstance(obj, (float, np.floating)):
            return float(obj)
        if isinstance(obj, (complex, np.complexfloating)):
            return msgpack.ExtType(EXT_COMPLEX, msgpack.packb([float(obj.real), float(obj.imag)]))
        if isinstance(obj, slice):
            return msgpack.ExtType(EXT_SLICE, self.nested([obj.start, obj.stop, obj.step]))
        if obj is Ellipsis:
            return msgpack.ExtType(EXT_ELLIPSIS, _EMPTY)
        if isinstance(obj, str):
            return str(obj)
        if isinstance(obj, dict):
            return dict(obj)
        if isinstance(obj, list):
            return list(obj)
        raise ProtocolError(f"cannot encode a value of type {type(obj).__name__}")


def pack_header(kind, **fields):
    """The header frame: protocol version, message kind and routing fields."""
    header = {"v": PROTOCOL_VERSION, "kind": kind}
    header.update(fields)
    return msgpack.packb(header, use_bin_type=True)


def encode(kind, body, **header_fields):
    """Frames for one message: [header, body, *array buffers]."""
    p = _Packer()
    try:
        body_bytes = msgpack.packb(body, default=p.default, strict_types=True,
                                   use_bin_type=True)
    except (ValueError, OverflowError, RecursionError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"cannot encode the body: {exc}") from None
    return [pack_header(kind, **header_fields), body_bytes, *p.buffers]


def _buffer_of(frame):
    return frame.buffer if hasattr(frame, "buffer") else frame


def _is_int(x):
    return type(x) is int


def _array_from(buffers, payload, max_array_bytes):
    try:
        index, name, shape = payload
    except (TypeError, ValueError):
        raise ProtocolError("array extension must be [frame index, dtype, shape]") from None
    if not _is_int(index) or not 0 <= index < len(buffers):
        raise ProtocolError(f"array refers to frame {index!r}, but the message has "
                            f"{len(buffers)} array frame(s)")
    if name not in DTYPES:
        raise ProtocolError(f"dtype {name!r} is not allowed; allowed: {sorted(DTYPES)}")
    if not isinstance(shape, list) or not all(_is_int(n) and n >= 0 for n in shape):
        raise ProtocolError(f"array shape {shape!r} must be a list of non-negative integers")
    dtype = np.dtype(name).newbyteorder("<")
    buf = buffers[index]
    count = 1
    for n in shape:
        count *= n
    if max_array_bytes is not None and count * dtype.itemsize > max_array_bytes:
        raise LimitExceeded(f"array of shape {tuple(shape)} and dtype {name} holds "
                            f"{count * dtype.itemsize} bytes; the limit is {max_array_bytes}",
                            limit="max_array_bytes")
    if count * dtype.itemsize != len(buf):
        raise ProtocolError(f"array frame {index} holds {len(buf)} bytes, but dtype {name} "
                            f"and shape {tuple(shape)} need {count * dtype.itemsize}")
    if count:
        return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)
    arr = np.empty(shape, dtype)
    arr.flags.writeable = False   # like every other decoded array
    return arr


class _Decoder:
    """One message's unpacking state. Its hooks are bound methods made for each call, so no
    reference cycle holds the message's frames (and arrays) after decoding."""

    __slots__ = ("buffers", "depth", "max_depth", "max_array_bytes")

    def __init__(self, buffers, max_depth, max_array_bytes):
        self.buffers = buffers
        self.depth = 0
        self.max_depth = max_depth
        self.max_array_bytes = max_array_bytes

    def unpack(self, data):
        return msgpack.unpackb(data, ext_hook=self.ext_hook, raw=False, strict_map_key=False)

    def ext_hook(self, code, data):
        if code == EXT_HANDLE:
            h = msgpack.unpackb(data)
            if not isinstance(h, int) or isinstance(h, bool):
                raise ProtocolError(f"a handle must be an integer, got {h!r}")
            return Ref(h)
        if code == EXT_ARRAY:
            return _array_from(self.buffers, msgpack.unpackb(data), self.max_array_bytes)
        if code == EXT_COMPLEX:
            parts = msgpack.unpackb(data)
            if not (isinstance(parts, list) and len(parts) == 2 and
                    all(type(p) in (int, float) for p in parts)):
                raise ProtocolError("a complex extension must be [real, imag]")
            return complex(*parts)
        if code in (EXT_TUPLE, EXT_SLICE):
            self.depth += 1
            if self.depth > self.max_depth:
                raise ProtocolError(f"values nest deeper than {self.max_depth} levels")
            items = self.unpack(data)
            self.depth -= 1
            if not isinstance(items, list):
                raise ProtocolError("tuple and slice extensions must hold an array")
            if code == EXT_TUPLE:
                return tuple(items)
            if len(items) != 3:
                raise ProtocolError("a slice extension must be [start, stop, step]")
            return slice(*items)
        if code == EXT_ELLIPSIS:
            return Ellipsis
        raise ProtocolError(f"unknown extension type {code}")


def decode(frames, max_depth=64, max_array_bytes=None):
    """(header, body) from the frames of one message (router identity already removed).

    Arrays in the body are read-only views over their frames.
    """
    if len(frames) < 2:
        raise ProtocolError(f"a message needs a header and a body frame, got {len(frames)} frame(s)")
    header = decode_header(frames[0])
    buffers = [memoryview(_buffer_of(f)).cast("B") for f in frames[2:]]
    decoder = _Decoder(buffers, max_depth, max_array_bytes)
    try:
        body = decoder.unpack(_buffer_of(frames[1]))
    except ProtocolError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ProtocolError(f"body is not valid msgpack: {exc}") from None
    except RecursionError:
        raise ProtocolError("body nests too deeply") from None
    return header, body


def decode_header(frame):
    """The header map of a message's first frame, validated."""
    data = _buffer_of(frame)
    try:
        header = msgpack.unpackb(data, raw=False)
    except Exception as exc:
        raise ProtocolError(f"header is not valid msgpack: {exc}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header must be a map")
    if type(header.get("v")) is not int or header["v"] != PROTOCOL_VERSION:
        raise VersionError(f"protocol version {header.get('v')!r} is not supported "
                           f"(this side speaks {PROTOCOL_VERSION})")
    if not isinstance(header.get("kind"), str):
        raise ProtocolError("header needs a string 'kind'")
    return header


def error_object(type_, message, **fields):
    """An error as it crosses the wire: type, message and optional seq/op/limit fields."""
    err = {"type": type_, "message": message}
    err.update({k: v for k, v in fields.items() if v is not None})
    return err
