"""The session's own ops: trace levels, boxes, passes, uploads, releases, shared arrays,
client primitives and tapes (PROTOCOL.md section 8).

Each is ``op(session, seq, out, args, kwargs, frame)``: it resolves its arguments through
the session, stores its answers with ``session._store`` and raises ``OpFailure`` with the
error object for the client. Registry ops (adserver/ops) are the session's other ops.
"""
import numpy as np

from adproto import Ref, error_object
from .engine import (Box, ForwardNode, Primitive, backward, cotangent_dtype, getval_all,
                     new_box, trace_level, zero_cotangent)
from .engine.backward import Batching, backward_seeds
from .ops import OPS, P
from .ops.params import describe
from . import tape as tapes
from .session import OpFailure, _Poisoned, add_cotangents, _bytes_limit, _element, _nbytes, _now


def _client_forward(*args, _result, **kwargs):
    # A client-defined primitive's answer was computed by the client; the session only
    # records the node, so "running" it returns that answer at every level.
    return _result


# --- the session's own ops: trace levels, boxes, passes, uploads, releases -------------
def _op_array(s, seq, out, args, kwargs, frame):
    s._store(out, s.as_array(s._resolve(args[0]), seq, "array"), seq, "array")


def _op_trace_push(s, seq, out, args, kwargs, frame):
    (level,) = args
    if level != s.level + 1:
        raise OpFailure(error_object("TraceError", f"trace.push expected level {s.level + 1}, "
                                     f"the client asked for {level}", seq=seq, op="trace.push"))
    s.level = level


def _op_trace_pop(s, seq, out, args, kwargs, frame):
    (level,) = args
    if level != s.level:
        raise OpFailure(error_object("TraceError", f"trace.pop of level {level}, but the top "
                                     f"level is {s.level}", seq=seq, op="trace.pop"))
    s.level -= 1


def _op_box(s, seq, out, args, kwargs, frame):
    x, level = s.as_array(s._resolve(args[0]), seq, "box"), args[1]
    if not (isinstance(level, int) and 0 < level <= s.level):
        raise OpFailure(error_object("TraceError", f"cannot box at level {level!r}: active "
                                     f"levels are 1..{s.level}", seq=seq, op="box"))
    if trace_level(x) >= level:
        raise OpFailure(error_object("TraceError", f"value is already traced at level "
                                     f"{trace_level(x)} >= {level}", seq=seq, op="box"))
    if type(x) is not Box and not np.issubdtype(np.result_type(x), np.inexact):
        # Integers (an inline 3 from Lua 5.3+, an int array) are differentiated as floats.
        x = np.asarray(x, dtype=np.float64)
    tangent = kwargs.get("tangent")
    if tangent is not None:
        # Forward mode: the box carries its tangent, which must be shaped like the value.
        tangent = s._resolve(tangent)
        if np.shape(getval_all(tangent)) != np.shape(getval_all(x)):
            raise OpFailure(error_object(
                "TraceError", f"tangent of shape {np.shape(getval_all(tangent))} for a value "
                f"of shape {np.shape(getval_all(x))}", seq=seq, op="box"))
    s._store(out, new_box(x, level, tangent), seq, "box")


_batching = None


def _seed_batching():
    """The batched VJP rules (built once, on the first vjp with seeds)."""
    global _batching
    if _batching is None:
        _batching = Batching(P)
    return _batching


def _vjp_seeds(seq, end, g):
    """(the stack of seeds, their count) of a vjp with seeds: g is nil (the identity's
    rows, one per element of end) or shaped (count,) + end's shape."""
    end_shape = np.shape(getval_all(end))
    if g is None:
        return None, int(np.prod(end_shape, dtype=np.int64))
    g_shape = np.shape(getval_all(g))
    if len(g_shape) < 1 or tuple(g_shape[1:]) != tuple(end_shape):
        raise OpFailure(error_object(
            "GradientError", f"vjp with seeds: g has shape {tuple(g_shape)}, but it must be "
            f"(count,) + the shape of end, {tuple(end_shape)}: one cotangent per row",
            seq=seq, op="vjp"))
    return g, g_shape[0]


def _check_seed_bytes(s, seq, count, end, starts):
    """A pass with ``count`` seeds carries ``count`` cotangents of end and of each start
    at once (a jacobian of R^n holds n rows of n): refused before the identity's rows or
    the stacked cotangents exist if that breaks --max-session-bytes."""
    width = np.size(getval_all(end)) + sum(np.size(getval_all(st)) for st in starts)
    need = int(count) * int(width) * 8
    if s.nbytes + need > s.limits.max_session_bytes:
        raise OpFailure(_bytes_limit(s.nbytes, need, s.limits, seq, "vjp"))


