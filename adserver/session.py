"""One client's session: its handles, trace stack, deferred error and suspended passes.

The session executes a batch's ops in order. A backward pass that meets a node whose
rules live in the client suspends: the batch is pushed, with its generator, onto the
session's frame stack, a callback message goes to the client, and the session keeps
executing the batches the client sends meanwhile (the user's gradient function issues
ops of its own). The client's callback_return resumes the innermost frame.

Errors are deferred: a failing op poisons its outputs, the first failure is kept, and the
next synchronous reply reports it with the op's sequence number.

Life cycle and limits (PROTOCOL.md sections 6, 11 and 13): the session counts the bytes of
the arrays it holds (``nbytes``, bounded by ``max_session_bytes``) and its live handles,
daemon-allocated ones included. Between ops, and between the nodes of a backward pass, it
calls ``control`` (the daemon's look at its socket for ``cancel``, ``ping`` and ``status``
messages, at most every POLL_SECONDS) and stops when its client has cancelled (the batch's
``epoch`` is older than ``cancels``) or the pass has run longer than
``max_backward_seconds``. A callback not answered within ``callback_timeout_seconds``
fails its vjp (``expire_callbacks``). ``close`` frees everything the session owns.
"""
import logging
import math
import time
from collections import OrderedDict, deque

import numpy as np

from adproto import DTYPES, Ref, error_object, kinds, shorten, clip
from .engine import Box, getval_all, trace_level, zero_cotangent, EngineError
from .ops import OPS, P, SPECS
from .ops import sizing
from .ops.params import ARRAY, ParamError
from .engine.tuples import accumulate, tuple_item, is_tuple_value
from .shared import SharedArrays

add_cotangents = accumulate(P.add)

log = logging.getLogger("adserver.session")

POLL_SECONDS = 0.05     # a running batch looks at the daemon's socket at most this often
_BOOKKEEPING = frozenset({"trace.push", "trace.pop", "release"})   # run even when cancelled
_now = time.monotonic


class Poison:
    """Stands in a handle whose op failed; anything computed from it is poisoned too."""

    __slots__ = ("seq", "op", "message", "type")

    def __init__(self, seq, op, message, type_="OpError"):
        self.seq, self.op, self.message, self.type = seq, op, message, type_


class OpFailure(Exception):
    """An op could not run; ``info`` is the error object for the client."""

    def __init__(self, info):
        super().__init__(info["message"])
        self.info = info


class _Poisoned(Exception):
    def __init__(self, poison):
        self.poison = poison


class Frame:
    """A batch being executed, possibly suspended inside a backward pass."""

    __slots__ = ("ops", "index", "reply_to", "fetch", "meta", "gen", "gen_op", "gen_request",
                 "cb_id", "epoch", "pass_left", "cb_sent", "cb_deadline", "cancelled")

    def __init__(self, ops, reply_to, fetch, meta, epoch=0):
        self.ops = ops
        self.index = 0
        self.reply_to = reply_to   # request id for a synchronous batch, else None
        self.fetch = fetch
        self.meta = meta
        self.gen = None            # the suspended backward pass, if any
        self.gen_op = None         # (seq, out handles, start boxes) of that vjp op
        self.gen_request = None    # the CallbackRequest it is waiting on
        self.cb_id = None
        self.epoch = epoch         # the session's cancel count when the batch arrived
        self.pass_left = None      # seconds its backward pass may still run
        self.cb_sent = None        # when its callback went out
        self.cb_deadline = None    # when that callback times out
        self.cancelled = False     # a Cancelled error was recorded for it


