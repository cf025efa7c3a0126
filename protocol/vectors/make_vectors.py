#!/usr/bin/env python3
"""Write the golden wire vectors of protocol/PROTOCOL.md into this directory.

    python protocol/vectors/make_vectors.py            # rewrite every NAME.json here
    python protocol/vectors/make_vectors.py --out DIR  # write them somewhere else

Each vector is one message, built here as Python values and encoded with
``adproto.encode``. NAME.json holds:

    description  what the message is and what it shows
    frames       every frame of the message, in order, as lowercase hex strings
                 (the ROUTER identity frame is not part of a message)
    decoded      {"header": ..., "body": ...} in the JSON rendering below

JSON rendering of a decoded value (PROTOCOL.md, "Golden vectors", says the same):

    nil, bool, int, str          JSON null, true/false, integer, string
    float                        JSON number with a fraction or exponent (1.0, not 1);
                                 non-finite: {"$float": "nan" | "inf" | "-inf"}
    msgpack array                JSON array
    msgpack map                  JSON object, in wire order, when every key is a string
                                 not starting with "$"; otherwise {"$map": [[k, v], ...]}
    bin                          {"$bin": "hex"}
    handle (ext 2)               {"$ref": h}
    tuple (ext 4)                {"$tuple": [items]}
    slice (ext 5)                {"$slice": [start, stop, step]}
    Ellipsis (ext 6)             {"$ellipsis": null}
    complex (ext 3)              {"$complex": [re, im]}
    array (ext 1)                {"$array": {"frame": i, "dtype": name, "shape": [..],
                                             "data": [elements, flat, row-major]}}
                                 complex elements are [re, im]; float elements follow
                                 the float rule, except non-finite ones are the strings
                                 "nan", "inf", "-inf"; bool elements are true/false.

The output is deterministic: the same code always writes the same bytes.
"""
import argparse
import hashlib
import hmac
import json
import math
import os
import sys

import numpy as np

import adproto
from adproto import Ref, kinds

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(os.path.dirname(HERE), "PROTOCOL.md")

SID = "5e55101d0123456789abcdef00c0ffee"   # a session id as the daemon makes them: 32 hex
SERVER = "adserver 0.1.0"
LIMITS = {                                  # the daemon's defaults (adserver/limits.py)
    "max_message_bytes": 1 << 30,
    "max_frames": 4096,
    "max_ops_per_batch": 100_000,
    "max_array_bytes": 1 << 30,
    "max_live_handles": 1_000_000,
    "max_callback_depth": 64,
    "max_sessions": 1024,
    "max_sessions_per_connection": 16,
    "max_session_bytes": 1 << 33,
    "lease_seconds": 600.0,
    "max_backward_seconds": 600.0,
    "callback_timeout_seconds": 300.0,
    "max_tapes": 256,
    "max_op_cost": 1e10,
}

# The authentication example (PROTOCOL.md section 15.2): a token, the daemon's nonce and the
# client's cnonce, all fixed so that the vectors are reproducible. Real ones are random.
TOKEN = bytes(range(32))                                  # 000102...1f
NONCE = bytes.fromhex("a0" * 16 + "b1" * 16)
CNONCE = bytes.fromhex("c2" * 16 + "d3" * 16)
MAC = hmac.new(TOKEN, b"adserver-v1-hello" + NONCE + CNONCE, hashlib.sha256).hexdigest()
PROOF = hmac.new(TOKEN, b"adserver-v1-welcome" + NONCE + CNONCE + SID.encode("ascii"),
                 hashlib.sha256).hexdigest()


def _client(req):
    return {"req": req, "session": SID}


