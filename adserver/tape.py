"""Tapes: one call's op stream, recorded once, compiled, and replayed on new inputs.

A client that calls the same differentiated function again and again with arguments of
the same shapes (a training loop) sends the same op stream every time. Between
``tape.begin`` and ``tape.end`` the session keeps the ops it executes; ``tape.end``
compiles them into a ``Program``, and ``tape.run`` computes the call's outputs for new
inputs with one message instead of the whole stream (PROTOCOL.md section 8.1).

Compiling is tracing at a level of its own. Every input (and every value the call used
from outside it) is boxed at ``RECORD_LEVEL``, above any level a session reaches, and the
stream's ops run again on those boxes. Each primitive call on a recording box becomes
one instruction, composite ops included (their primitives are recorded one by one) and
zero-gradient ops too (their answers depend on the inputs like any other). A ``box`` op
marks a start of differentiation, ``value`` a stop, and ``vjp`` a backward sweep over the
instructions on a path from its starts to its end, using each primitive's own VJP rules.

Replaying is then a flat loop over raw numpy values: no boxes, no nodes, no
toposort, no messages. The answers are those of the traced call: the same rules run on
the same values. Only a stream the compiler understands is replayed: one reverse-mode
level at a time, built-in ops only. Anything else (forward mode, gradients of gradients
inside the call, client-defined primitives, shared arrays) is reported as the reason the
tape cannot be replayed, and the client keeps tracing that call.
"""
import numpy as np

from adproto import Ref
from .engine import Box, cotangent_dtype, getval_all, zero_cotangent
from .engine.tracer import RECORD_LEVEL, ZERO_GRADIENT
from .engine.tuples import accumulate, is_tuple_value, tuple_item
from .ops import OPS, P

add_cotangents = accumulate(P.add)

PRIM, COPY, STOP, BACKWARD = "prim", "copy", "stop", "backward"
_SKIPPED = frozenset({"trace.pop", "tape.end"})
# Ops that free what the session holds. A client sends them when its garbage collector
# finalizes a proxy or a tape, which can happen in the middle of a recorded call: they are
# no part of the call, and a recording that kept them would depend on when the collector
# ran. They run as usual; the recording does not keep them.
HOUSEKEEPING = frozenset({"release", "tape.drop"})
CHECK_EVERY = 64          # instructions between two looks at the clock and the socket


class NotReplayable(Exception):
    """The recorded stream cannot be compiled; the message says why."""


class Recording:
    """What a session keeps between tape.begin and tape.end.

    The recorded ops keep the arrays sent inline in them (uploads, constants of the call)
    after the handles made from them are released, so those arrays are charged to the
    session's bytes (``Session.nbytes``, bounded by --max-session-bytes) until tape.end.
    A recording that would take the session past its limit gives up: it drops what it
    holds, and tape.end reports why the call cannot be replayed. (An array that a live
    handle holds too is counted twice meanwhile: the count errs on the safe side.)
    """

    __slots__ = ("session", "tape_id", "input_handles", "inputs", "ops", "errors_before",
                 "nbytes", "given_up")

    def __init__(self, session, tape_id, input_handles, inputs, errors_before):
        self.session = session
        self.tape_id = tape_id
        self.input_handles = input_handles
        self.inputs = inputs
        self.ops = _RecordedOps(self)
        self.errors_before = errors_before
        self.nbytes = 0             # bytes of inline arrays held by ``ops``, charged
        self.given_up = None        # why the recording stopped keeping ops, or None

    def keep(self, op):
        """Keep one op of the call (the session runs it either way)."""
        name = op[1]
        if name in HOUSEKEEPING or self.given_up is not None:
            return
        size = inline_bytes(op[3]) + inline_bytes(op[4])
        s = self.session
        if size and s.nbytes + size > s.limits.max_session_bytes:
            self.give_up(f"the arrays sent inline while the call was recorded take more "
                         f"than the session may hold ({s.limits.max_session_bytes} bytes, "
                         "--max-session-bytes)")
            return
        s.nbytes += size
        self.nbytes += size
        list.append(self.ops, op)

    def give_up(self, reason):
        self.given_up = reason
        self.ops.clear()
        self.uncharge()

    def uncharge(self):
        """The recorded ops are let go: their inline arrays no longer count."""
        self.session.nbytes -= self.nbytes
        self.nbytes = 0