class Session:
    def __init__(self, sid, identity, limits, shared=None, control=None):
        self.sid = sid
        self.identity = identity
        self.limits = limits
        self.shared = shared if shared is not None else SharedArrays()
        self.handles = {}
        self.level = 0
        self.frames = []
        self.error = None          # first deferred error since the last sync
        self.error_count = 0
        self.client_prims = {}
        self._next_daemon_handle = -1
        self._next_cb = 0
        self.ops_executed = 0
        # --- life cycle, limits and control ---
        self.nbytes = 0            # bytes of the arrays in live handles and publications
        self.published = {}        # name -> bytes, for the arrays this session published
        self.control = control     # the daemon's non-blocking look at its socket, or None
        self.next_poll = 0.0       # when ``control`` is due next (set by the daemon)
        self.cancels = 0           # cancel messages received; a batch older than that stops
        self.last_seen = _now()    # the lease counts from here
        self.opened = self.last_seen
        self._abandoned = deque(maxlen=256)   # callbacks failed by cancel or timeout
        self._pass_deadline = float("inf")
        # --- tapes (tape.py): the op stream being recorded, and compiled programs ---
        self.recording = None
        self.tapes = OrderedDict()  # tape id -> (Program, captured handles), oldest first

    # --- entry points: each returns the messages to send, as (kind, body) pairs ---------
    def on_batch(self, body, req, epoch=None):
        ops = body.get("ops") or []
        if not isinstance(ops, list):
            raise OpFailure(error_object("ProtocolError", "batch 'ops' must be a list"))
        if len(ops) > self.limits.max_ops_per_batch:
            raise OpFailure(error_object(
                "LimitError", f"batch has {len(ops)} ops; the limit is "
                f"{self.limits.max_ops_per_batch} (--max-ops-per-batch)",
                limit="max_ops_per_batch"))
        sync = bool(body.get("sync"))
        for field in ("fetch", "meta"):
            if not isinstance(body.get(field) or [], list):
                raise OpFailure(error_object("ProtocolError", f"batch {field!r} must be a "
                                             "list of handles"))
        frame = Frame(ops, req if sync else None, body.get("fetch") or [], body.get("meta") or [],
                      self.cancels if epoch is None else epoch)
        return self._run(frame)

    def on_callback_return(self, body):
        if body.get("cb") in self._abandoned:
            # The daemon gave up on this callback (cancel, timeout) and resumed its batch.
            log.debug("late callback_return for abandoned callback %r", body.get("cb"))
            return []
        if not self.frames:
            return [(kinds.ERROR, {"error": error_object(
                "ProtocolError", "callback_return with no callback outstanding")})]
        frame = self.frames[-1]
        if body.get("cb") != frame.cb_id:
            return [(kinds.ERROR, {"error": error_object(
                "ProtocolError", f"callback_return for callback {body.get('cb')!r}, but "
                f"callback {frame.cb_id} is the one outstanding")})]
        self._pop_frame()
        err = body.get("error")
        try:
            if err:
                raise OpFailure(error_object(
                    "CallbackError", f"gradient function of '{frame.gen_request.node.prim.name}' failed in "
                    f"the client: {err.get('message', err)}", detail=err))
            grads = body.get("grads")
            wanted = len(frame.gen_request.node.parents)
            if not isinstance(grads, list) or len(grads) != wanted:
                raise OpFailure(error_object(
                    "CallbackError", f"the client returned {_count(grads)} gradient(s) for "
                    f"'{frame.gen_request.node.prim.name}', which needs {wanted} (one per "
                    "entry of argnums)"))
            self._step(frame, [None if g is None else self._resolve(g) for g in grads])
        except OpFailure as exc:
            exc.info.setdefault("seq", frame.gen_op[0])
            exc.info.setdefault("op", "vjp")
            self._fail_vjp(frame, exc.info)
        except _Poisoned as p:
            self._fail_vjp(frame, None, p.poison)
        except Exception as exc:  # a rule raised while the pass went on
            self._fail_vjp(frame, self._op_error(frame.gen_op[0], "vjp", exc))
        if frame.gen is not None:
            return self._suspend(frame)
        return self._run(frame)

    # --- the batch loop ------------------------------------------------------------------
    def _run(self, frame):
        ops = frame.ops
        control = self.control
        while frame.index < len(ops):
            if control is not None:
                now = _now()
                if now >= self.next_poll:
                    self.next_poll = now + POLL_SECONDS
                    control()
            if frame.epoch != self.cancels:
                self._skip_cancelled(frame)
                break
            op = ops[frame.index]
            frame.index += 1
            self._execute(op, frame)
            if frame.gen is not None:
                return self._suspend(frame)
        if frame.reply_to is None:
            return []
        return [(kinds.RESULT, self._reply(frame), frame.reply_to)]

    def _suspend(self, frame):
        if len(self.frames) >= self.limits.max_callback_depth:
            self._fail_vjp(frame, error_object(
                "LimitError", f"client callbacks nest deeper than "
                f"{self.limits.max_callback_depth} (--max-callback-depth)",
                limit="max_callback_depth", seq=frame.gen_op[0], op="vjp"))
            return self._run(frame)
        first = self._next_daemon_handle
        try:
            body = self._callback_body(frame)
        except OpFailure as exc:   # describing the values would break a session limit
            for h in range(first, self._next_daemon_handle, -1):
                self._drop(h)
            exc.info.setdefault("seq", frame.gen_op[0])
            exc.info.setdefault("op", "vjp")
            self._fail_vjp(frame, exc.info)
            return self._run(frame)
        frame.cb_sent = now = _now()
        timeout = self.limits.callback_timeout_seconds
        frame.cb_deadline = now + timeout if timeout > 0 else float("inf")
        self.frames.append(frame)
        return [(kinds.CALLBACK, body)]

    def _pop_frame(self):
        """Take the innermost suspended batch off the stack (its callback is over).

        The time the batch spent waiting for its callback does not count against the
        callback of the batch below it, whose client was busy answering this one.
        """
        frame = self.frames.pop()
        if self.frames and frame.cb_sent is not None:
            self.frames[-1].cb_deadline += _now() - frame.cb_sent
        return frame

    def _skip_cancelled(self, frame):
        """The client cancelled this batch: fail what is left of it, except bookkeeping.

        trace.push, trace.pop and release still run, so that the session's trace levels
        and handles stay in step with the client's.
        """
        ops = frame.ops
        while frame.index < len(ops):
            op = ops[frame.index]
            frame.index += 1
            try:
                seq, name, out, _args, _kwargs = op
            except (TypeError, ValueError):
                continue
            if type(seq) is not int or type(name) is not str:
                continue    # malformed: it would not have run either
            if name in _BOOKKEEPING:
                self._execute(op, frame)
                continue
            info = _cancelled(seq, name)
            if not frame.cancelled:
                frame.cancelled = True
                self._record(info)
            self._poison(out, Poison(seq, name, info["message"], "Cancelled"))

    def _execute(self, op, frame):
        try:
            seq, name, out, args, kwargs = op
        except (TypeError, ValueError):
            self._record(error_object("ProtocolError",
                                      f"an op must be [seq, name, out, args, kwargs], got {op!r:.200}"))
            return
        if type(seq) is not int or type(name) is not str:
            # (error objects carry seq and op as given: they must be an int and a string)
            self._record(error_object("ProtocolError", f"an op's seq must be an integer and "
                                      f"its name a string, got {seq!r:.50} and {name!r:.50}"))
            self._poison(out, Poison(None, "?", "malformed op"))
            return
        if self.recording is not None:
            self.recording.ops.append(op)
        try:
            if not isinstance(args, list) or not (kwargs is None or isinstance(kwargs, dict)):
                raise OpFailure(error_object("ProtocolError", "op args must be a list and "
                                             "kwargs a map or nil", seq=seq, op=name))
            special = _SESSION_OPS.get(name)
            if special is not None:
                wrong = _check_session_op(name, args, kwargs)
                if wrong is not None:
                    raise OpFailure(error_object("ArgumentError", wrong, seq=seq, op=name))
                special(self, seq, out, args, kwargs or {}, frame)
            else:
                fn = OPS.get(name)
                if fn is None:
                    raise OpFailure(error_object("UnknownOp", f"no op named {name!r}",
                                                 seq=seq, op=name))
                args = self._resolve_args(args)
                kwargs = {k: self._resolve(v) for k, v in kwargs.items()} if kwargs else {}
                self.admit(name, args, kwargs, seq)
                value = fn(*args, **kwargs) if kwargs else fn(*args)
                if type(out) is int and out in self.handles:
                    self._store(out, value, seq, name)
                elif type(out) is int and len(self.handles) < self.limits.max_live_handles:
                    self._set(out, value, seq, name)    # the common case, without _store
                else:
                    self._store(out, value, seq, name)
            self.ops_executed += 1
        except _Poisoned as p:
            self._poison(out, p.poison)
        except OpFailure as exc:
            info = exc.info
            info.setdefault("seq", seq)
            info.setdefault("op", name)
            self._record(info)
            self._poison(out, Poison(seq, name, info["message"], info["type"]))
        except Exception as exc:
            info = self._op_error(seq, name, exc)
            self._record(info)
            self._poison(out, Poison(seq, name, info["message"], info["type"]))

    def admit(self, name, args, kwargs, seq):
        """Refuse op ``name`` before it runs unless its table admits it (deny by default):
        the arguments fit its signature, its answer fits the session's bytes, and its cost
        is within --max-op-cost. ops/params.py and ops/sizing.py say how."""
        spec = SPECS.get(name)
        if spec is None:
            raise OpFailure(error_object("UnknownOp", f"op {name!r} declares no signature, "
                                         "so the daemon does not run it", seq=seq, op=name))
        try:
            spec.sig.check(args, kwargs)
        except ParamError as exc:
            raise OpFailure(error_object("ArgumentError", f"op '{name}' {exc}", seq=seq,
                                         op=name)) from None
        try:
            size = spec.size(args, kwargs)
            need = sizing.nbytes(size)
            cost = spec.cost(args, kwargs, size) + sizing.object_work(args, kwargs, size)
        except (ValueError, TypeError, IndexError, np.exceptions.AxisError) as exc:
            # The arguments do not fit together (shapes, axes): numpy would refuse them too.
            raise OpFailure(error_object("OpError", f"{type(exc).__name__}: {exc}", seq=seq,
                                         op=name)) from None
        limits = self.limits
        if self.nbytes + need > limits.max_session_bytes:
            raise OpFailure(_bytes_limit(self.nbytes, need, limits, seq, name))
        if limits.max_op_cost > 0 and not cost <= limits.max_op_cost:   # (nan: refused)
            raise OpFailure(error_object(
                "LimitError", f"op '{name}' would cost about {cost:.3g} units of work; the "
                f"limit is {limits.max_op_cost:.3g} (--max-op-cost)", limit="max_op_cost",
                seq=seq, op=name))

    def as_array(self, value, seq, name):
        """``value`` as an array, for a session op that takes one: numbers a client wrote,
        or a list of handles' values, are built only once their size is known to fit in
        the session's bytes (a list of 600 references to one 2 MiB array is 2 KB on the
        wire and 1.2 GiB built)."""
        t = type(value)
        if t is np.ndarray or t is Box or isinstance(value, np.generic):
            return value
        try:
            ARRAY.check(value)
            shape, dtype = sizing.shape(value), sizing.dtype(value)
        except ParamError as exc:
            raise OpFailure(error_object("ArgumentError", f"op '{name}': {exc}", seq=seq,
                                         op=name)) from None
        except (ValueError, TypeError) as exc:
            raise OpFailure(error_object("OpError", f"{type(exc).__name__}: {exc}", seq=seq,
                                         op=name)) from None
        need = HANDLE_BYTES + math.prod(shape) * dtype.itemsize
        if self.nbytes + need > self.limits.max_session_bytes:
            raise OpFailure(_bytes_limit(self.nbytes, need, self.limits, seq, name))
        return np.asarray(value)

    # --- handles -------------------------------------------------------------------------
    def _resolve_args(self, args):
        """An op's arguments with handle references replaced by their values."""
        handles = self.handles
        out = []
        for a in args:
            t = type(a)
            if t is Ref:
                v = handles.get(a.handle, _MISSING)
                if v is _MISSING or type(v) is Poison:
                    v = self._resolve(a)     # raises the error
                out.append(v)
            elif t is float or t is int or t is str or a is None:
                out.append(a)
            else:
                out.append(self._resolve(a))
        return out

    def _resolve(self, a):
        t = type(a)
        if t is Ref:
            try:
                v = self.handles[a.handle]
            except KeyError:
                raise OpFailure(error_object(
                    "HandleError", f"handle {a.handle} is not live in this session "
                    "(never created, or already released)")) from None
            if type(v) is Poison:
                raise _Poisoned(v)
            return v
        if t is list:
            return [self._resolve(x) for x in a]
        if t is tuple:
            return tuple(self._resolve(x) for x in a)
        if t is dict:
            return {k: self._resolve(v) for k, v in a.items()}
        if t is slice:
            return slice(self._resolve(a.start), self._resolve(a.stop), self._resolve(a.step))
        return a

    def _store(self, out, value, seq=None, name=None):
        if out is None:
            return
        if isinstance(out, list):
            if type(value) is Box and is_tuple_value(value):
                # A traced tuple answer: each handle gets its element, traced through it.
                value = [_element(value, i) for i in range(len(getval_all(value)))]
            if not isinstance(value, (tuple, list)) or len(value) != len(out):
                raise OpFailure(error_object("ProtocolError", f"op gives {_count(value)} "
                                             f"result(s) but names {len(out)} handle(s)",
                                             seq=seq, op=name))
            for h, v in zip(out, value):
                self._store(h, v, seq, name)
            return
        if not isinstance(out, int) or isinstance(out, bool):
            raise OpFailure(error_object("ProtocolError", f"output handle {out!r} must be an "
                                         "integer", seq=seq, op=name))
        if out not in self.handles and len(self.handles) >= self.limits.max_live_handles:
            raise OpFailure(_handle_limit(len(self.handles), self.limits, seq, name))
        self._set(out, value, seq, name)

    def _set(self, h, value, seq=None, name=None):
        """handles[h] = value, keeping count of the session's bytes (max_session_bytes)."""
        raw = value
        while type(raw) is Box:
            raw = raw._value
        if type(raw) is np.ndarray or isinstance(raw, np.generic):
            if raw.dtype not in _ALLOWED_DTYPES and raw.dtype.name not in DTYPES:
                _refuse_dtype(raw.dtype, seq, name)
            size = HANDLE_BYTES + raw.nbytes
        else:
            if type(raw) is tuple or type(raw) is list:
                _check_items(raw, seq, name)    # several results: each is held to the rule
            size = _charge(raw)
        old = self.handles.get(h)
        old_size = 0 if old is None else _charge(old)
        if size > old_size and self.nbytes - old_size + size > self.limits.max_session_bytes:
            raise OpFailure(_bytes_limit(self.nbytes - old_size, size, self.limits, seq, name))
        self.handles[h] = value
        self.nbytes += size - old_size

    def _drop(self, h):
        old = self.handles.pop(h, None)
        if old is not None:
            self.nbytes -= _charge(old)

    def _poison(self, out, poison):
        if out is None:
            return
        handles = self.handles
        for h in (out if isinstance(out, list) else [out]):
            if isinstance(h, int) and not isinstance(h, bool):
                if h not in handles and len(handles) >= self.limits.max_live_handles:
                    continue   # past the limit a failed op's outputs stay unwritten
                self._drop(h)
                handles[h] = poison

    def _daemon_handle(self, value):
        if len(self.handles) >= self.limits.max_live_handles:
            raise OpFailure(_handle_limit(len(self.handles), self.limits, None, None,
                                          "to describe a callback's values"))
        h = self._next_daemon_handle
        self._next_daemon_handle -= 1
        self._set(h, value)
        return h

    # --- errors --------------------------------------------------------------------------
    def _record(self, info):
        self.error_count += 1
        if self.error is None:
            self.error = info

    @staticmethod
    def _op_error(seq, name, exc):
        kind = "GradientError" if isinstance(exc, EngineError) else "OpError"
        return error_object(kind, f"{type(exc).__name__}: {exc}", seq=seq, op=name)

    # --- replies -------------------------------------------------------------------------
    #: The daemon's count of bytes in this session's connection's replies not yet read by
    #: its peer (a callable), or None. They take from the room a reply's values have.
    unread_replies = None

    def _reply(self, frame):
        """The body of a sync batch's result. It cannot fail: a value that cannot be sent
        is nil, with an error recorded."""
        values, meta = [], []
        if frame.fetch:
            room = self._reply_room()
            for h in frame.fetch:
                value = self._fetch_value(h, room)
                if value is not None:
                    room -= value.nbytes
                values.append(value)
        for h in frame.meta:
            meta.append(self._fetch_meta(h))
        body = {"values": values, "meta": meta, "error": self.error}
        if self.error is not None:
            body["errors"] = self.error_count
        self.error = None
        self.error_count = 0
        return body

    def _reply_room(self):
        """Bytes the values of one result may have: what a message may carry
        (--max-message-bytes), less what this connection's earlier replies still hold in
        the daemon because its peer has not read them."""
        room = self.limits.max_message_bytes
        unread = self.unread_replies() if self.unread_replies is not None else 0
        return room - unread

    def _lookup_for_reply(self, h):
        if type(h) is Ref:
            h = h.handle
        if not isinstance(h, int) or isinstance(h, bool):
            self._record(error_object("HandleError", f"a fetch or meta entry must be a "
                                      f"handle, not {shorten(h)}"))
            return None
        v = self.handles.get(h, _MISSING)
        if v is _MISSING:
            self._record(error_object("HandleError", f"handle {h} is not live in this session"))
            return None
        if type(v) is Poison:
            self._record(error_object(
                v.type, f"handle {h} holds no value: op '{v.op}' (seq {v.seq}) failed: "
                f"{v.message}", seq=v.seq, op=v.op))
            return None
        return v

    def _fetch_value(self, h, room=None):
        """The array to send for fetch entry ``h``, if it fits in ``room`` bytes; else None,
        with an error recorded. Only a single array of a whitelisted dtype is sent."""
        v = self._lookup_for_reply(h)
        if v is None:
            return None
        h = getattr(h, "handle", h)
        raw = getval_all(v)
        if isinstance(raw, (tuple, list)):
            # (np.asarray would stack equal shapes into one array and fail on others)
            self._record(error_object(
                "HandleError", f"handle {h} holds {len(raw)} results, not one array; fetch "
                "them one by one (getitem, or an out list naming a handle for each)"))
            return None
        try:
            value = np.asarray(raw)
        except Exception as exc:
            self._record(error_object("HandleError", f"handle {h} holds a "
                                      f"{type(raw).__name__} that is not an array "
                                      f"({type(exc).__name__})"))
            return None
        if value.dtype.num not in _SENDABLE:
            self._record(error_object(
                "HandleError", f"handle {h} holds a {type(raw).__name__} of dtype "
                f"{value.dtype}, which cannot be sent; allowed: {', '.join(sorted(DTYPES))}"))
            return None
        limit = self.limits.max_message_bytes
        if value.nbytes > limit:
            # Checked before the copy that encoding makes: a broadcast view is free to make
            # but not to send.
            self._record(error_object(
                "LimitError", f"handle {h} holds {value.nbytes} bytes, "
                f"more than a reply may carry ({limit}, --max-message-bytes)",
                limit="max_message_bytes"))
            return None
        if room is not None and value.nbytes > room:
            self._record(error_object(
                "LimitError", f"handle {h} holds {value.nbytes} bytes, and this reply has "
                f"room for {max(room, 0)} more: a reply's values, with the replies this "
                f"connection has not read yet, may have at most {limit} bytes "
                "(--max-message-bytes); read the replies, or fetch less at a time",
                limit="max_message_bytes"))
            return None
        return value

    def _fetch_meta(self, h):
        v = self._lookup_for_reply(h)
        if v is None:
            return None
        raw = getval_all(v)
        if isinstance(raw, (tuple, list)):
            # Several results in one handle (eigh, split): the client unpacks them by index.
            return [[len(raw)], "tuple", trace_level(v)]
        try:
            return [list(np.shape(raw)), np.result_type(raw).name, trace_level(v)]
        except Exception:
            self._record(error_object("HandleError", f"handle {getattr(h, 'handle', h)} "
                                      f"holds a {type(raw).__name__}, not an array"))
            return None

    def _callback_body(self, frame):
        node, g = frame.gen_request.node, frame.gen_request.g
        self._next_cb += 1
        frame.cb_id = self._next_cb

        def describe(v):
            if isinstance(v, (Box, np.ndarray, np.generic)):
                raw = getval_all(v)
                return {"h": Ref(self._daemon_handle(v)), "shape": list(np.shape(raw)),
                        "dtype": np.result_type(raw).name, "level": trace_level(v)}
            return {"c": v}

        kwargs = {k: v for k, v in node.kwargs.items() if k not in ("_result", "_tangents")}
        return {"cb": frame.cb_id, "prim": node.prim.client, "name": node.prim.name,
                "argnums": list(node.argnums), "g": describe(g), "ans": describe(node.ans),
                "args": [describe(a) for a in node.args], "kwargs": kwargs,
                # the session's top trace level at the suspended vjp: ops the client sends
                # while answering (a grad inside the gradient function) nest above it
                "level": self.level}

    # --- backward passes -------------------------------------------------------------------
    def _step(self, frame, sent):
        """Advance the frame's backward pass until it suspends or finishes."""
        started = _now()
        self._pass_deadline = started + frame.pass_left
        try:
            request = frame.gen.send(sent)
        except StopIteration as stop:
            seq, out, starts = frame.gen_op
            frame.gen = None
            grads = [zero_cotangent(s) if g is None else g for g, s in zip(stop.value, starts)]
            self._store(out, grads, seq, "vjp")
            return
        finally:
            frame.pass_left -= _now() - started
        frame.gen_request = request

    def _pass_check(self, frame):
        """Called before each node of a backward pass: stop it, or look at the socket."""
        now = _now()
        if now > self._pass_deadline:
            seq = frame.gen_op[0] if frame.gen_op else None
            raise OpFailure(error_object(
                "LimitError", f"the backward pass ran longer than "
                f"{self.limits.max_backward_seconds:g} s (--max-backward-seconds) and was "
                "stopped", limit="max_backward_seconds", seq=seq, op="vjp"))
        if self.control is not None and now >= self.next_poll:
            self.next_poll = now + POLL_SECONDS
            self.control()
        if frame.epoch != self.cancels:
            frame.cancelled = True
            seq = frame.gen_op[0] if frame.gen_op else None
            raise OpFailure(_cancelled(seq, "vjp", during="its backward pass"))

    def _fail_vjp(self, frame, info, poison=None):
        seq, out, _ = frame.gen_op
        if frame.gen is not None:
            frame.gen.close()
        frame.gen = None
        if info is not None:
            self._record(info)
            poison = Poison(seq, "vjp", info["message"], info.get("type", "OpError"))
        self._poison(out, poison)

    # --- life cycle: cancel, callback time-outs, the end ----------------------------------
    def cancel(self):
        """A ``cancel`` arrived: every batch received before it stops (see ``unwind``)."""
        self.cancels += 1

    def unwind(self):
        """Stop the suspended batches older than the last cancel; their replies to send.

        Each one's vjp fails with ``Cancelled``, the rest of its ops are skipped (except
        bookkeeping) and a sync batch gets its ``result``. Called by the daemon when no
        batch of this session is running.
        """
        out = []
        while self.frames and self.frames[-1].epoch != self.cancels:
            frame = self._pop_frame()
            self._abandoned.append(frame.cb_id)
            frame.cancelled = True
            self._fail_vjp(frame, _cancelled(frame.gen_op[0], "vjp",
                                             during="its callback"))
            out.extend(self._resume(frame))
        return out

    def next_deadline(self):
        """When the innermost outstanding callback times out (inf if none)."""
        return self.frames[-1].cb_deadline if self.frames else float("inf")

    def expire_callbacks(self, now):
        """Fail the innermost callbacks whose time is up and resume their batches.

        Returns the messages to send (results, or new callbacks).
        """
        out = []
        while self.frames and self.frames[-1].cb_deadline <= now:
            frame = self._pop_frame()
            self._abandoned.append(frame.cb_id)
            name = frame.gen_request.node.prim.name if frame.gen_request else "?"
            self._fail_vjp(frame, error_object(
                "LimitError", f"the client did not answer callback {frame.cb_id} (the "
                f"gradient of '{name}') within "
                f"{self.limits.callback_timeout_seconds:g} s (--callback-timeout-seconds); "
                "the vjp failed and the session goes on",
                limit="callback_timeout_seconds", seq=frame.gen_op[0], op="vjp"))
            out.extend(self._resume(frame))
        return out

    def _resume(self, frame):
        """Run the rest of a batch that the daemon resumed (after a cancel or a time-out):
        its messages. This runs outside the handling of any message, so a failure must not
        escape: the batch's client gets an error reply (a sync batch's, with its req)."""
        try:
            return self._run(frame)
        except OpFailure as exc:
            info = exc.info
        except Exception as exc:
            log.exception("internal error resuming a batch")
            info = error_object("InternalError", clip(f"{type(exc).__name__}: {exc}"))
        if frame.gen is not None:
            frame.gen.close()
            frame.gen = None
        if frame.reply_to is None:
            self._record(info)     # a batch with no reply: the next result reports it
            return []
        return [(kinds.ERROR, {"error": info}, frame.reply_to)]

    def close(self):
        """Free everything the session owns: handles, suspended passes, publications."""
        n = len(self.handles)
        for frame in self.frames:
            if frame.gen is not None:
                frame.gen.close()
        self.frames.clear()
        self.handles.clear()
        self.client_prims.clear()
        self.recording = None
        self.tapes.clear()
        self.shared.drop_owner(self.sid)
        self.published.clear()
        self.nbytes = 0
        return n


