"""``grad(f, optimize=True)``: record a call once per signature, then replay it on the daemon.

The first call with a new signature (the shapes and dtypes of the array arguments, and
the values of the others) runs ``f`` traced as usual, while the daemon records the op
stream between ``tape.begin`` and ``tape.end`` and compiles it (adserver/tape.py). Later
calls with that signature skip ``f``: one ``tape.run`` op sends the new inputs and the
daemon computes the gradients from the compiled tape. Same answers, a fraction of the
time: no op stream, no tracing, no toposort.

What a replay cannot repeat is checked while recording. If ``f`` reads a traced value (a
comparison in an ``if``, ``float(x)``, printing), or uses something the daemon does not
replay (forward mode, a gradient inside ``f``, a primitive defined in the client), the
signature is marked as traced-only with a warning saying why, and ``f`` runs traced
every time, exactly as without ``optimize``.

Like ``jax.jit``, a replay does not run ``f``'s Python code again: its side effects
happen once, and local values ``f`` makes or closes over (numpy arrays, numbers) are
constants of the tape. Arrays on the daemon that ``f`` closes over are read afresh at
every replay. Pass anything else that changes between calls as an argument.

``Recorder`` and ``Tape`` are shared with adlua, which records and replays the same way.
"""
import warnings
import weakref
from collections import OrderedDict
from functools import wraps

import numpy as np

from adproto import Ref
from .proxy import RemoteArray
from .session import get_session
from . import tree

MAX_SIGNATURES = 8      # tapes kept per optimized function (least recently used dropped)


class Recorder:
    """Watches a session's ops while a call is recorded (``session.recorder``)."""

    def __init__(self, first_handle):
        self.first = first_handle
        self.captured = {}        # handle from before the call -> the object that owns it
        self.reasons = []         # what the call did that a replay would not repeat
        self.active = True

    def scan(self, value):
        """Note the handles from before the call that an op's arguments use."""
        t = type(value)
        if t is list or t is tuple:
            for v in value:
                self.scan(v)
        elif t is dict:
            for v in value.values():
                self.scan(v)
        elif t is Ref:
            if value.handle < self.first:
                self.captured.setdefault(value.handle, None)
        else:
            h = getattr(value, "__adhandle__", None)
            if type(h) is int and h < self.first:
                self.captured.setdefault(h, value)

    def note(self, reason):
        if self.active and reason not in self.reasons:
            self.reasons.append(reason)


class Tape:
    """A recorded call on the daemon: replayed with ``run``, freed when dropped."""

    def __init__(self, session, tape_id, captured):
        self.session = session
        self.id = tape_id
        self.captured = captured    # [(handle, owner or None)], in the daemon's order
        weakref.finalize(self, session.drop_tape, tape_id)

    def run(self, inputs, n_out):
        """Queue a replay on ``inputs``; returns the output handles."""
        extra = [Ref(h if owner is None else owner.__adhandle__) for h, owner in self.captured]
        return self.session.op("tape.run", [self.id, list(inputs) + extra], out=n_out)


def begin(session, inputs):
    """Start recording a call; returns (tape id, one handle bound to each input)."""
    tape_id = session.new_tape_id()
    first = session._next_handle
    handles = session.op("tape.begin", [tape_id, list(inputs)], out=len(inputs))
    session.recorder = Recorder(first)
    return tape_id, handles


def pause(session):
    """The call is over: reading values is no longer an inspection by it."""
    if session.recorder is not None:
        session.recorder.active = False


def end(session, tape_id, outputs):
    """Stop recording; returns (the Tape, the handle of the daemon's verdict, reasons the
    client found against replaying)."""
    rec, session.recorder = session.recorder, None
    captured = list(rec.captured.items())
    verdict = session.op("tape.end", [tape_id, list(outputs), [h for h, _ in captured]])
    return Tape(session, tape_id, captured), verdict, rec.reasons


def abandon(session, tape_id):
    """The recorded call raised: stop recording; the daemon drops what it recorded."""
    rec, session.recorder = session.recorder, None
    if rec is not None and not session.closed:
        session.op("tape.end", [tape_id, [], []], out=False)
        session.drop_tape(tape_id)