class _RecordedOps(list):
    """The ops of a recording. The session appends every op it runs while recording;
    the recording decides what it keeps, and charges for it."""

    __slots__ = ("recording",)

    def __init__(self, recording):
        super().__init__()
        self.recording = recording

    def append(self, op):
        self.recording.keep(op)


def inline_bytes(x):
    """Bytes of the arrays sent inline in an op's arguments (handle references hold none)."""
    t = type(x)
    if t is np.ndarray:
        return x.nbytes
    if t is list or t is tuple:
        return sum(inline_bytes(v) for v in x)
    if t is dict:
        return sum(inline_bytes(v) for v in x.values())
    if t is slice:
        return inline_bytes(x.start) + inline_bytes(x.stop) + inline_bytes(x.step)
    return 0


class Instr:
    """One step of a program. ``spec`` pairs argument positions with the slots they read."""

    __slots__ = ("kind", "prim", "fun", "out", "spec", "template", "kwargs", "diff",
                 "src", "cast", "end", "seed", "starts", "outs", "sweep", "live", "nested",
                 "kw_nested")

    def __init__(self, kind, out, **fields):
        self.kind = kind
        self.out = out
        self.prim = self.fun = self.src = self.cast = self.end = self.seed = None
        self.spec, self.template, self.kwargs = (), (), {}
        self.diff = False
        self.starts = self.outs = self.sweep = self.nested = ()
        self.kw_nested = False
        self.live = False
        for k, v in fields.items():
            setattr(self, k, v)


class Program:
    """A compiled tape: its first slots are its inputs, then every value it makes."""

    def __init__(self, instrs, n_slots, input_meta, outputs):
        self.instrs = instrs
        self.n_slots = n_slots
        self.input_meta = input_meta      # (shape, dtype) per input, as recorded
        self.outputs = outputs            # per output: ("slot", i) or ("const", value)
        self.nbytes = _constant_bytes(instrs, outputs)

    def run(self, inputs, check=None):
        """The outputs for ``inputs`` (raw values shaped like the recorded ones)."""
        if len(inputs) != len(self.input_meta):
            raise ValueError(f"the tape takes {len(self.input_meta)} inputs, got {len(inputs)}")
        vals = [None] * self.n_slots
        for i, (x, (shape, dtype)) in enumerate(zip(inputs, self.input_meta)):
            if type(x) is Box:
                raise ValueError("a tape replays only on plain values, outside traced calls")
            x = x if isinstance(x, np.ndarray) else np.asarray(x)
            if x.shape != shape or x.dtype != dtype:
                raise ValueError(f"tape input {i} was recorded with shape {shape} and dtype "
                                 f"{dtype}; got shape {x.shape} and dtype {x.dtype}")
            vals[i] = x
        execute(self.instrs, vals, check)
        return [vals[v] if kind == "slot" else v for kind, v in self.outputs]


def _constant_bytes(instrs, outputs):
    """Bytes of the arrays a program keeps as constants (the call's inline arrays, and
    what it computed from them alone), each array counted once."""
    seen = set()

    def walk(x):
        t = type(x)
        if t is np.ndarray or isinstance(x, np.generic):
            if id(x) in seen:
                return 0
            seen.add(id(x))
            return x.nbytes
        if t is list or t is tuple:
            return sum(walk(v) for v in x)
        if t is dict:
            return sum(walk(v) for v in x.values())
        if t is slice:
            return walk(x.start) + walk(x.stop) + walk(x.step)
        return 0

    total = sum(walk(v) for kind, v in outputs if kind == "const")
    for ins in instrs:
        total += walk(ins.template) + walk(ins.kwargs)
        if ins.seed is not None and ins.seed[0] == "const":
            total += walk(ins.seed[1])
    return total


