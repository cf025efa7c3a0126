"""The golden wire vectors (protocol/vectors/*.json) and the codec's validation rules.

Every vector is checked both ways: decoding its frames gives its "decoded" rendering, and
encoding that rendering again gives the very same bytes. The JSON rendering is read and
written here by code of its own, independent of the generator's, so that the two check
each other. The rest of the file holds the codec's rules from protocol/PROTOCOL.md:
what it refuses (with a clear ProtocolError), and what it normalises (byte order,
memory layout) on the way out.
"""
import importlib.util
import json
import math
import re
from pathlib import Path

import msgpack
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import adproto
from adproto import DTYPES, ProtocolError, Ref, decode, encode, kinds

ROOT = Path(__file__).resolve().parents[1]
VECTOR_DIR = ROOT / "protocol" / "vectors"
SPEC = ROOT / "protocol" / "PROTOCOL.md"
VECTORS = sorted(VECTOR_DIR.glob("*.json"))
HEADER = adproto.pack_header(kinds.BATCH, req=1)


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_vectors", VECTOR_DIR / "make_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path):
    with open(path, encoding="ascii") as f:
        return json.load(f)


def _frames(doc):
    return [bytes.fromhex(h) for h in doc["frames"]]


# --- the JSON rendering, read and written independently of make_vectors.py ----------------
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_json(value, counter):
    """Render a decoded value; ``counter[0]`` is the next array frame, in wire order."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        return value
    if type(value) is Ref:
        return {"$ref": value.handle}
    if isinstance(value, tuple):
        return {"$tuple": [to_json(v, counter) for v in value]}
    if isinstance(value, slice):
        return {"$slice": [to_json(value.start, counter), to_json(value.stop, counter),
                           to_json(value.step, counter)]}
    if value is Ellipsis:
        return {"$ellipsis": None}
    if isinstance(value, complex):
        return {"$complex": [to_json(value.real, counter), to_json(value.imag, counter)]}
    if isinstance(value, bytes):
        return {"$bin": value.hex()}
    if isinstance(value, np.ndarray):
        frame = counter[0]
        counter[0] += 1
        data = []
        for x in value.reshape(-1).tolist():
            if isinstance(x, complex):
                x = [_element_out(x.real), _element_out(x.imag)]
            else:
                x = _element_out(x)
            data.append(x)
        return {"$array": {"frame": frame, "dtype": value.dtype.name,
                           "shape": list(value.shape), "data": data}}
    if isinstance(value, list):
        return [to_json(v, counter) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: to_json(v, counter) for k, v in value.items()}
        return {"$map": [[to_json(k, counter), to_json(v, counter)] for k, v in value.items()]}
    raise AssertionError(f"the decoder produced a {type(value).__name__}")


def _element_out(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def from_json(node, counter):
    """The message value a rendering stands for (the inverse of to_json)."""
    if isinstance(node, list):
        return [from_json(v, counter) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        (tag, arg), = node.items()
        if tag == "$ref":
            return Ref(arg)
        if tag == "$tuple":
            return tuple(from_json(v, counter) for v in arg)
        if tag == "$slice":
            return slice(*(from_json(v, counter) for v in arg))
        if tag == "$ellipsis":
            return Ellipsis
        if tag == "$complex":
            re_, im = (from_json(v, counter) for v in arg)
            return complex(re_, im)
        if tag == "$float":
            return _NONFINITE[arg]
        if tag == "$bin":
            return bytes.fromhex(arg)
        if tag == "$map":
            return {from_json(k, counter): from_json(v, counter) for k, v in arg}
        if tag == "$array":
            assert arg["frame"] == counter[0], "array frames are numbered in wire order"
            counter[0] += 1
            dtype = np.dtype(arg["dtype"])
            if dtype.kind == "c":
                data = [complex(_element_in(r), _element_in(i)) for r, i in arg["data"]]
            else:
                data = [_element_in(x) for x in arg["data"]]
            return np.array(data, dtype=dtype).reshape(arg["shape"])
    assert not any(k.startswith("$") for k in node), f"unknown rendering tag in {node}"
    return {k: from_json(v, counter) for k, v in node.items()}


def _element_in(x):
    return _NONFINITE[x] if isinstance(x, str) else x


# --- the vectors -----------------------------------------------------------------------------
def test_there_are_vectors_for_every_message_kind():
    assert len(VECTORS) >= 12
    seen = {_read(p)["decoded"]["header"]["kind"] for p in VECTORS}
    assert seen == kinds.CLIENT_KINDS | kinds.DAEMON_KINDS


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_vector_decodes_to_its_rendering(path):
    doc = _read(path)
    assert set(doc) == {"description", "frames", "decoded"} and doc["description"]
    header, body = decode(_frames(doc))
    counter = [0]
    rendered = {"header": to_json(header, [0]), "body": to_json(body, counter)}
    # Compared as JSON text: strict about key order and about 1 versus 1.0.
    assert json.dumps(rendered) == json.dumps(doc["decoded"])
    assert counter[0] == len(doc["frames"]) - 2, "every array frame is used, once"
    assert header["v"] == adproto.PROTOCOL_VERSION
    assert list(header)[:2] == ["v", "kind"]
    if header["kind"] in kinds.CLIENT_KINDS - {kinds.HELLO, kinds.PING, kinds.STATUS}:
        assert isinstance(header.get("session"), str)
    if header["kind"] == kinds.CALLBACK:
        assert "req" not in header
    elif header["kind"] in kinds.DAEMON_KINDS:
        assert "session" not in header and isinstance(header.get("req"), int)


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.stem)
def test_vector_reencodes_byte_for_byte(path):
    doc = _read(path)
    header = doc["decoded"]["header"]
    counter = [0]
    body = from_json(doc["decoded"]["body"], counter)
    fields = {k: v for k, v in header.items() if k not in ("v", "kind")}
    frames = [bytes(f) for f in encode(header["kind"], body, **fields)]
    assert [f.hex() for f in frames] == doc["frames"]
    # And once more from the decoded values themselves.
    header2, body2 = decode(frames)
    again = encode(header2["kind"], body2, **{k: v for k, v in header2.items()
                                              if k not in ("v", "kind")})
    assert [bytes(f) for f in again] == frames


def test_generator_is_deterministic_and_the_stored_vectors_are_current(tmp_path):
    gen = _load_generator()
    a, b = tmp_path / "a", tmp_path / "b"
    names = gen.write_vectors(str(a))
    assert gen.write_vectors(str(b)) == names
    assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in VECTORS), \
        "protocol/vectors/ holds exactly the generated vectors"
    for p in a.iterdir():
        assert p.read_bytes() == (b / p.name).read_bytes(), f"{p.name} is not deterministic"
        assert p.read_bytes() == (VECTOR_DIR / p.name).read_bytes(), \
            f"{p.name} is stale: run python protocol/vectors/make_vectors.py"


def test_spec_names_every_vector():
    text = SPEC.read_text(encoding="utf-8")
    for p in VECTORS:
        assert f"`{p.stem}`" in text, f"PROTOCOL.md does not mention vector {p.stem}"


# --- the vectors against a daemon session (in process, no sockets) ----------------------------
def _vector(name):
    header, body = decode(_frames(_read(VECTOR_DIR / f"{name}.json")))
    return header, body


def _reply_frames(message):
    kind, body = message[0], message[1]
    req = message[2] if len(message) > 2 else None
    return [bytes(f) for f in encode(kind, body, **({} if req is None else {"req": req}))]


def _session():
    from adserver.limits import Limits
    from adserver.session import Session
    return Session("sid", b"identity", Limits())


def test_batch_vectors_give_the_result_vector_on_a_daemon_session():
    s = _session()
    header, body = _vector("batch_ops")
    assert s.on_batch(body, header["req"]) == []          # fire and forget: no reply
    header, body = _vector("batch_fetch_meta")
    (reply,) = s.on_batch(body, header["req"])
    assert _reply_frames(reply) == _frames(_read(VECTOR_DIR / "result_values.json"))
    assert 4 not in s.handles and 6 not in s.handles      # the releases at the end ran


def test_grad_sin_vector_gives_cos_1():
    s = _session()
    header, body = _vector("batch_grad_sin")
    ((kind, reply, req),) = s.on_batch(body, header["req"])
    expected = _vector("result_grad_sin")
    assert (kind, req) == (expected[0]["kind"], expected[0]["req"])
    assert reply["error"] is None and reply["meta"] == []
    np.testing.assert_allclose(reply["values"][0], expected[1]["values"][0], rtol=1e-15)
    assert reply["values"][0].shape == () and reply["values"][0].dtype == np.float64


def test_callback_vectors_match_the_daemons_exchange():
    s = _session()
    # The client's side of the example in PROTOCOL.md: mypow(x, 3.0) at x = 2.0.
    out = s.on_batch({"ops": [
        [1, "trace.push", None, [1], None],
        [2, "box", 4, [np.array(2.0), 1], None],
        [3, "custom", 5, [np.array(8.0), Ref(4), 3.0],
         {"prim": 1, "name": "mypow", "kwargs": None}],
        [4, "trace.pop", None, [1], None],
        [5, "vjp", [6], [Ref(5), None, [Ref(4)], 1], {"scalar": True}],
    ], "sync": True, "fetch": [Ref(6)], "meta": []}, 5)
    (callback,) = out
    assert _reply_frames(callback) == _frames(_read(VECTOR_DIR / "callback.json"))
    # The gradient function's own ops, then the callback_return vector.
    assert s.on_batch({"ops": [
        [6, "multiply", 7, [Ref(-1), 3.0], None],
        [7, "power", 8, [Ref(-3), 2.0], None],
        [8, "multiply", 9, [Ref(7), Ref(8)], None],
    ]}, 6) == []
    header, body = _vector("callback_return")
    ((kind, reply, req),) = s.on_callback_return(body)
    assert (kind, req, reply["error"]) == (kinds.RESULT, 5, None)
    assert reply["values"][0].tolist() == 12.0


# --- what the codec refuses -------------------------------------------------------------------
def _ext(code, payload):
    return msgpack.ExtType(code, msgpack.packb(payload, use_bin_type=True))


def _body(value):
    return msgpack.packb(value, use_bin_type=True)


def _refused(frames, match):
    with pytest.raises(ProtocolError, match=match):
        decode(frames)


@pytest.mark.parametrize("v", [0, 2, 99, "1", None])
def test_wrong_version_is_refused(v):
    header = msgpack.packb({"kind": "batch"} if v is None else {"v": v, "kind": "batch"})
    _refused([header, _body({})], re.escape(f"protocol version {v!r} is not supported"))


@pytest.mark.parametrize("header", [[1, "batch"], "batch", 1, None, b"\x01"])
def test_header_must_be_a_map(header):
    _refused([msgpack.packb(header, use_bin_type=True), _body({})], "header must be a map")


def test_header_needs_kind_and_valid_msgpack():
    _refused([msgpack.packb({"v": 1}), _body({})], "header needs a string 'kind'")
    _refused([msgpack.packb({"v": 1, "kind": 3}), _body({})], "header needs a string 'kind'")
    _refused([b"\xc1", _body({})], "header is not valid msgpack")
    _refused([msgpack.packb({1: 1, "v": 1, "kind": "x"}), _body({})],
             "header is not valid msgpack")


@pytest.mark.parametrize("n", [0, 1])
def test_a_message_needs_header_and_body(n):
    _refused([HEADER, _body({})][:n], f"needs a header and a body frame, got {n}")


@pytest.mark.parametrize("code", [0, 7, 42, 127])
def test_unknown_extension_code_is_refused(code):
    _refused([HEADER, _body([msgpack.ExtType(code, b"")])], f"unknown extension type {code}")


@pytest.mark.parametrize("index", [1, 5, -1, "0", None])
def test_array_frame_index_out_of_range(index):
    frames = [HEADER, _body([_ext(1, [index, "float64", [1]])]), b"\0" * 8]
    _refused(frames, re.escape(f"array refers to frame {index!r}, but the message has "
                               "1 array frame(s)"))


def test_array_frame_missing_from_a_vector():
    frames = _frames(_read(VECTOR_DIR / "batch_ops.json"))[:-1]
    _refused(frames, "array refers to frame 6, but the message has 6 array frame")


@pytest.mark.parametrize("dtype", ["object", "datetime64[ns]", "timedelta64", "float128",
                                   "<f8", "f8", "U4", "S3", "void", "", 7])
def test_decoder_refuses_dtypes_outside_the_whitelist(dtype):
    frames = [HEADER, _body([_ext(1, [0, dtype, [1]])]), b"\0" * 8]
    _refused(frames, re.escape(f"dtype {dtype!r} is not allowed"))


@pytest.mark.parametrize("array", [
    np.array([1, "a", None], dtype=object),
    np.array(["2024-01-01"], dtype="datetime64[D]"),
    np.array([1], dtype="timedelta64[s]"),
    np.array(["ab"]),
    np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),
    np.zeros(2, dtype=np.longdouble) if np.dtype(np.longdouble).itemsize > 8 else
    np.array([None], dtype=object),
], ids=["object", "datetime64", "timedelta64", "str", "structured", "longdouble"])
def test_encoder_refuses_dtypes_outside_the_whitelist(array):
    with pytest.raises(ProtocolError, match="cannot be sent; allowed:"):
        encode(kinds.BATCH, {"ops": [[1, "array", 1, [array], None]]})


@pytest.mark.parametrize("dtype,shape,nbytes", [
    ("float64", [2], 15), ("float64", [2], 17), ("float64", [], 0), ("int32", [3, 2], 20),
    ("complex128", [1], 8), ("bool", [0], 1), ("uint8", [2, 0, 3], 6),
])
def test_byte_count_must_match_dtype_and_shape(dtype, shape, nbytes):
    need = int(np.prod(shape)) * np.dtype(dtype).itemsize
    frames = [HEADER, _body(_ext(1, [0, dtype, shape])), b"\0" * nbytes]
    _refused(frames, re.escape(f"array frame 0 holds {nbytes} bytes, but dtype {dtype} and "
                               f"shape {tuple(shape)} need {need}"))


@pytest.mark.parametrize("shape", [[-1], [2, -3], [1.5], 3, None, ["2"]])
def test_shape_must_be_a_list_of_non_negative_integers(shape):
    frames = [HEADER, _body(_ext(1, [0, "float64", shape])), b"\0" * 8]
    _refused(frames, "must be a list of non-negative integers")


def test_array_payload_must_have_three_fields():
    _refused([HEADER, _body(_ext(1, [0, "float64"])), b"\0" * 8],
             re.escape("array extension must be [frame index, dtype, shape]"))


def _nested_tuples(depth):
    value = 1
    for _ in range(depth):
        value = (value,)
    return value


def test_tuple_nesting_is_bounded():
    assert decode(encode(kinds.BATCH, _nested_tuples(64)))[1] == _nested_tuples(64)
    _refused(encode(kinds.BATCH, _nested_tuples(65)), "values nest deeper than 64 levels")
    # Slices count as a level too.
    deep = slice(_nested_tuples(64), None, None)
    _refused(encode(kinds.BATCH, deep), "values nest deeper than 64 levels")
    # Far deeper, written by hand (the encoder itself does not bound nesting).
    data = b"\x01"
    for _ in range(2000):
        data = msgpack.packb(msgpack.ExtType(4, b"\x91" + data))
    _refused([HEADER, data], "values nest deeper than 64 levels")


def test_plain_array_nesting_is_bounded_by_msgpack():
    # 2000 nested msgpack arrays, written by hand (msgpack's own packer stops at 512).
    _refused([HEADER, b"\x91" * 2000 + b"\x90"], "body is not valid msgpack")


def test_truncated_body_is_refused_at_every_length():
    frames = _frames(_read(VECTOR_DIR / "batch_ops.json"))
    body = frames[1]
    for n in range(len(body)):
        _refused([frames[0], body[:n], *frames[2:]], "body is not valid msgpack")


def test_trailing_bytes_after_the_body_are_refused():
    _refused([HEADER, _body({}) + b"\x00"], "body is not valid msgpack")


def test_malformed_extension_payloads_are_refused():
    _refused([HEADER, _body(_ext(2, "seven"))], "a handle must be an integer")
    _refused([HEADER, _body(_ext(2, True))], "a handle must be an integer")
    _refused([HEADER, _body(msgpack.ExtType(4, msgpack.packb({"a": 1})))],
             "tuple and slice extensions must hold an array")
    _refused([HEADER, _body(msgpack.ExtType(5, msgpack.packb([1, 2])))],
             re.escape("a slice extension must be [start, stop, step]"))
    _refused([HEADER, _body(_ext(3, ["a", "b"]))], "complex extension must be")


def test_values_the_encoder_cannot_carry():
    for value in ({1, 2}, object(), np.datetime64("2024-01-01")):
        with pytest.raises(ProtocolError, match="cannot encode a value of type"):
            encode(kinds.BATCH, {"x": value})


# --- what the codec normalises ------------------------------------------------------------------
MULTIBYTE = sorted(n for n in DTYPES if np.dtype(n).itemsize > 1)


@pytest.mark.parametrize("name", MULTIBYTE)
def test_big_endian_arrays_arrive_little_endian(name):
    big = (np.arange(6) % 2 == 0).astype(name) * 3 if name != "float16" else \
        np.linspace(-1, 1, 6).astype(name)
    big = big.astype(np.dtype(name).newbyteorder(">")).reshape(2, 3)
    frames = encode(kinds.BATCH, {"x": big})
    assert bytes(frames[2]) == big.astype(np.dtype(name).newbyteorder("<")).tobytes()
    _, body = decode(frames)
    out = body["x"]
    assert out.dtype.name == name and out.dtype.byteorder in "<=|" and out.dtype.isnative
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, big)


@pytest.mark.parametrize("make", [
    lambda a: a[:, ::2], lambda a: a.T, lambda a: np.asfortranarray(a), lambda a: a[::-1],
    lambda a: a[1:, 1:3], lambda a: np.broadcast_to(a[:1], (3, 4)),
], ids=["strided", "transposed", "fortran", "reversed", "window", "broadcast"])
def test_non_contiguous_arrays_arrive_c_contiguous(make):
    view = make(np.arange(12, dtype=np.float64).reshape(3, 4) * 0.5)
    assert not view.flags.c_contiguous
    frames = encode(kinds.BATCH, [view])
    assert bytes(frames[2]) == np.ascontiguousarray(view).tobytes()
    (out,) = decode(frames)[1]
    assert out.flags.c_contiguous and out.shape == view.shape
    np.testing.assert_array_equal(out, view)


def test_arrays_travel_without_a_copy():
    arr = np.arange(1000, dtype=np.float64)
    frames = encode(kinds.BATCH, {"x": arr})
    # Out: the frame is a view of the array's own memory ...
    assert np.shares_memory(np.frombuffer(frames[2], dtype=np.uint8), arr)
    # ... and in: the decoded array is a read-only view of the received frame.
    received = bytes(frames[2])
    out = decode([bytes(frames[0]), bytes(frames[1]), received])[1]["x"]
    assert np.shares_memory(out, np.frombuffer(received, dtype=np.uint8))
    assert not out.flags.writeable


def test_zero_size_and_zero_d_arrays():
    frames = encode(kinds.BATCH, [np.zeros((0, 3), np.float32), np.array(7, np.int16)])
    assert [bytes(f) for f in frames[2:]] == [b"", b"\x07\x00"]
    a, b = decode(frames)[1]
    assert a.shape == (0, 3) and a.dtype == np.float32
    assert b.shape == () and b.dtype == np.int16 and b == 7


def test_scalars_and_containers_round_trip():
    body = {"i": -3, "big": 2**64 - 1, "f": 0.1, "s": "ß", "n": None, "b": True,
            "c": complex(1.5, -2.0), "t": (1, (2.0, [3])), "l": [(), []], "e": Ellipsis,
            "sl": slice(None, 5, -2), "r": Ref(-7), "np": np.float32(0.5), "k": {1: "a"}}
    _, out = decode(encode(kinds.BATCH, body))
    expected = dict(body, np=0.5)
    assert out == expected
    assert type(out["t"]) is tuple and type(out["t"][1][1]) is list and type(out["l"][1]) is list


# --- a property: every whitelisted array survives the trip ------------------------------------
@st.composite
def wire_arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(sorted(DTYPES))))
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder(draw(st.sampled_from("<>=")))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    arr = draw(hnp.arrays(dtype, shape))
    layout = draw(st.sampled_from(["as is", "transposed", "strided"]))
    if layout == "transposed":
        arr = arr.T
    elif layout == "strided" and arr.ndim:
        arr = arr[..., ::2]
    return arr


@settings(max_examples=100, deadline=None)
@given(wire_arrays(), st.integers(min_value=-(2**31), max_value=2**31))
def test_whitelisted_arrays_round_trip(arr, handle):
    frames = encode(kinds.RESULT, {"values": [arr, (Ref(handle), arr)]}, req=1)
    assert len(frames) == 4
    _, body = decode([bytes(f) for f in frames])
    for out in (body["values"][0], body["values"][1][1]):
        assert out.dtype.name == arr.dtype.name and out.dtype.isnative
        assert out.shape == arr.shape and out.flags.c_contiguous
        little = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"))
        assert out.tobytes() == little.tobytes()
        np.testing.assert_array_equal(out, arr)
    assert body["values"][1][0] == Ref(handle)


def test_the_vectors_limits_are_the_daemons_defaults():
    """welcome.limits reports every limit (PROTOCOL.md section 13): the example shows them
    all, at their defaults."""
    from adserver.limits import Limits
    header, body = _vector("welcome")
    assert body["limits"] == Limits().as_dict()