_MISSING = object()
# The dtypes a reply may carry, by dtype.num (numpy computes dtype.name in Python: slow).
_SENDABLE = frozenset(np.dtype(code).num for code in np.typecodes["All"]
                      if np.dtype(code).name in DTYPES)
# (native byte order: what the ops make) The wire's dtype whitelist holds inside the daemon
# too: no op may make object or string arrays (unbounded Python arithmetic, sizes the
# limits cannot see).
_ALLOWED_DTYPES = frozenset(np.dtype(name) for name in DTYPES)

#: What one live handle costs the daemon beside its array data (its dict entry, the value's
#: Python object, and a Box with its Node when traced: about 400 bytes measured with
#: tracemalloc), charged to the session's bytes so that many tiny handles count too.
HANDLE_BYTES = 400
_ITEM_BYTES = 32        # a Python number or reference inside a container


def _refuse_dtype(dtype, seq, name):
    raise OpFailure(error_object(
        "OpError", f"op '{name}' made an array of dtype {dtype}, which is not allowed; "
        f"allowed: {', '.join(sorted(DTYPES))}", seq=seq, op=name))


def _check_items(values, seq, name):
    """The dtype whitelist for every array inside a multi-result value."""
    for v in values:
        v = getval_all(v)
        if type(v) is np.ndarray or isinstance(v, np.generic):
            if v.dtype not in _ALLOWED_DTYPES and v.dtype.name not in DTYPES:
                _refuse_dtype(v.dtype, seq, name)
        elif type(v) is tuple or type(v) is list:
            _check_items(v, seq, name)