def execute(instrs, vals, check=None):
    """Run ``instrs`` over the slot values ``vals`` (filled in place)."""
    countdown = CHECK_EVERY
    for ins in instrs:
        kind = ins.kind
        if kind is PRIM:
            args = list(ins.template)
            for pos, slot in ins.spec:
                args[pos] = vals[slot]
            if ins.nested or ins.kw_nested:
                args, kwargs = _with_nested(ins, args, vals)
                vals[ins.out] = ins.fun(*args, **kwargs)
            else:
                vals[ins.out] = ins.fun(*args, **ins.kwargs)
            if check is not None:
                countdown -= 1
                if not countdown:
                    countdown = CHECK_EVERY
                    check()
        elif kind is BACKWARD:
            for slot, g in zip(ins.outs, _sweep(ins, vals, check)):
                vals[slot] = g
        elif kind is COPY:
            v = vals[ins.src] if ins.src is not None else ins.template
            vals[ins.out] = v if ins.cast is None else np.asarray(v, dtype=ins.cast)
        else:   # STOP
            vals[ins.out] = vals[ins.src]


def _sweep(ins, vals, check):
    """The cotangents of a BACKWARD instruction's starts (zeros where the end is constant)."""
    starts = ins.starts
    if not ins.live:
        return [zero_cotangent(vals[s]) for s in starts]
    end_value = vals[ins.end]
    if ins.seed is None:
        g = np.ones_like(np.asarray(end_value), dtype=cotangent_dtype(end_value))
    elif ins.seed[0] == "slot":
        g = vals[ins.seed[1]]
    else:
        g = ins.seed[1]
    cot = {ins.end: g}
    countdown = CHECK_EVERY
    for step, rules in ins.sweep:
        g = cot.pop(step.out, None)
        if g is None:
            continue
        if check is not None:
            countdown -= 1
            if not countdown:
                countdown = CHECK_EVERY
                check()
        args = list(step.template)
        for pos, slot in step.spec:
            args[pos] = vals[slot]
        kwargs = step.kwargs
        if step.nested or step.kw_nested:
            args, kwargs = _with_nested(step, args, vals)
        ans = vals[step.out]
        for (pos, src), rule in rules:
            c = rule(g, ans, *args, **kwargs)
            if c is None:
                continue
            prev = cot.get(src)
            cot[src] = c if prev is None else add_cotangents(prev, c)
    return [zero_cotangent(vals[s]) if cot.get(s) is None else cot[s] for s in starts]


def _with_nested(ins, args, vals):
    """An instruction's arguments and keywords with the slots inside containers filled."""
    for pos in ins.nested:
        args[pos] = _fill(ins.template[pos], vals)
    return args, (_fill(ins.kwargs, vals) if ins.kw_nested else ins.kwargs)


class _Nested:
    """Stands, inside a container argument, for the value of a slot."""

    __slots__ = ("slot",)

    def __init__(self, slot):
        self.slot = slot


_CONTAINERS = (tuple, list, dict, slice)


def _placeholders(x):
    """``x`` with each recording box inside it replaced by a _Nested; ``x`` itself if it
    holds none."""
    t = type(x)
    if t is Box:
        if x._level != RECORD_LEVEL:
            raise NotReplayable("the call used a value traced outside it")
        return _Nested(x._node.index)
    if t is tuple or t is list:
        items = [_placeholders(v) for v in x]
        return x if all(a is b for a, b in zip(items, x)) else t(items)
    if t is dict:
        items = {k: _placeholders(v) for k, v in x.items()}
        return x if all(items[k] is v for k, v in x.items()) else items
    if t is slice:
        parts = [_placeholders(v) for v in (x.start, x.stop, x.step)]
        return x if all(a is b for a, b in zip(parts, (x.start, x.stop, x.step))) \
            else slice(*parts)
    return x


def _fill(x, vals):
    """``x`` with each _Nested replaced by its slot's value."""
    t = type(x)
    if t is _Nested:
        return vals[x.slot]
    if t is tuple or t is list:
        return t(_fill(v, vals) for v in x)
    if t is dict:
        return {k: _fill(v, vals) for k, v in x.items()}
    if t is slice:
        return slice(_fill(x.start, vals), _fill(x.stop, vals), _fill(x.step, vals))
    return x


# --- compiling ------------------------------------------------------------------------
class _Slot:
    """The node of a recording box: which slot holds the value, and who records calls."""

    __slots__ = ("compiler", "index")
    parents = ()

    def __init__(self, compiler, index):
        self.compiler = compiler
        self.index = index

    def record(self, prim, args, kwargs):
        return self.compiler.record(prim, args, kwargs)