def vectors():
    """[(name, description, kind, header fields, body)], in a fixed order."""
    f64 = np.array([[0.5, -1.0, 2.0], [3.25, 0.0, -0.125]], dtype=np.float64)
    f32 = np.array([1.5, -2.0, 0.25], dtype=np.float32)
    i64 = np.array([[1, -2], [3, 4], [5, -6]], dtype=np.int64)
    c128 = np.array([1 + 2j, -0.5j, 3 + 0j], dtype=np.complex128)
    mask = np.array([[True, False, True], [False, True, False]])
    scalar = np.array(2.0)                       # a 0-d array: shape [], 8 bytes
    empty = np.zeros((0, 3), dtype=np.uint8)     # a zero-size array: an empty frame

    batch_ops = [
        [1, "array", 1, [f64], None],
        [2, "array", 2, [f32], None],
        [3, "array", 3, [i64], None],
        [4, "multiply", 4, [Ref(1), scalar], None],
        [5, "add", 5, [Ref(4), Ref(2)], None],
        [6, "multiply", 6, [Ref(1), c128], None],
        [7, "add", 7, [Ref(6), complex(1.0, -1.0)], None],
        [8, "where", 8, [mask, Ref(5), 0.0], None],
        [9, "getitem", 9, [Ref(8), (Ellipsis, slice(None, None, -1))], None],
        [10, "getitem", 10, [Ref(8), (slice(0, 1, None), 2)], None],
        [11, "reshape", 11, [Ref(9), (3, 2)], None],
        [12, "tensordot", 12, [Ref(1), Ref(3), ((1,), (0,))], None],
        [13, "sum", 13, [Ref(12)], {"axis": (0, 1), "keepdims": True}],
        [14, "concatenate", 14, [[Ref(1), Ref(8)]], {"axis": 0}],
        [15, "array", 15, [empty], None],
        [16, "release", None, [[4, 6]], None],
    ]
    grad_sin_ops = [
        [1, "trace.push", None, [1], None],
        [2, "box", 1, [np.array(1.0), 1], None],
        [3, "sin", 2, [Ref(1)], None],
        [4, "trace.pop", None, [1], None],
        [5, "vjp", [3], [Ref(2), None, [Ref(1)], 1], {"scalar": True}],
    ]

    def described(h):
        return {"h": Ref(h), "shape": [], "dtype": "float64", "level": 0}

    return [
        ("hello", "Client opens a session: the protocol versions it speaks and its name. "
                  "No session field yet; req numbers the client's messages from 1.",
         kinds.HELLO, {"req": 1}, {"versions": [1], "client": "adclient"}),
        ("welcome", "Daemon accepts the hello: the new session id, the version chosen, "
                    "the daemon's name and its limits (the defaults here). req echoes the "
                    "hello's.",
         kinds.WELCOME, {"req": 1},
         {"session": SID, "version": 1, "server": SERVER, "limits": dict(LIMITS)}),
        ("batch_ops", "A fire-and-forget batch (no sync): uploads of float64, float32, int64 "
                      "and zero-size uint8 arrays, a 0-d float64 array, a complex128 array "
                      "and a bool mask as inline arguments, a complex scalar, handle refs, "
                      "index tuples with Ellipsis and slices, shape tuples, nested tuples "
                      "(tensordot axes), a list argument, kwargs, and the releases riding "
                      "at the end. Arrays take frames 2.. in the order they appear.",
         kinds.BATCH, _client(3), {"ops": batch_ops}),
        ("batch_fetch_meta", "A sync batch after batch_ops: one more op, then the values "
                             "of two handles (one as a handle ref, one as a plain integer; "
                             "both are accepted) and the [shape, dtype, level] of two more.",
         kinds.BATCH, _client(4),
         {"ops": [[17, "sum", 16, [Ref(11)], {"axis": 0}]], "sync": True,
          "fetch": [Ref(16), 13], "meta": [Ref(11), Ref(7)]}),
        ("result_values", "The daemon's reply to batch_fetch_meta: values as arrays (a "
                          "scalar would be a 0-d array), meta as [shape, dtype, level], "
                          "error nil because every op since the last sync succeeded.",
         kinds.RESULT, {"req": 4},
         {"values": [np.array([4.75, 0.0]), np.array([[-12.625]])],
          "meta": [[[3, 2], "float64", 0], [[2, 3], "complex128", 0]], "error": None}),
        ("batch_grad_sin", "grad(sin)(1.0) as adclient sends it, in one sync batch: push "
                           "trace level 1, box the input (sent inline as a 0-d array) at "
                           "level 1, sin, pop level 1, vjp with a nil cotangent and "
                           "scalar=true, and fetch the cotangent.",
         kinds.BATCH, _client(2),
         {"ops": grad_sin_ops, "sync": True, "fetch": [Ref(3)], "meta": []}),
        ("result_grad_sin", "The reply to batch_grad_sin: cos(1.0) as a 0-d float64 array.",
         kinds.RESULT, {"req": 2},
         {"values": [np.array(0.5403023058681398)], "meta": [], "error": None}),
        ("result_error", "A sync reply reporting a deferred error: the first failure since "
                         "the last sync (with the op's seq and name), the number of errors "
                         "since then, and nil for a fetched handle that the failure "
                         "poisoned.",
         kinds.RESULT, {"req": 5},
         {"values": [None], "meta": [],
          "error": {"type": "UnknownOp", "message": "no op named 'frobnicate'",
                    "seq": 18, "op": "frobnicate"},
          "errors": 2}),
        ("callback", "The daemon asks the client for the VJP of its primitive 1 ('mypow', "
                     "called as mypow(x, 3.0)) in the middle of a backward pass. g, ans "
                     "and the traced argument travel as daemon-allocated negative handles "
                     "with shape, dtype and level; the constant argument travels by value. "
                     "level is the trace level the pass runs at, where the client's "
                     "gradient function runs. A callback has no req.",
         kinds.CALLBACK, {},
         {"cb": 1, "prim": 1, "name": "mypow", "argnums": [0], "g": described(-1),
          "ans": described(-2), "args": [described(-3), {"c": 3.0}], "kwargs": {},
          "level": 0}),
        ("callback_return", "The client's answer to callback 1: one cotangent per argnums "
                            "entry, here the handle its gradient function computed with "
                            "ops it sent just before; error nil.",
         kinds.CALLBACK_RETURN, _client(6), {"cb": 1, "grads": [Ref(9)], "error": None}),
        ("error", "An error reply to a whole message (here a batch over the op limit): "
                  "req echoes the message's, limit names the limit that was hit.",
         kinds.ERROR, {"req": 7},
         {"error": {"type": "LimitError",
                    "message": "batch has 100001 ops; the limit is 100000 "
                               "(--max-ops-per-batch)",
                    "limit": "max_ops_per_batch"}}),
        ("ping", "A liveness check; needs no session.", kinds.PING, {"req": 1}, {}),
        ("pong", "The reply to ping: the daemon's name and how many sessions it serves.",
         kinds.PONG, {"req": 1}, {"server": SERVER, "sessions": 3}),
        ("challenge", "A daemon that requires the token answers a hello without proof with a "
                      "challenge: a fresh 32-byte nonce (64 hex digits; fixed here) for this "
                      "connection. req echoes the hello's.",
         kinds.CHALLENGE, {"req": 1}, {"nonce": NONCE.hex(), "method": "hmac-sha256"}),
        ("hello_auth", "The client's second hello, answering the challenge: its own 32-byte "
                       "cnonce and mac = HMAC-SHA256(token, 'adserver-v1-hello' || nonce || "
                       "cnonce), over the raw bytes, as hex. The token here is the bytes "
                       "00 01 02 ... 1f.",
         kinds.HELLO, {"req": 2},
         {"versions": [1], "client": "adclient",
          "auth": {"nonce": NONCE.hex(), "cnonce": CNONCE.hex(), "mac": MAC}}),
        ("welcome_auth", "The welcome after hello_auth: proof = HMAC-SHA256(token, "
                         "'adserver-v1-welcome' || nonce || cnonce || session id as ASCII) "
                         "shows the client that the daemon holds the token too.",
         kinds.WELCOME, {"req": 2},
         {"session": SID, "version": 1, "server": SERVER, "limits": dict(LIMITS),
          "proof": PROOF}),
        ("redirect", "A front door (adserver --workers) answers hello by sending the client "
                     "to a worker, which it then says hello to; the session lives there.",
         kinds.REDIRECT, {"req": 1}, {"address": "tcp://127.0.0.1:5758", "worker": 1}),
        ("ping_keepalive", "A ping that names the client's session refreshes its lease; the "
                           "client sends one when it has been quiet for half a lease and has "
                           "no ops to send. The pong is as for any ping.",
         kinds.PING, _client(9), {}),
        ("cancel", "The client stops its session's batches: the one running stops between "
                   "ops or backward nodes, and those received before the cancel do not run. "
                   "No reply of its own: the cancelled sync batch's result reports it.",
         kinds.CANCEL, _client(10), {}),
        ("status", "Ask a daemon about its load; needs no session (loopback peers, or the "
                   "token through a challenge).", kinds.STATUS, {"req": 1}, {}),
        ("status_reply", "The answer to status: sessions, live handles, bytes held, ops "
                         "executed and per second, and more (section 5.10).",
         kinds.STATUS_REPLY, {"req": 1},
         {"server": SERVER, "address": "tcp://127.0.0.1:5757", "pid": 4242, "uptime": 12.5,
          "sessions": 2, "handles": 17, "bytes": 4096, "suspended": 0, "ops": 1234,
          "ops_per_second": 98.75, "messages": 40, "backlog": 0, "auth": "token",
          "curve": False, "limits": dict(LIMITS)}),
        ("bye", "The client ends its session; everything the session holds is freed.",
         kinds.BYE, _client(8), {}),
        ("goodbye", "The daemon confirms the bye.", kinds.GOODBYE, {"req": 8}, {}),
    ]


