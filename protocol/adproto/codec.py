"""Framing: msgpack header and body, arrays as out-of-band raw frames.

Arrays never travel inside the msgpack body. The body holds an extension value that
names the frame carrying the array's bytes, its dtype and its shape; the bytes follow
the body as frames of their own, C-contiguous and little-endian, so that a large
array is sent and received without a copy.
"""
import sys
import threading

import msgpack
import numpy as np

from .errors import ProtocolError, VersionError, LimitExceeded
from .quoting import shorten, clip

PROTOCOL_VERSION = 1
# A header holds v, kind, req and session: a few dozen bytes. A larger one is refused before
# it is decoded, so that what a receiver spends on a header does not grow with it.
MAX_HEADER_BYTES = 4096

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
_MAX_DIMS = 64                   # numpy's own limit on dimensions (NPY_MAXDIMS)
_EMPTY = b""

# Both tables are built once, from the whitelist. The encoder finds an array's wire name by
# dtype.num (a C field: numpy 2 computes dtype.name in Python, about 1.7 us an array), the
# decoder its little-endian dtype by name (np.dtype(name) would be rebuilt for every array).
_WIRE_NAMES = {}                 # dtype.num -> wire name
for _code in np.typecodes["All"]:
    _dt = np.dtype(_code)
    if _dt.name in DTYPES:
        _WIRE_NAMES[_dt.num] = _dt.name
_WIRE_DTYPES = {name: np.dtype(name).newbyteorder("<") for name in DTYPES}
assert set(_WIRE_NAMES.values()) == DTYPES
del _code, _dt


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
    dtype = arr.dtype
    name = _WIRE_NAMES.get(dtype.num)   # the same as dtype.name, for whitelisted dtypes
    if name is None:
        raise ProtocolError(f"dtype {arr.dtype} cannot be sent; allowed: {sorted(DTYPES)}")
    if not (_LITTLE and dtype.isnative):  # (big-endian hosts: every dtype needs the swap)
        arr = arr.astype(dtype.newbyteorder("<"))
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

    It holds no packer with a ``default`` of its own: a packer whose ``default`` is this
    object's bound method would make a reference cycle, and keep every array packed alive
    until the cyclic garbage collector happened to run. (``pack_plain`` is the ``pack`` of a
    packer without a ``default``, for the payloads of extension values: no cycle.)
    """

    __slots__ = ("buffers", "pack_plain")

    def __init__(self, pack_plain):
        self.buffers = []
        self.pack_plain = pack_plain

    def nested(self, value):
        # A Packer is not reentrant: values inside an extension get a packer of their
        # own, sharing this message's buffer list.
        return msgpack.packb(value, default=self.default, strict_types=True, use_bin_type=True)

    def default(self, obj):
        if type(obj) is _ndarray:   # first: most values that come here are arrays
            return self.array(obj)
        h = getattr(obj, "__adhandle__", None)
        if h is not None:
            return msgpack.ExtType(EXT_HANDLE, msgpack.packb(h))
        if isinstance(obj, np.ndarray):
            return self.array(obj)
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
            return _new_tuple(_ExtType, (EXT_COMPLEX, self.pack_plain(
                [float(obj.real), float(obj.imag)])))
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

    def array(self, arr):
        dtype = arr.dtype
        name = _WIRE_NAMES.get(dtype.num)
        view = memoryview(arr) if name is not None and _LITTLE and dtype.isnative else None
        if view is None or not view.c_contiguous:
            # An error, or a copy that fixes the byte order or the layout.
            arr, name = _wire_array(arr)
            view = memoryview(arr)
        buffers = self.buffers
        index = len(buffers)
        buffers.append(view.cast("B") if view.nbytes else _EMPTY)
        # (a tuple packs as an array, as list(arr.shape) would)
        return _new_tuple(_ExtType, (EXT_ARRAY, self.pack_plain([index, name, arr.shape])))


_ndarray = np.ndarray


class _Packers:
    """One thread's msgpack packers, made once: making a Packer for every pack (which
    msgpack.packb does) costs more than packing a small message. ``plain`` packs headers
    and extension payloads (plain values: it never calls back into Python, so it is never
    re-entered); ``body`` packs bodies, with ``state.default`` for what msgpack does not
    know. The packers refer to the state, the state to no packer with a default: no cycle.
    """

    __slots__ = ("plain", "state", "body", "busy")

    def __init__(self):
        self.plain = msgpack.Packer(use_bin_type=True)
        self.state = _Packer(self.plain.pack)
        self.body = msgpack.Packer(default=self.state.default, strict_types=True,
                                   use_bin_type=True)
        self.busy = False


_local = threading.local()   # .packers: this thread's _Packers
_KEEP_PACKERS_BYTES = 1 << 20


def _packers():
    try:
        return _local.packers
    except AttributeError:
        packers = _local.packers = _Packers()
        return packers


def pack_header(kind, **fields):
    """The header frame: protocol version, message kind and routing fields."""
    return _packers().plain.pack({"v": PROTOCOL_VERSION, "kind": kind, **fields})


def encode(kind, body, **header_fields):
    """Frames for one message: [header, body, *array buffers]."""
    try:
        packers = _local.packers
    except AttributeError:
        packers = _packers()
    if packers.busy:
        # encode called from inside a body being packed on this thread (by a __adhandle__
        # property?): a Packer is not reentrant, so this message gets packers of its own.
        packers = _Packers()
    state = packers.state
    buffers = state.buffers = []
    packers.busy = True
    try:
        body_bytes = packers.body.pack(body)
    except (ValueError, OverflowError, RecursionError) as exc:
        if isinstance(exc, ProtocolError):
            raise
        raise ProtocolError(f"cannot encode the body: {exc}") from None
    finally:
        packers.busy = False
        state.buffers = None   # the thread's packers must not keep this message's arrays
    header = packers.plain.pack({"v": PROTOCOL_VERSION, "kind": kind, **header_fields})
    if len(body_bytes) > _KEEP_PACKERS_BYTES:
        # A packer keeps the largest buffer it ever needed: not one this large.
        _local.packers = _Packers()
    return [header, body_bytes, *buffers]


def _buffer_of(frame):
    """What a frame's bytes are read through: bytes as they are, any other buffer (a
    zmq.Frame is one) through a memoryview, else the object's ``buffer``."""
    if type(frame) is bytes:
        return frame
    try:
        return memoryview(frame)
    except TypeError:
        return frame.buffer if hasattr(frame, "buffer") else frame