class _Compiler:
    def __init__(self):
        self.instrs = []
        self.values = []        # each slot's value while compiling (dropped afterwards)
        self.diff = []          # whether each slot can carry a gradient
        self.env = {}           # handle -> recording box or constant

    # --- slots and instructions -------------------------------------------------------
    def new_slot(self, value, diff=True):
        i = len(self.values)
        self.values.append(value)
        self.diff.append(diff)
        return Box(value, RECORD_LEVEL, _Slot(self, i))

    def record(self, prim, args, kwargs):
        for value in kwargs.values():
            if type(value) is Box:
                raise NotReplayable(f"op '{prim.name}' got a traced keyword argument")
        template, spec, nested = list(args), [], []
        for pos, a in enumerate(args):
            if type(a) is Box:
                if a._level != RECORD_LEVEL:
                    raise NotReplayable("the call used a value traced outside it")
                spec.append((pos, a._node.index))
                template[pos] = None
            elif type(a) in _CONTAINERS:
                # Values inside a container argument (an index tuple holding an index array
                # made from an input) are read again at every replay; no gradient goes
                # through them, as none does when they are traced.
                held = _placeholders(a)
                if held is not a:
                    template[pos] = held
                    nested.append(pos)
        kw_nested = False
        if kwargs and any(type(v) in _CONTAINERS for v in kwargs.values()):
            held = _placeholders(kwargs)
            if held is not kwargs:
                kwargs, kw_nested = held, True
        raw = list(template)
        for pos, slot in spec:
            raw[pos] = self.values[slot]
        for pos in nested:
            raw[pos] = _fill(template[pos], self.values)
        ans = prim.fun(*raw, **(_fill(kwargs, self.values) if kw_nested else kwargs))
        diff = prim.status != ZERO_GRADIENT
        out = self.new_slot(ans, diff)
        self.instrs.append(Instr(PRIM, out._node.index, prim=prim, fun=prim.fun,
                                 spec=tuple(spec), template=tuple(template),
                                 kwargs=kwargs, diff=diff, nested=tuple(nested),
                                 kw_nested=kw_nested))
        return out

    def slot_of(self, value):
        return value._node.index if type(value) is Box else None

    # --- the stream ---------------------------------------------------------------------
    def resolve(self, a):
        t = type(a)
        if t is Ref:
            try:
                return self.env[a.handle]
            except KeyError:
                raise NotReplayable(f"the call used handle {a.handle}, which is neither an "
                                    "input nor made inside the call") from None
        if t is list:
            return [self.resolve(x) for x in a]
        if t is tuple:
            return tuple(self.resolve(x) for x in a)
        if t is dict:
            return {k: self.resolve(v) for k, v in a.items()}
        if t is slice:
            return slice(self.resolve(a.start), self.resolve(a.stop), self.resolve(a.step))
        return a

    def store(self, out, value):
        if out is None:
            return
        if isinstance(out, list):
            if type(value) is Box and is_tuple_value(value):
                value = [tuple_item(value, i) for i in range(len(getval_all(value)))]
            for h, v in zip(out, value):
                self.store(h, v)
            return
        self.env[out] = value

    def run_op(self, op):
        seq, name, out, args, kwargs = op
        kwargs = kwargs or {}
        if name in _SKIPPED:
            return
        handler = getattr(self, "op_" + name.replace(".", "_"), None)
        if handler is not None:
            handler(out, args, kwargs)
            return
        fn = OPS.get(name)
        if fn is None:
            raise NotReplayable(f"op '{name}' is not replayed")
        args = [self.resolve(a) for a in args]
        kwargs = {k: self.resolve(v) for k, v in kwargs.items()}
        self.store(out, fn(*args, **kwargs))

    def op_trace_push(self, out, args, kwargs):
        if args[0] != 1:
            raise NotReplayable("the call differentiates inside a differentiated function "
                                "(gradients of gradients are traced, not replayed)")

    def op_array(self, out, args, kwargs):
        value = self.resolve(args[0])
        self.store(out, value if isinstance(value, (np.ndarray, Box)) else np.asarray(value))

    def op_box(self, out, args, kwargs):
        if kwargs.get("tangent") is not None:
            raise NotReplayable("forward mode is traced, not replayed")
        x = self.resolve(args[0])
        raw = getval_all(x)
        cast = None if np.issubdtype(np.result_type(raw), np.inexact) else np.float64
        start = self.new_slot(raw if cast is None else np.asarray(raw, dtype=cast))
        src = self.slot_of(x)
        self.instrs.append(Instr(COPY, start._node.index, src=src, cast=cast,
                                 template=None if src is not None else raw))
        self.store(out, start)

    def op_value(self, out, args, kwargs):
        x = self.resolve(args[0])
        if type(x) is not Box:
            self.store(out, x)
            return
        stopped = self.new_slot(x._value, diff=False)
        self.instrs.append(Instr(STOP, stopped._node.index, src=x._node.index))
        self.store(out, stopped)

    def op_getitem(self, out, args, kwargs):
        x = self.resolve(args[0])
        if isinstance(getval_all(x), (tuple, list)):
            self.store(out, tuple_item(x, args[1]) if type(x) is Box else x[args[1]])
        else:
            self.store(out, OPS["getitem"](x, self.resolve(args[1])))

    def op_vjp(self, out, args, kwargs):
        if kwargs.get("seeds"):
            raise NotReplayable("a vjp with a stack of seeds (jacobian) is traced, not "
                                "replayed")
        end, seed, starts = self.resolve(args[0]), self.resolve(args[1]), self.resolve(args[2])
        start_slots = [self.slot_of(s) for s in starts]
        if None in start_slots:
            raise NotReplayable("a vjp start is not a value boxed inside the call")
        end_slot = self.slot_of(end)
        ins = Instr(BACKWARD, None, end=end_slot, starts=tuple(start_slots))
        if seed is not None:
            ins.seed = ("slot", self.slot_of(seed)) if type(seed) is Box else ("const", seed)
        ins.sweep, ins.live = self._plan_sweep(end_slot, set(start_slots))
        results = _sweep(ins, self.values, None)
        boxes = [self.new_slot(g, diff=False) for g in results]
        ins.outs = tuple(b._node.index for b in boxes)
        self.instrs.append(ins)
        self.store(out, boxes)

    def _plan_sweep(self, end, starts):
        """The instructions on a path from ``starts`` to ``end``, last first, with rules."""
        if end is None:
            return (), False
        live = set(starts)
        forward = []
        for ins in self.instrs:
            if ins.kind is not PRIM or not ins.diff:
                continue
            linked = [(pos, slot) for pos, slot in ins.spec if slot in live]
            if linked:
                live.add(ins.out)
                forward.append((ins, linked))
        if end not in live:
            return (), False
        needed, sweep = {end}, []
        for ins, linked in reversed(forward):
            if ins.out not in needed:
                continue
            rules = []
            for pos, src in linked:
                rule = ins.prim.vjps.get(pos)
                if rule is None:
                    raise NotReplayable(f"op '{ins.prim.name}' has no gradient with respect "
                                        f"to argument {pos}")
                rules.append(((pos, src), rule))
                needed.add(src)
            sweep.append((ins, tuple(rules)))
        return tuple(sweep), True