def _op_vjp(s, seq, out, args, kwargs, frame):
    """args: [end, cotangent or nil, [start boxes], level]; out: one handle per start.

    With kwargs ``seeds``, g is a stack of cotangents (nil: the rows of the identity)
    and each out gets the stack of the start's cotangents, one pass for all of them.
    """
    end, g, starts, level = s._resolve(args[0]), s._resolve(args[1]), \
        s._resolve(args[2]), args[3]
    if g is not None:
        g = s.as_array(g, seq, "vjp")
    if not isinstance(out, list) or len(out) != len(starts):
        raise OpFailure(error_object("ProtocolError", "vjp needs one output handle per start",
                                     seq=seq, op="vjp"))
    for st in starts:
        if type(st) is not Box or st._level != level or st._node.parents:
            raise OpFailure(error_object("TraceError", f"vjp start is not a value boxed at "
                                         f"level {level}", seq=seq, op="vjp"))
    if kwargs.get("scalar") and np.size(getval_all(end)) != 1:
        raise OpFailure(error_object(
            "GradientError", f"grad only applies to real scalar-output functions; this one "
            f"returned shape {np.shape(getval_all(end))}. Try elementwise_grad or jacobian.",
            seq=seq, op="vjp"))
    if kwargs.get("seeds"):
        g, count = _vjp_seeds(seq, end, g)
        _check_seed_bytes(s, seq, count, end, starts)
        if type(end) is not Box or end._level != level:
            s._store(out, [zero_cotangent(st, count) for st in starts], seq, "vjp")
            return
        frame.gen = backward_seeds(end._node, g, count, [st._node for st in starts],
                                   add_cotangents, _seed_batching(),
                                   lambda: s._pass_check(frame))
    elif type(end) is not Box or end._level != level:
        s._store(out, [zero_cotangent(st) for st in starts], seq, "vjp")
        return
    else:
        if g is None:
            g = np.ones_like(np.asarray(getval_all(end._value)),
                             dtype=cotangent_dtype(getval_all(end._value)))
        frame.gen = backward(end._node, g, [st._node for st in starts], add_cotangents,
                             lambda: s._pass_check(frame))
    limit = s.limits.max_backward_seconds
    frame.pass_left = limit if limit > 0 else float("inf")
    frame.gen_op = (seq, out, starts)
    try:
        s._step(frame, None)
    except Exception:
        frame.gen = None
        raise


def _op_tangent(s, seq, out, args, kwargs, frame):
    """args: [x, level]: the forward-mode tangent of x at ``level`` (zeros if x is constant).

    Boxes of higher levels are looked through: the tangent of level 1 under a box of
    level 2 is the level-1 box's.
    """
    x, level = s._resolve(args[0]), args[1]
    while type(x) is Box and x._level > level:
        x = x._value
    if type(x) is Box and x._level == level:
        if type(x._node) is not ForwardNode:
            raise OpFailure(error_object("TraceError", f"level {level} is traced in reverse "
                                         "mode; it has no tangents", seq=seq, op="tangent"))
        s._store(out, x._node.tangent, seq, "tangent")
        return
    while type(x) is Box and x._level >= level:
        x = x._value
    s._store(out, zero_cotangent(x), seq, "tangent")


def _op_getitem(s, seq, out, args, kwargs, frame):
    """numpy indexing; on a handle holding several results, picks one of them."""
    x = s._resolve(args[0])
    if isinstance(getval_all(x), (tuple, list)):
        s._store(out, _element(x, args[1]), seq, "getitem")
    else:
        key = s._resolve(args[1])
        s.admit("getitem", [x, key], {}, seq)   # fancy indices can make a large answer
        s._store(out, OPS["getitem"](x, key), seq, "getitem")


def _shared_failure(seq, name, exc):
    return OpFailure(error_object("SharedError", exc.args[0], seq=seq, op=name))


def _op_publish(s, seq, out, args, kwargs, frame):
    """args: [x, name]: x's value, read-only, for every session under ``name``."""
    name, value = str(args[1]), getval_all(s.as_array(s._resolve(args[0]), seq, "publish"))
    size, old = _nbytes(np.asarray(value)), s.published.get(name, 0)
    if size > old and s.nbytes + size - old > s.limits.max_session_bytes:
        raise OpFailure(_bytes_limit(s.nbytes - old, size, s.limits, seq, "publish"))
    try:
        s.shared.publish(name, value, s.sid)
    except KeyError as exc:
        raise _shared_failure(seq, "publish", exc) from None
    s.published[name] = size
    s.nbytes += size - old


def _op_shared(s, seq, out, args, kwargs, frame):
    """args: [name]: the array published under ``name`` (no copy: it is read-only)."""
    try:
        s._store(out, s.shared.get(str(args[0])), seq, "shared")
    except KeyError as exc:
        raise _shared_failure(seq, "shared", exc) from None