def _frame_view(frame, writeable=False):
    """A byte view of an array frame; the decoded arrays are views over it. Read-only
    unless asked (a zmq.Frame's own buffer is writable)."""
    try:
        view = memoryview(frame)
    except TypeError:
        view = memoryview(_buffer_of(frame))
    view = view.cast("B")
    return view if writeable and not view.readonly else view.toreadonly()


def _array_from(buffers, payload, max_array_bytes):
    try:
        index, name, shape = payload
    except (TypeError, ValueError):
        raise ProtocolError("array extension must be [frame index, dtype, shape]") from None
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError(f"array refers to frame {shorten(index)}, but the message has "
                            f"{len(buffers)} array frame(s)")
    dtype = _WIRE_DTYPES.get(name)
    if dtype is None:
        raise ProtocolError(f"dtype {shorten(name)} is not allowed; allowed: {sorted(DTYPES)}")
    if not isinstance(shape, list):
        raise ProtocolError(f"array shape {shorten(shape)} must be a list of non-negative "
                            "integers")
    if len(shape) > _MAX_DIMS:
        # (checked first: the product of thousands of giant integers costs quadratic time)
        raise ProtocolError(f"array has {len(shape)} dimensions; numpy allows at most "
                            f"{_MAX_DIMS}")
    count = 1
    for n in shape:
        if type(n) is not int or n < 0:
            raise ProtocolError(f"array shape {shorten(shape)} must be a list of "
                                "non-negative integers")
        count *= n
    buf = buffers[index]
    nbytes = count * dtype.itemsize
    if max_array_bytes is not None and nbytes > max_array_bytes:
        raise LimitExceeded(f"array of shape {shorten(tuple(shape))} and dtype {name} holds "
                            f"{nbytes} bytes; the limit is {max_array_bytes}",
                            limit="max_array_bytes")
    if nbytes != len(buf):
        raise ProtocolError(f"array frame {index} holds {len(buf)} bytes, but dtype {name} "
                            f"and shape {shorten(tuple(shape))} need {nbytes}")
    if count:
        return np.ndarray(shape, dtype, buf)   # read-only, as its buffer is (_frame_view)
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
        if code == EXT_ARRAY:
            return _array_from(self.buffers, msgpack.unpackb(data), self.max_array_bytes)
        if code == EXT_HANDLE:
            h = msgpack.unpackb(data)
            if not isinstance(h, int) or isinstance(h, bool):
                raise ProtocolError(f"a handle must be an integer, got {shorten(h)}")
            return Ref(h)
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


def decode(frames, max_depth=64, max_array_bytes=None, header=None, writeable=False):
    """(header, body) from the frames of one message (router identity already removed).

    Arrays in the body are read-only views over their frames (``writeable``: writable
    ones, for a receiver that hands them on as its own, as a client does with the values
    it fetched). ``header``: what decode_header(frames[0]) returned, if the caller has it
    already.
    """
    if len(frames) < 2:
        raise ProtocolError(f"a message needs a header and a body frame, got {len(frames)} frame(s)")
    if header is None:
        header = decode_header(frames[0])
    buffers = [_frame_view(f, writeable) for f in frames[2:]]
    decoder = _Decoder(buffers, max_depth, max_array_bytes)
    try:
        body = msgpack.unpackb(_buffer_of(frames[1]), ext_hook=decoder.ext_hook, raw=False,
                               strict_map_key=False)   # (decoder.unpack, one call less)
    except ProtocolError:
        raise
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise ProtocolError(f"body is not valid msgpack: {clip(str(exc), 200)}") from None
    except RecursionError:
        raise ProtocolError("body nests too deeply") from None
    return header, body


def decode_header(frame):
    """The header map of a message's first frame, validated."""
    data = _buffer_of(frame)
    if len(data) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header has {len(data)} bytes; a header may have at most "
                            f"{MAX_HEADER_BYTES}")
    try:
        header = msgpack.unpackb(data, raw=False)
    except Exception as exc:
        raise ProtocolError(f"header is not valid msgpack: {clip(str(exc), 200)}") from None
    if not isinstance(header, dict):
        raise ProtocolError("header must be a map")
    v = header.get("v")
    if type(v) is not int or v != PROTOCOL_VERSION:
        raise VersionError(f"protocol version {shorten(v)} is not supported "
                           f"(this side speaks {PROTOCOL_VERSION})")
    if not isinstance(header.get("kind"), str):
        raise ProtocolError("header needs a string 'kind'")
    return header


def error_object(type_, message, **fields):
    """An error as it crosses the wire: type, message and optional seq/op/limit fields."""
    err = {"type": type_, "message": message}
    err.update({k: v for k, v in fields.items() if v is not None})
    return err