def compile_tape(recording, outputs, captured, lookup):
    """A Program from a recording, or NotReplayable.

    ``outputs`` are the handles whose values the program gives back; ``captured`` the
    handles from before the call that it used (the client sends their current handles
    as extra inputs at every replay); ``lookup(handle)`` is a captured handle's value.
    """
    c = _Compiler()
    inputs = list(recording.inputs)
    for h in captured:
        inputs.append(lookup(h))
    meta = []
    for h, value in zip(list(recording.input_handles) + list(captured), inputs):
        if type(value) is Box:
            raise NotReplayable(f"input handle {h} holds a traced value")
        value = value if isinstance(value, np.ndarray) else np.asarray(value)
        meta.append((value.shape, value.dtype))
        c.env[h] = c.new_slot(value)
    try:
        for op in recording.ops:
            c.run_op(op)
    except NotReplayable:
        raise
    except Exception as exc:
        raise NotReplayable(f"{type(exc).__name__} while compiling: {exc}") from None
    out_spec = []
    for h in outputs:
        h = h.handle if type(h) is Ref else h
        if h not in c.env:
            raise NotReplayable(f"output handle {h} was not made by the call")
        v = c.env[h]
        out_spec.append(("slot", v._node.index) if type(v) is Box else ("const", v))
    return Program(c.instrs, len(c.values), meta, out_spec)