def _nbytes(v):
    """Bytes of data in a handle's value: array data, and the Python objects of containers
    (0 for a single number or a poison)."""
    t = type(v)
    if t is np.ndarray:
        return v.nbytes
    if t is Box:
        return _nbytes(getval_all(v))
    if t is tuple or t is list:
        return sum(_nbytes(x) + _ITEM_BYTES for x in v)
    if isinstance(v, np.generic):
        return v.nbytes
    return 0


def _charge(v):
    """What a handle holding ``v`` counts against --max-session-bytes."""
    return 0 if type(v) is Poison else HANDLE_BYTES + _nbytes(v)


def _handle_limit(held, limits, seq, name, what=""):
    return error_object(
        "LimitError", f"session holds {held} live handles; the limit is "
        f"{limits.max_live_handles} (--max-live-handles)" + (f"; no room {what}" if what else ""),
        limit="max_live_handles", **({} if seq is None else {"seq": seq}),
        **({} if name is None else {"op": name}))


def _bytes_limit(held, more, limits, seq, name):
    return error_object(
        "LimitError", f"session holds {held} bytes of arrays and this needs {more} more; the "
        f"limit is {limits.max_session_bytes} (--max-session-bytes)",
        limit="max_session_bytes", **({} if seq is None else {"seq": seq}),
        **({} if name is None else {"op": name}))


def _cancelled(seq, name, during=None):
    where = f" during {during}" if during else ""
    return error_object(
        "Cancelled", f"the client cancelled this batch{where}: op '{name}' (seq {seq}) and "
        "the ops after it did not run", **({} if seq is None else {"seq": seq}), op=name)


def _count(v):
    return len(v) if isinstance(v, (tuple, list)) else 1


def _element(value, i):
    """Element i of a handle that holds several results (a tuple answer, or a list)."""
    if type(value) is Box and is_tuple_value(value):
        return tuple_item(value, i)
    return value[i]


# The session's own ops (trace levels, boxes, passes, uploads, tapes) need the helpers
# above, so they are imported last.
from .session_ops import SESSION_OPS as _SESSION_OPS  # noqa: E402
from .session_ops import check_session_op as _check_session_op  # noqa: E402