def _op_unpublish(s, seq, out, args, kwargs, frame):
    try:
        s.shared.unpublish(str(args[0]), s.sid)
    except KeyError as exc:
        raise _shared_failure(seq, "unpublish", exc) from None
    s.nbytes -= s.published.pop(str(args[0]), 0)


def _op_release(s, seq, out, args, kwargs, frame):
    for h in args[0] if args else ():
        s._drop(h.handle if type(h) is Ref else h)


def _op_value(s, seq, out, args, kwargs, frame):
    """args: [x] strips every box; [x, level] strips only boxes at ``level`` and above."""
    x = s._resolve(args[0])
    floor = args[1] if len(args) > 1 else 1
    while type(x) is Box and x._level >= floor:
        x = x._value
    if type(x) is list or type(x) is tuple:
        # A handle's several results stay as they are; numbers the client wrote into the
        # op become one array, charged as such, never a Python list the limits cannot see.
        if not all(type(v) in (np.ndarray, Box) or isinstance(v, np.generic) for v in x):
            x = s.as_array(x, seq, "value")
    elif not (type(x) in (np.ndarray, Box, float, int, bool, complex)
              or isinstance(x, np.generic)):
        raise OpFailure(error_object("ArgumentError", f"op 'value' takes a handle or "
                                     f"numbers, not {describe(x)}", seq=seq, op="value"))
    s._store(out, x, seq, "value")



def _op_custom(s, seq, out, args, kwargs, frame):
    """A client-defined primitive: args [its answer, *its inputs]; kwargs prim, name."""
    prim_id, name = kwargs.get("prim"), kwargs.get("name", "custom")
    prim = s.client_prims.get(prim_id)
    if prim is None:
        prim = Primitive(str(name), _client_forward, client=prim_id)
        s.client_prims[prim_id] = prim
    result = getval_all(s._resolve(args[0]))
    inputs = [s._resolve(a) for a in args[1:]]
    user_kwargs = s._resolve(kwargs.get("kwargs") or {})
    tangents = kwargs.get("tangents")
    if tangents:
        user_kwargs["_tangents"] = {int(level): s._resolve(t) for level, t in tangents.items()}
    s._store(out, prim(*inputs, _result=result, **user_kwargs), seq, name)


# --- tapes: record a call's op stream, compile it, replay it (tape.py) -------------------
def _op_tape_begin(s, seq, out, args, kwargs, frame):
    """args: [tape id, [inputs]]; out: one handle per input, bound to it for the call."""
    tape_id, inputs = args[0], [s._resolve(a) for a in args[1]]
    if s.recording is not None:
        raise OpFailure(error_object("TapeError", f"tape {s.recording.tape_id} is still "
                                     "being recorded", seq=seq, op="tape.begin"))
    if s.level != 0:
        raise OpFailure(error_object("TapeError", "a tape is recorded only outside traced "
                                     "calls (trace level 0)", seq=seq, op="tape.begin"))
    if not isinstance(out, list) or len(out) != len(inputs):
        raise OpFailure(error_object("ProtocolError", "tape.begin needs one output handle "
                                     "per input", seq=seq, op="tape.begin"))
    inputs = [s.as_array(v, seq, "tape.begin") for v in inputs]
    s._store(out, inputs, seq, "tape.begin")
    s.recording = tapes.Recording(s, tape_id, out, inputs, s.error_count)


def _op_tape_end(s, seq, out, args, kwargs, frame):
    """args: [tape id, [output handles], [captured handles]]; out: the verdict, as the
    reason the tape cannot be replayed in UTF-8 (an empty array when it can)."""
    rec, s.recording = s.recording, None
    if rec is not None:
        rec.uncharge()      # the program, if any, is charged for the constants it keeps
    tape_id, outputs, captured = args[0], args[1], [
        h.handle if type(h) is Ref else h for h in args[2]]
    if rec is None or rec.tape_id != tape_id:
        raise OpFailure(error_object("TapeError", f"tape {tape_id} is not being recorded",
                                     seq=seq, op="tape.end"))
    try:
        if rec.given_up is not None:
            raise tapes.NotReplayable(rec.given_up)
        if s.error_count != rec.errors_before:
            raise tapes.NotReplayable("an op failed while the call was recorded")
        if len(s.tapes) >= s.limits.max_tapes and tape_id not in s.tapes:
            raise tapes.NotReplayable(f"the session already holds {s.limits.max_tapes} "
                                      "tapes (--max-tapes)")
        program = tapes.compile_tape(rec, outputs, captured, lambda h: s._resolve(Ref(h)))
        _keep_tape(s, tape_id, program, len(captured))
    except tapes.NotReplayable as exc:
        reason = str(exc) or "not replayable"
    except (OpFailure, _Poisoned):
        reason = "a value the call used is no longer live"
    else:
        reason = ""
    s._store(out, np.frombuffer(reason.encode(), dtype=np.uint8).copy(), seq, "tape.end")