def verdict_reason(value):
    """The daemon's verdict (a uint8 array of UTF-8) as a string; empty means replayable."""
    return bytes(np.asarray(value, dtype=np.uint8)).decode("utf-8", "replace")


# --- the optimized operators -------------------------------------------------------------
class _Traced:
    """A signature traced on every call; ``why`` says what stops its replay."""

    def __init__(self, why):
        self.why = why


class _Out:
    """An output of a tape that lives on the daemon, with its recorded shape and dtype."""

    __slots__ = ("meta",)

    def __init__(self, meta):
        self.meta = meta


class _Entry:
    """A replayable signature: its tape, its outputs, and how the answer is assembled."""

    def __init__(self, tape, outs, rebuild):
        self.tape = tape
        self.outs = outs            # per output: an _Out, or a constant of the tape
        self.n_remote = sum(type(o) is _Out for o in outs)
        self.rebuild = rebuild      # gradient leaves -> the differentiated argument's shape


def optimized(kind, fun, argnum):
    """``grad`` (kind "grad") or ``value_and_grad`` of ``fun``, with tape replay."""
    from . import differential
    plain = getattr(differential, kind)(fun, argnum)
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)
    cache = OrderedDict()

    @wraps(fun)
    def call(*args, **kwargs):
        if differential.outermost_trace() is not None:
            return plain(*args, **kwargs)    # inside another trace: traced as usual
        plan = _Plan(args, kwargs, argnums)
        session = plan.session or get_session()
        if plan.key is None or session.level > 0:
            return plain(*args, **kwargs)
        entry = cache.get(plan.key)
        if isinstance(entry, _Entry) and entry.tape.session is not session:
            entry = None                     # recorded in a session that has ended
        if entry is None:
            entry, answer = _record(kind, fun, plan, session)
            cache[plan.key] = entry
            if len(cache) > MAX_SIGNATURES:
                cache.popitem(last=False)
            return answer
        cache.move_to_end(plan.key)
        if isinstance(entry, _Traced):
            return plain(*args, **kwargs)
        return _replay(kind, entry, plan, session)

    call.tapes = cache      # signature -> tape (or why it is traced), for inspection
    return call


class _Plan:
    """One call's arguments, split into the tape's inputs and the signature key.

    Inputs are every array leaf (numpy or RemoteArray) and every number in the
    differentiated arguments; the key holds their types, shapes and dtypes, the
    structure of the arguments, and the value of every other leaf. ``key`` is None
    when a leaf can be neither (an unhashable object).
    """

    def __init__(self, args, kwargs, argnums):
        self.args, self.kwargs, self.argnums = args, kwargs, argnums
        self.inputs = []
        self.local = True       # the differentiated leaves are local values
        self.session = None     # that of the first RemoteArray among the inputs
        key = []
        for i, a in enumerate(args):
            if not self._walk(a, i in argnums, key):
                self.key = None
                return
        for name in sorted(kwargs):
            key.append(name)
            if not self._walk(kwargs[name], False, key):
                self.key = None
                return
        self.key = tuple(key)

    @staticmethod
    def is_input(leaf, differentiated):
        return (type(leaf) is RemoteArray or isinstance(leaf, (np.ndarray, np.generic)) or
                (differentiated and isinstance(leaf, (float, complex))))

    def _walk(self, x, differentiated, key):
        """Append x's part of the key (containers as markers, then their items); False if
        a leaf can be neither an input nor part of the key. One pass: on a replay, this
        walk is most of what the client does."""
        t = type(x)
        if t is list or t is tuple:
            key.append((t, len(x)))
            for v in x:
                if not self._walk(v, differentiated, key):
                    return False
            return True
        if t is dict:
            key.append((dict, tuple(x)))
            for v in x.values():
                if not self._walk(v, differentiated, key):
                    return False
            return True
        if t is RemoteArray:
            self.inputs.append(x)
            key.append((t, x.shape, x.dtype))
            if self.session is None:
                self.session = x._session
            if differentiated:
                self.local = False
        elif self.is_input(x, differentiated):
            self.inputs.append(x)
            key.append((t, np.shape(x), getattr(x, "dtype", None)))
        else:
            try:
                hash(x)
            except TypeError:
                return False
            key.append(("=", t, x))
        return True

    def substituted(self, proxies):
        """(args, kwargs) with the input leaves replaced, in order, by ``proxies``."""
        it = iter(proxies)

        def swap(x, differentiated):
            leaves, rebuild = tree.flatten(x)
            return rebuild([next(it) if self.is_input(leaf, differentiated) else leaf
                            for leaf in leaves])

        args = [swap(a, i in self.argnums) for i, a in enumerate(self.args)]
        kwargs = {name: swap(self.kwargs[name], False) for name in sorted(self.kwargs)}
        return args, {k: kwargs[k] for k in self.kwargs}

    def wired(self):
        """The inputs as the tape ops take them: RemoteArrays, or numpy arrays."""
        return [leaf if type(leaf) is RemoteArray else np.asarray(leaf) for leaf in self.inputs]

    def differentiated(self, args):
        if len(self.argnums) == 1:
            return args[self.argnums[0]]
        return tuple(args[i] for i in self.argnums)