# --- JSON rendering ------------------------------------------------------------------------
def _float(x):
    if math.isfinite(x):
        return x
    return {"$float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def _element(x):
    if isinstance(x, complex):
        return [_element(x.real), _element(x.imag)]
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def render(value, frames):
    """The JSON rendering of a message value; ``frames`` counts arrays as they appear."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, Ref):
        return {"$ref": value.handle}
    if isinstance(value, tuple):
        return {"$tuple": [render(v, frames) for v in value]}
    if isinstance(value, slice):
        return {"$slice": [render(v, frames) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"$ellipsis": None}
    if isinstance(value, complex):
        return {"$complex": [_float(value.real), _float(value.imag)]}
    if isinstance(value, (bytes, bytearray)):
        return {"$bin": bytes(value).hex()}
    if isinstance(value, np.ndarray):
        index = frames[0]
        frames[0] += 1
        return {"$array": {"frame": index, "dtype": value.dtype.name,
                           "shape": list(value.shape),
                           "data": [_element(x) for x in value.ravel().tolist()]}}
    if isinstance(value, list):
        return [render(v, frames) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: render(v, frames) for k, v in value.items()}
        return {"$map": [[render(k, frames), render(v, frames)] for k, v in value.items()]}
    raise TypeError(f"no JSON rendering for {type(value).__name__}")


def vector_json(name, description, kind, fields, body):
    frames = adproto.encode(kind, body, **fields)
    header = {"v": adproto.PROTOCOL_VERSION, "kind": kind, **fields}
    doc = {"description": description,
           "frames": [bytes(f).hex() for f in frames],
           "decoded": {"header": header, "body": render(body, [0])}}
    return _pretty(doc) + "\n"


def _pretty(value, indent=0, width=96):
    """JSON with one value per line where it fits in ``width`` columns, else expanded."""
    flat = json.dumps(value, ensure_ascii=True, allow_nan=False)
    if len(flat) + indent <= width or not isinstance(value, (dict, list)) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {_pretty(v, indent + 2, width).lstrip()}"
                 for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + _pretty(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def write_vectors(out):
    os.makedirs(out, exist_ok=True)
    names = []
    for name, description, kind, fields, body in vectors():
        with open(os.path.join(out, name + ".json"), "w", encoding="ascii", newline="\n") as f:
            f.write(vector_json(name, description, kind, fields, body))
        names.append(name)
    return names


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=HERE, help="directory for NAME.json (default: this one)")
    args = p.parse_args(argv)
    names = write_vectors(args.out)
    print(f"wrote {len(names)} vectors to {args.out}: {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