def _keep_tape(s, tape_id, program, n_captured):
    """Keep a compiled tape, charging its constants to the session's bytes."""
    _forget_tape(s, tape_id)
    if s.nbytes + program.nbytes > s.limits.max_session_bytes:
        raise tapes.NotReplayable(f"the tape's constants ({program.nbytes} bytes) do not fit "
                                  f"in what the session may hold ({s.nbytes} of "
                                  f"{s.limits.max_session_bytes} bytes, --max-session-bytes)")
    s.tapes[tape_id] = (program, n_captured)
    s.nbytes += program.nbytes


def _forget_tape(s, tape_id):
    entry = s.tapes.pop(tape_id, None)
    if entry is not None:
        s.nbytes -= entry[0].nbytes


def _op_tape_run(s, seq, out, args, kwargs, frame):
    """args: [tape id, [inputs, then the current handles of the captured values]];
    out: one handle per output of the tape."""
    entry = s.tapes.get(args[0])
    if entry is None:
        raise OpFailure(error_object("TapeError", f"no tape {args[0]!r} in this session",
                                     seq=seq, op="tape.run"))
    s.tapes.move_to_end(args[0])
    program = entry[0]
    inputs = [s.as_array(getval_all(s._resolve(a)), seq, "tape.run") for a in args[1]]
    limit = s.limits.max_backward_seconds
    s._pass_deadline = _now() + (limit if limit > 0 else float("inf"))
    frame.gen_op = (seq, out, ())
    try:
        values = program.run(inputs, lambda: s._pass_check(frame))
    except ValueError as exc:
        raise OpFailure(error_object("TapeError", str(exc), seq=seq, op="tape.run")) from None
    except OpFailure as exc:    # stopped: time limit or cancel
        exc.info["op"] = "tape.run"
        raise
    finally:
        frame.gen_op = None
    s._store(out, values, seq, "tape.run")


def _op_tape_drop(s, seq, out, args, kwargs, frame):
    for tape_id in args[0] if args else ():
        _forget_tape(s, tape_id)


SESSION_OPS = {
    "array": _op_array,
    "trace.push": _op_trace_push,
    "trace.pop": _op_trace_pop,
    "box": _op_box,
    "vjp": _op_vjp,
    "tangent": _op_tangent,
    "release": _op_release,
    "value": _op_value,
    "custom": _op_custom,
    "getitem": _op_getitem,
    "publish": _op_publish,
    "shared": _op_shared,
    "unpublish": _op_unpublish,
    "tape.begin": _op_tape_begin,
    "tape.end": _op_tape_end,
    "tape.run": _op_tape_run,
    "tape.drop": _op_tape_drop,
}
SESSION_OP_NAMES = frozenset(SESSION_OPS)

#: What the wire may pass to each session op (PROTOCOL.md section 8), deny by default as
#: for registry ops: (fewest arguments, most arguments or None, keywords it reads).
SESSION_OP_ARGS = {
    "array": (1, 1, ()),
    "trace.push": (1, 1, ()),
    "trace.pop": (1, 1, ()),
    "box": (2, 2, ("tangent",)),
    "vjp": (4, 4, ("scalar", "seeds")),
    "tangent": (2, 2, ()),
    "release": (0, 1, ()),
    "value": (1, 2, ()),
    "custom": (1, None, ("prim", "name", "kwargs", "tangents")),
    "getitem": (2, 2, ()),
    "publish": (2, 2, ()),
    "shared": (1, 1, ()),
    "unpublish": (1, 1, ()),
    "tape.begin": (2, 2, ()),
    "tape.end": (3, 3, ()),
    "tape.run": (2, 2, ()),
    "tape.drop": (1, 1, ()),
}
assert set(SESSION_OP_ARGS) == SESSION_OP_NAMES


def check_session_op(name, args, kwargs):
    """The error message if a session op's arguments are not what it takes, else None."""
    fewest, most, keywords = SESSION_OP_ARGS[name]
    if len(args) < fewest or (most is not None and len(args) > most):
        takes = f"{fewest}" if fewest == most else \
            f"{fewest} to {most}" if most is not None else f"at least {fewest}"
        return f"op '{name}' takes {takes} argument(s), got {len(args)}"
    for key in kwargs or ():
        if key not in keywords:
            accepted = ", ".join(keywords) if keywords else "none"
            return f"op '{name}' accepts no keyword argument {describe(key)} " \
                   f"(it accepts: {accepted})"
    return None