def _shape(leaf):
    return leaf.shape if type(leaf) is RemoteArray else np.shape(leaf)


def _record(kind, fun, plan, session):
    """Run the call traced while the daemon records it; (the cache entry, the answer)."""
    from . import differential
    wired = plan.wired()
    tape_id, handles = begin(session, wired)
    proxies = [RemoteArray(session, h, 0, (_shape(w), w.dtype)) for h, w in zip(handles, wired)]
    args, kwargs = plan.substituted(proxies)
    argnums = plan.argnums
    try:
        def unary(x):
            sub = list(args)
            if len(argnums) == 1:
                sub[argnums[0]] = x
            else:
                for i, xi in zip(argnums, x):
                    sub[i] = xi
            return fun(*sub, **kwargs)

        t = differential._Trace(unary, plan.differentiated(args))
        pause(session)
        outs = list(t.cotangents(None, scalar=True))
        if kind == "value_and_grad":
            outs.append(t.ans)
    except BaseException:
        abandon(session, tape_id)
        raise
    tape, verdict, reasons = end(session, tape_id, [o for o in outs if type(o) is RemoteArray])
    fetched = differential.fetch_all(session, (outs if plan.local else []) +
                                     [RemoteArray(session, verdict, 0)])
    reason = verdict_reason(fetched.pop())
    if reason:
        reasons = reasons + [reason]
    if reasons:
        why = "; ".join(reasons)
        warnings.warn(f"optimize: {getattr(fun, '__name__', 'the function')} is traced on "
                      f"every call with arguments like these, because {why}", stacklevel=3)
        session.drop_tape(tape_id)
        entry = _Traced(why)
    else:
        entry = _Entry(tape, [_Out((o.shape, o.dtype)) if type(o) is RemoteArray else o
                              for o in outs], t.rebuild)
    return entry, _answer(kind, t.rebuild, fetched if plan.local else outs, plan)


def _replay(kind, entry, plan, session):
    handles = iter(entry.tape.run(plan.wired(), entry.n_remote))
    outs = [RemoteArray(session, next(handles), 0, o.meta) if type(o) is _Out else o
            for o in entry.outs]
    if plan.local:
        from .differential import fetch_all
        outs = fetch_all(session, outs)
    return _answer(kind, entry.rebuild, outs, plan)


def _answer(kind, rebuild, results, plan):
    """grad's or value_and_grad's answer from the output values (gradients first)."""
    from .differential import _like, _plain
    leaves, _ = tree.flatten(plan.differentiated(plan.args))
    n = len(leaves)
    grads = rebuild([_like(g, leaf) for g, leaf in zip(results[:n], leaves)])
    if kind == "value_and_grad":
        return _plain(results[n]), grads
    return grads
