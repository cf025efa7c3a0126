"""A client's session with the daemon: one DEALER socket, batched ops, synchronous fetches.

Both clients use this class: adclient directly, and adlua from its Lua host. Ops are
appended to a pending batch and sent without waiting for a reply; a sync sends the batch
with the handles whose values or shapes the caller needs and waits for one reply. While
it waits, the daemon may call back (a backward pass reached a gradient the client
defined): the handler runs right here, its own ops go out, and the wait resumes.

With no address configured (ADSERVER_ADDRESS unset) the session starts a private daemon
on an ipc socket in a fresh 0700 directory and stops it when the process exits
(private_daemon.py: it runs in a session of its own, out of reach of the terminal's Ctrl-C).

The service side (PROTOCOL.md sections 6, 7.1 and 15), all on the caller's own thread:

- **Reaching the daemon.** An address where no daemon takes the connection within a few
  seconds (ADSERVER_CONNECT_TIMEOUT, default 5) raises DaemonUnreachable, which says what
  to do; a daemon that took the connection has a minute to answer ``hello`` (it may be
  starting, or busy with a long op). A private daemon that is still starting is waited
  for as long as it runs.
- **hello** follows a ``redirect`` (a front door of ``adserver --workers``) and answers a
  ``challenge`` with the token (``adserver.auth``: the token file is found as the daemon
  finds it, or through ADSERVER_TOKEN_FILE), then checks the daemon's ``proof``. With
  ADSERVER_CURVE_SERVER_KEY set, the connection is CURVE-encrypted (``adserver.keys``).
- **Keepalive.** The daemon ends a session that sends nothing for its lease
  (``welcome.limits.lease_seconds``). Every message refreshes it; besides, at any call
  into the session after half a lease without a message (``op``, ``flush``, ``sync``,
  ``get_session``), the client sends its pending ops or, with none, a ``ping`` naming its
  session. No timer and no thread: a client that makes no call for a whole lease loses the
  session (the private daemon has no lease).
- **A lost session.** A socket monitor reports a dropped connection (the daemon stopped
  or restarted; ZMTP heartbeats also notice a vanished host), and a SessionError reply to
  any message says the daemon no longer knows the session. Either way the session is
  closed, the next call raises SessionLost naming it, and ``get_session()`` then starts a
  new one.
- **Cancel.** Ctrl-C while waiting for a reply sends ``cancel`` (the daemon stops the
  running batch between ops or backward nodes), waits for the cancelled reply so that the
  session stays in step, and re-raises KeyboardInterrupt. A second Ctrl-C abandons the
  session. A Ctrl-C never splits a message: while one is being sent or read it waits
  (interrupts.py), and a ``ping`` sent after the ``cancel`` bounds the wait even if the
  interrupt came just as the reply was read.
- A batch the daemon refused as a whole (a LimitError for an over-large array in a
  fire-and-forget batch) is raised at the next sync.
"""
import atexit
import os
import sys
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

import adproto
from adproto import kinds, Ref, handle_ext
from . import interrupts
from .errors import DaemonError, SessionLost
from .private_daemon import PrivateDaemon

FLUSH_OPS = 256    # send a batch once this many ops are pending, without waiting: the
                   # daemon runs it while the client traces on (2000-op chain: 19 -> 14.5 ms
                   # on 2 cores), at ~60 us of messaging per batch on each side
RELEASE_BATCH = 256   # dropped handles gathered into one release op ...
EAGER_RELEASE_BYTES = 1 << 16   # ... unless one of them holds this much (or an unknown size)
HEARTBEAT_MS = 10_000          # ZMTP heartbeats: a host that vanished is noticed ...
HEARTBEAT_TIMEOUT_MS = 60_000  # ... after this long without any traffic
MAX_REDIRECTS = 3
RECV_WAIT_MS = 100             # a wait for a reply checks the connection this often
CONNECT_TIMEOUT_ENV = "ADSERVER_CONNECT_TIMEOUT"
DEFAULT_CONNECT_SECONDS = 5.0  # an address where no daemon takes the connection, reported
WELCOME_SECONDS = 60.0         # a daemon that took it (or a private one starting) may take
                               # this long to answer hello
_MONITOR_EVENTS = (zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                   zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_AUTH |
                   zmq.EVENT_HANDSHAKE_SUCCEEDED)
_busy = interrupts.state       # .busy while a message is half sent or read (interrupts.py)


class DaemonUnreachable(SessionLost, TimeoutError):
    """No daemon took the connection at the configured address."""


class Session:
    def __init__(self, address=None, client="adclient", connect_timeout=None, token_file=None):
        """``connect_timeout``: seconds for a daemon to take the connection at ``address``
        (default: ADSERVER_CONNECT_TIMEOUT, else 5)."""
        self.client = client
        self.ctx = zmq.Context.instance()
        interrupts.install()
        self._daemon = None
        self._reach_timeout = _connect_seconds(connect_timeout)
        self._reach_by = None          # when DaemonUnreachable is due, until the daemon answers
        self._unread = None            # a message read as a Ctrl-C came, for the next _recv
        if address is None:
            self._daemon = PrivateDaemon()
            address = self._daemon.address
        self.address = address
        self.front_address = None      # the front door that redirected us, if one did
        self.token_file = token_file
        self.sock = self._monitor = None
        self.pending = []
        self._releases = []
        self._dropped_tapes = []       # tape ids to free on the daemon, with the releases
        self._release_now = False      # a large handle is among the releases: send them
        self.recorder = None           # the call being recorded as a tape (replay.py)
        self._next_tape = 0
        self._origins = {}
        self._seq = 0
        self._next_handle = 1
        self._req = 0
        self.level = 0
        self.forward_levels = {}   # level -> True for a forward-mode (tangent) trace
        # What queued passes may need when they call back (client primitives' call
        # records), held until a sync outside any callback has run them.
        self.keep_alive = []
        self._serving = 0
        self.callbacks = {}
        self.round_trips = 0
        self.releases_sent = 0
        self._must_sync = False
        self.locator = _user_location
        self.closed = False
        self.sid = None
        self.lost = None               # why the session is gone, once it is known to be
        self._lost_reported = False
        self._refused = None           # an error reply to a fire-and-forget batch
        # exceptions raised by gradient functions run for the daemon, by number, until the
        # daemon's report of the failed pass names one (it is raised then: see _raise)
        self._callback_errors = {}
        self._pid = os.getpid()
        self.lease = 0.0
        self._keepalive_at = float("inf")
        self.authenticated = False
        self._connect(address)
        try:
            welcome = self._hello(WELCOME_SECONDS)
        except BaseException:
            self._close_socket()
            self._stop_private_daemon()
            raise
        self.sid = welcome["session"]
        self._reach_by = None
        self.limits = welcome.get("limits", {})
        self.lease = float(self.limits.get("lease_seconds") or 0.0)
        self._touch()

    # --- the private daemon ----------------------------------------------------------------
    def _stop_private_daemon(self):
        if self._daemon is not None:
            self._daemon.stop()
            self._daemon = None

    # --- the connection ------------------------------------------------------------------------
    def _connect(self, address):
        self._close_socket()
        sock = self.ctx.socket(zmq.DEALER, socket_class=_Socket)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.HEARTBEAT_IVL, HEARTBEAT_MS)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, HEARTBEAT_TIMEOUT_MS)
        if self._daemon is None:
            from adserver.keys import client_options
            for opt, value in client_options().items():
                sock.setsockopt(opt, value)
            self.curve = bool(os.environ.get("ADSERVER_CURVE_SERVER_KEY"))
        else:
            self.curve = False
        self._monitor = sock.get_monitor_socket(_MONITOR_EVENTS)
        # _recv waits in a blocking recv, which makes fewer system calls than a poll of
        # the socket and its monitor, then a recv: so a wait looks at the monitor (and
        # the private daemon, and the deadline) every RECV_WAIT_MS only.
        sock.setsockopt(zmq.RCVTIMEO, RECV_WAIT_MS)
        sock.connect(address)
        self.sock = sock
        self.address = address
        # A private daemon that is starting is waited for as long as it runs (_recv
        # watches it); elsewhere nothing may be listening at all.
        self._reach_by = None if self._daemon is not None else \
            time.monotonic() + self._reach_timeout

    def _close_socket(self):
        if self.sock is not None:
            try:
                self.sock.disable_monitor()
            except zmq.ZMQError:
                pass
            self.sock.close(0)
            self.sock = None
        if self._monitor is not None:
            self._monitor.close(0)
            self._monitor = None

    def _hello(self, timeout):
        """hello, following redirects and answering a challenge; the welcome body."""
        body = {"versions": [adproto.PROTOCOL_VERSION], "client": self.client}
        auth = None
        for _ in range(MAX_REDIRECTS + 2):
            kind, reply = self._exchange(kinds.HELLO, body, timeout=timeout)
            if kind == kinds.WELCOME:
                if auth is not None:
                    from adserver.auth import check_proof
                    if not check_proof(self._token, auth, reply.get("session", ""),
                                       reply.get("proof")):
                        raise DaemonError({"type": "AuthError", "message":
                                           f"the daemon at {self.address} did not prove that "
                                           "it holds the token: it may not be the daemon you "
                                           "meant to reach"})
                    self.authenticated = True
                return reply
            if kind == kinds.CHALLENGE and auth is None:
                from adserver.auth import answer, load_token, TokenError
                try:
                    self._token = load_token(self.token_file)
                except TokenError as exc:
                    raise DaemonError({"type": "AuthError", "message":
                                       f"the daemon at {self.address} requires a token: "
                                       f"{exc}"}) from None
                auth = body["auth"] = answer(self._token, reply)
                continue
            if kind == kinds.REDIRECT and self.front_address is None:
                if self.front_address is None:
                    self.front_address = self.address
                self._connect(_redirected(self.address, str(reply.get("address"))))
                continue
            raise DaemonError({"type": "ProtocolError",
                               "message": f"unexpected {kind!r} in answer to hello"})
        raise DaemonError({"type": "ProtocolError", "message": "hello went round in circles"})

    def _touch(self):
        """A message went out: the lease is fresh; the next keepalive is half a lease away."""
        if self.lease > 0:
            self._keepalive_at = time.monotonic() + self.lease / 2

    def keepalive(self):
        """If half a lease has passed without a message, send one (pending ops, or a ping)."""
        if time.monotonic() < self._keepalive_at or self.closed:
            return
        if self.pending or self._releases:
            self.flush()
        else:
            self._check_pid()
            self._send(kinds.PING, {})


    # --- handles and ops -------------------------------------------------------------------
    def new_handle(self):
        h = self._next_handle
        self._next_handle = h + 1
        return h

    def op(self, name, args, kwargs=None, out=True):
        """Queue one op; returns its output handle (or list of them, for ``out=n``)."""
        if out is True:
            out = self._next_handle
            self._next_handle = out + 1
        elif out:
            first = self._next_handle
            self._next_handle = first + out
            out = list(range(first, first + out))
        else:
            out = None
        if self._release_now or len(self._releases) >= RELEASE_BATCH or self._dropped_tapes:
            # Dropped handles are released in stream order, after their last use: small
            # ones a few hundred per release op (one per dropped temporary would be a third
            # of a scalar chain's ops), a large or unknown one right away, so that the
            # daemon frees its memory as soon as it can.
            self._emit_releases()
        if self.recorder is not None:
            self.recorder.scan(args)
            if kwargs:
                self.recorder.scan(kwargs)
        self._seq = seq = self._seq + 1
        # Queued ops name handles, not the proxies that own them: a proxy the user's code
        # has dropped must not be kept alive by the queue.
        self.pending.append([seq, name, out, _wire_list(args),
                             None if kwargs is None else _wire(kwargs)])
        if name == "vjp" and self.callbacks:
            # This pass may call back into this process: the batch that carries it must be
            # a sync, so that the callback is served while the client listens, and no later
            # op can run before the pass has filled its outputs.
            self._must_sync = True
        if self.locator is not None:
            self._origins[seq] = self.locator()
        if len(self.pending) >= FLUSH_OPS or time.monotonic() >= self._keepalive_at:
            self.flush()
        return out

    def release(self, handle, nbytes=None):
        """Forget a handle (of ``nbytes`` bytes, if known); rides with the next batch.
        Safe from a finalizer (no I/O)."""
        self._releases.append(handle)
        if nbytes is None or nbytes >= EAGER_RELEASE_BYTES:
            self._release_now = True

    def new_tape_id(self):
        self._next_tape += 1
        return self._next_tape

    def drop_tape(self, tape_id):
        """Free a tape on the daemon; rides with the next batch. Safe from a finalizer."""
        self._dropped_tapes.append(tape_id)

    def _emit_releases(self):
        releases, self._releases = self._releases, []
        self._release_now = False
        if releases:
            self.releases_sent += len(releases)
            self._seq += 1
            self.pending.append([self._seq, "release", None, [releases], None])
        if self._dropped_tapes:
            tapes, self._dropped_tapes = self._dropped_tapes, []
            self._seq += 1
            self.pending.append([self._seq, "tape.drop", None, [tapes], None])

    def _take_batch(self):
        if self._releases or self._dropped_tapes:
            self._emit_releases()
        ops, self.pending = self.pending, []
        return ops

    def flush(self):
        """Send pending ops without waiting for anything."""
        if self.closed or (not self.pending and not self._releases):
            return
        if self._must_sync:
            self.sync()
            return
        self._check_pid()
        self._send(kinds.BATCH, {"ops": self._take_batch()})

    def sync(self, fetch=(), meta=()):
        """Send pending ops and wait: (values of ``fetch``, [shape, dtype, level] of ``meta``)."""
        self._check_pid()
        self._must_sync = False
        if fetch and self.recorder is not None:
            # The call being recorded reads a value: what it does next may depend on it.
            self.recorder.note("it reads traced values (a comparison, a conversion to a "
                               "number, printing)")
        body = self._request(kinds.BATCH, {"ops": self._take_batch(), "sync": True,
                                           "fetch": list(fetch), "meta": list(meta)},
                             cancellable=True)
        if not self._serving:
            self.keep_alive.clear()
        if self._refused is not None:
            refused, self._refused = self._refused, None
            refused.setdefault("message", "refused")
            refused["message"] = "a batch sent earlier was refused: " + refused["message"]
            self._raise(refused)
        err = body.get("error")
        if err:
            self._raise(err)
        self._origins.clear()
        return body.get("values", []), body.get("meta", [])

    def _raise(self, err):
        origin = self._origins.get(err.get("seq"))
        self._origins.clear()
        location = None
        if origin is not None:
            code, line = origin
            location = f"{code.co_filename}:{line} in {code.co_name}"
        detail = err.get("detail")
        in_callback = self._callback_errors.pop(
            detail.get("client_error") if isinstance(detail, dict) else None, None)
        self._callback_errors.clear()
        if in_callback is not None:
            # A gradient function of the user's raised it: raised again as it is, so that
            # its traceback ends at the user's line that raised (as in autograd's).
            exc, primitive = in_callback
            if not getattr(exc, "_adclient_noted", False):
                exc._adclient_noted = True      # (a nested pass raises it again)
                exc.add_note(f"(raised by a gradient function of primitive {primitive!r}, "
                             "called back by the daemon during the backward pass" +
                             (f" issued at {location})" if location else ")"))
            raise exc
        raise DaemonError(err, location)

    def _keep_callback_error(self, exc, primitive):
        """Number ``exc`` (raised by a gradient function of ``primitive``) for the
        daemon's report of the failed pass."""
        number = len(self._callback_errors) + 1
        self._callback_errors[number] = exc, primitive
        return number

    # --- trace levels ------------------------------------------------------------------------
    def push_level(self, forward=False):
        """A new trace level, reverse mode or (``forward``) forward mode."""
        self.level += 1
        self.forward_levels[self.level] = forward
        self.op("trace.push", [self.level], out=False)
        return self.level

    def pop_level(self, level):
        self.op("trace.pop", [level], out=False)
        self.forward_levels.pop(level, None)
        self.level = level - 1

    # --- messages ------------------------------------------------------------------------------
    def _send(self, kind, body):
        req = self._put(kind, body)
        interrupts.raise_pending()
        return req

    def _put(self, kind, body):
        """Send one message, whole: a Ctrl-C meanwhile is left pending (interrupts.py)."""
        self._req += 1
        header = {"req": self._req}
        if self.sid is not None:
            header["session"] = self.sid
        frames = adproto.encode(kind, body, **header)
        _busy.busy = True
        try:
            self.sock.send_multipart(frames, copy=False)
        finally:
            _busy.busy = False
        self._touch()
        return self._req

    def _request(self, kind, body, timeout=None, cancellable=False):
        rkind, reply = self._exchange(kind, body, timeout, cancellable)
        return reply

    def _exchange(self, kind, body, timeout=None, cancellable=False):
        """Send one message and wait for its answer: (kind, body) of the answer.

        Callbacks that arrive meanwhile are served. An ``error`` answer raises DaemonError
        (SessionLost for a SessionError); Ctrl-C cancels (see the module docstring).
        """
        req = self._put(kind, body)
        self.round_trips += 1
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            interrupts.raise_pending()
            while True:
                header, reply = self._recv(deadline)
                rkind = header["kind"]
                if rkind == kinds.CALLBACK:
                    self._serve_callback(reply)
                    continue
                rreq = header.get("req")
                if rkind == kinds.ERROR:
                    err = reply.get("error", {})
                    if err.get("type") == "SessionError" and self.sid is not None:
                        self._lose(err.get("message", "the daemon no longer knows it"))
                    if rreq not in (req, None):
                        # The answer to a fire-and-forget batch the daemon refused.
                        if self._refused is None:
                            self._refused = dict(err)
                        continue
                    raise DaemonError(err)
                if rreq != req:
                    continue  # a late answer to an abandoned request, or a pong
                return rkind, reply
        except KeyboardInterrupt:
            if cancellable and self.sid is not None and not self.closed:
                self._cancel_and_drain(req)
            raise

    def _cancel_and_drain(self, req):
        """Ctrl-C while waiting for ``req``: cancel, then wait for its (cancelled) answer.

        The daemon answers a ``ping`` of this connection after the batch it is running, so
        its ``pong`` ends the wait too: the answer itself may have been read just as the
        Ctrl-C came, and dropped with the frame that held it.
        """
        try:
            self._put(kinds.CANCEL, {})
            barrier = self._put(kinds.PING, {})
            while True:
                header, reply = self._recv(None)
                if header["kind"] == kinds.CALLBACK:
                    # The user asked to stop: do not run more of their code.
                    self._send(kinds.CALLBACK_RETURN, {"cb": reply.get("cb"), "grads": [],
                                                       "error": {"message": "cancelled",
                                                                 "type": "KeyboardInterrupt"}})
                    continue
                if header.get("req") in (req, barrier):
                    return
        except KeyboardInterrupt:
            self.closed = True
            self.lost = "interrupted twice while its batch was being cancelled"
            self._lost_reported = True
        except SessionLost:
            pass

    def _lose(self, reason):
        """The session is gone: close it and raise SessionLost naming it."""
        self.closed = True
        if self.lost is None:
            self.lost = reason
        self._lost_reported = True
        raise SessionLost(self._lost_message())

    def raise_unreported_loss(self):
        """Raise SessionLost if the session is lost and no call has said so yet: the values
        it held are gone, and the caller is told once before a new session starts."""
        if self.lost is not None and not self._lost_reported and self._pid == os.getpid():
            self._lost_reported = True
            raise SessionLost(self._lost_message())

    def _lost_message(self):
        where = self.address if self.front_address is None else \
            f"{self.address} (via {self.front_address})"
        if self.sid is None:
            return f"cannot open a session at {where}: {self.lost}"
        return (f"session {self.sid} at {where} is lost: {self.lost}. The values it held are "
                "gone; the next operation starts a new session")

    def _poll_monitor(self):
        """Read the socket monitor: a dropped connection means a lost session."""
        mon = self._monitor
        if mon is None:
            return
        while True:
            try:
                # Asked first: this runs at every sync, and most of the time there is no
                # event (see _poll). (A closed socket must not reach zmq_poll.)
                if mon.closed or not _poll([(mon, _POLLIN)], 0):
                    break
                _busy.busy = True   # an event is two frames (see interrupts.py)
                try:
                    ev = recv_monitor_message(mon, zmq.NOBLOCK)
                finally:
                    _busy.busy = False
            except zmq.ZMQError:   # (zmq.Again among them) the monitor is closed or empty
                break
            e = ev["event"]
            if e & zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._reach_by = None     # a daemon took the connection
            elif e & (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL |
                    zmq.EVENT_HANDSHAKE_FAILED_AUTH):
                why = ("the CURVE handshake failed: is ADSERVER_CURVE_SERVER_KEY the daemon's "
                       "public key, and does the daemon use CURVE?" if self.curve else
                       "the ZeroMQ handshake failed: does the daemon require CURVE "
                       "(ADSERVER_CURVE_SERVER_KEY)?")
                if self.sid is None:
                    self.closed = True
                    raise SessionLost(f"cannot connect to {self.address}: {why}")
                if self.lost is None:
                    self.closed, self.lost = True, why
            elif e & zmq.EVENT_DISCONNECTED and self.sid is not None and self.lost is None:
                self.closed = True
                self.lost = ("the daemon closed the connection (it stopped or restarted, or "
                             "the network failed)")
        interrupts.raise_pending()

    def _recv(self, deadline):
        while True:
            frames = self._recv_frames()
            if frames is not None:
                # writable: fetched values are the user's, as numpy's own arrays are
                return adproto.decode(frames, writeable=True)
            self._poll_monitor()
            if self.lost is not None:
                self._lose(self.lost)
            if self._daemon is not None and self._daemon.exit_status() is not None:
                self._lose(f"the private daemon exited with status "
                           f"{self._daemon.exit_status()}")
            now = time.monotonic()
            if self._reach_by is not None and now > self._reach_by:
                self.closed = True
                raise DaemonUnreachable(_unreachable_message(self.address, self._reach_timeout))
            if deadline is not None and now > deadline:
                raise TimeoutError(f"no answer from the daemon at {self.address}")

    def _recv_frames(self):
        """The next message's frames (None if none came within RECV_WAIT_MS), read whole:
        a Ctrl-C meanwhile is raised after, and the message kept for the next call."""
        frames = self._unread
        if frames is not None:
            self._unread = None
            return frames
        _busy.busy = True
        try:
            frames = _recv_message(self.sock, 0)    # waits RECV_WAIT_MS at most (RCVTIMEO)
        finally:
            _busy.busy = False
        if _busy.pending:
            self._unread = frames
            interrupts.raise_pending()
        return frames

    # --- callbacks -------------------------------------------------------------------------------
    def _serve_callback(self, body):
        handler = self.callbacks.get(body.get("prim"))
        self._serving += 1
        kept = len(self.keep_alive)
        # The daemon answers at the level its op stream had reached at the suspended vjp,
        # which need not be the client's level now (grad(grad(f)) syncs at level 0 while
        # the inner pass ran inside level 1): a grad inside the gradient function must
        # push the level after the daemon's.
        saved_level, saved_forward = self.level, dict(self.forward_levels)
        if body.get("level") is not None:
            self.level = body["level"]
        try:
            try:
                if handler is None:
                    raise LookupError(f"no gradient registered for primitive "
                                      f"{body.get('name')!r}")
                grads, error = handler(body), None
            except Exception as exc:
                grads, error = [], {"message": f"{type(exc).__name__}: {exc}",
                                    "type": type(exc).__name__,
                                    "client_error": self._keep_callback_error(
                                        exc, body.get("name"))}
            self.flush()
            if self.level == 0:
                # The passes the handler queued have run (a flush with a vjp queued is a
                # sync), and nothing it made is traced at a level still open, so no later
                # pass can reach the client primitives it called: their call records can
                # go now, not at the end of the outermost pass (checkpoint inside
                # checkpoint would otherwise keep every inner block's input).
                del self.keep_alive[kept:]
            self._send(kinds.CALLBACK_RETURN, {"cb": body["cb"], "grads": grads,
                                               "error": error})
        finally:
            self.level, self.forward_levels = saved_level, saved_forward
            self._serving -= 1

    def register_callback(self, handler):
        """A new client primitive id whose VJP requests go to ``handler(callback_body)``."""
        prim_id = len(self.callbacks) + 1
        self.callbacks[prim_id] = handler
        return prim_id

    # --- life cycle --------------------------------------------------------------------------------
    def _check_pid(self):
        if os.getpid() != self._pid:
            raise SessionLost("this session belongs to the parent process; a forked child "
                              "needs its own (call adclient.session.reset())")
        if not self.closed:
            self._poll_monitor()
        if self.closed:
            if self.lost is not None:
                self._lost_reported = True
                raise SessionLost(self._lost_message())
            raise SessionLost(f"session {self.sid} is closed")

    def cancel(self):
        """Ask the daemon to stop this session's running and queued batches (no wait)."""
        if not self.closed and self.sid is not None:
            self._send(kinds.CANCEL, {})

    def close(self):
        if os.getpid() != self._pid:
            return
        if not self.closed:
            try:
                self.flush()
                self._send(kinds.BYE, {})
                deadline = time.monotonic() + 2.0
                while time.monotonic() < deadline and self.sock.poll(
                        max(1, int((deadline - time.monotonic()) * 1000))):
                    header, _ = adproto.decode(self.sock.recv_multipart())
                    if header["kind"] in (kinds.GOODBYE, kinds.ERROR):
                        break
            except Exception:
                pass
        self.closed = True
        self._close_socket()
        self._stop_private_daemon()


# Socket calls without what pyzmq's conveniences cost on every message (microseconds a
# round trip, against a budget of tens): send_multipart type-checks every frame and ors
# enum flags in Python, recv_multipart asks getsockopt(RCVMORE) after every frame although
# recv(copy=False) has read it already. _poll_monitor asks with a poll that does not wait:
# a recv that finds nothing raises zmq.Again, and getsockopt(EVENTS) takes its option
# through a Python enum.
_sock_send = zmq.backend.Socket.send
_sock_recv = zmq.backend.Socket.recv
_SNDMORE = int(zmq.SNDMORE)
_NOBLOCK = int(zmq.NOBLOCK)
_POLLIN = int(zmq.POLLIN)
_poll = zmq.zmq_poll


class _Socket(zmq.Socket):
    """The session's DEALER, whose send_multipart goes straight to each frame's send (the
    frames are adproto.encode's: bytes and buffers, no type check needed)."""

    def send_multipart(self, msg_parts, flags=0, copy=True, track=False, **kwargs):
        if track or kwargs:
            return super().send_multipart(msg_parts, flags, copy, track, **kwargs)
        flags = int(flags)
        more = flags | _SNDMORE
        last = len(msg_parts) - 1
        for i in range(last):
            _sock_send(self, msg_parts[i], more, copy)
        return _sock_send(self, msg_parts[last], flags, copy)


def _recv_message(sock, flags=_NOBLOCK):
    """The frames of the next message on ``sock``, as zmq.Frames (large arrays are not
    copied); None if none came (at once with NOBLOCK, else within the socket's RCVTIMEO)."""
    try:
        frame = _sock_recv(sock, flags, False)
    except zmq.Again:
        return None
    frames = [frame]
    while frame.more:   # the rest of a message arrives with its first frame
        frame = _sock_recv(sock, _NOBLOCK, False)
        frames.append(frame)
    return frames


def _connect_seconds(given):
    if given is not None:
        return float(given)
    text = os.environ.get(CONNECT_TIMEOUT_ENV)
    if not text:
        return DEFAULT_CONNECT_SECONDS
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{CONNECT_TIMEOUT_ENV}={text!r} is not a number of seconds") from None


def _unreachable_message(address, seconds):
    """Why no daemon answered at ``address``, and what to do about it."""
    if address.startswith("ipc://") and not os.path.exists(address[len("ipc://"):]):
        why = f"the socket file {address[len('ipc://'):]} does not exist"
    else:
        why = f"nothing took the connection within {seconds:g} s"
    configured = os.environ.get("ADSERVER_ADDRESS") == address
    where = "ADSERVER_ADDRESS" if configured else "the address"
    return (f"no adserver daemon at {address}: {why}. Start one there (adserver --listen "
            f"{address}), or check {where}" +
            (" (unset it to have a private daemon started for this process)"
             if configured else "") +
            f"; {CONNECT_TIMEOUT_ENV} sets how long to wait")


def _redirected(front, address):
    """A redirect's address, with a wildcard host replaced by the front door's host."""
    if address.startswith("tcp://") and front.startswith("tcp://"):
        host, port = address[len("tcp://"):].rsplit(":", 1)
        if host in ("0.0.0.0", "*", "::", "[::]", ""):
            front_host = front[len("tcp://"):].rsplit(":", 1)[0]
            return f"tcp://{front_host}:{port}"
    return address


def _wire(value):
    """``value`` with every handle owner (RemoteArray, a Lua tensor's Handle) replaced by a
    reference to its handle, inside lists, tuples and dicts too."""
    t = type(value)
    if t is list:
        return _wire_list(value)
    if t is tuple:
        return tuple(_wire_list(value))
    if t is dict:
        return {k: _wire(v) for k, v in value.items()}
    owner = _OWNER_TYPES.get(t)
    if owner is None:
        owner = _OWNER_TYPES[t] = t is not Ref and hasattr(t, "__adhandle__")
    return handle_ext(value.__adhandle__) if owner else value


def _wire_list(values):
    # _wire over a list, with the common leaves (handle owners, numbers) done inline: an
    # op's argument list passes through here once per op.
    out = []
    for v in values:
        t = type(v)
        owner = _OWNER_TYPES.get(t)
        if owner:
            out.append(handle_ext(v.__adhandle__))
        elif owner is False and t is not list and t is not tuple and t is not dict:
            out.append(v)
        else:
            out.append(_wire(v))
    return out


# type -> whether its instances own a handle (checked once per type, on the hot path)
_OWNER_TYPES = {}


_ADCLIENT_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_location():
    """(code, line) of the innermost frame outside adclient: where the user issued an op.

    Kept as a code object and a line number, shared by every op from the same line, and
    formatted only if that op fails.
    """
    f = sys._getframe(2)
    while f is not None:
        code = f.f_code
        inside = _INSIDE.get(code)
        if inside is None:
            if len(_INSIDE) > 10_000:    # code made at run time (exec) must not pile up
                _INSIDE.clear()
            inside = _INSIDE[code] = code.co_filename.startswith(_ADCLIENT_DIR)
        if not inside:
            return code, f.f_lineno
        f = f.f_back
    return None


# code object -> whether it is adclient's own (asked once per code object)
_INSIDE = {}


_session = None


def get_session():
    """The process's session, started on first use (ADSERVER_ADDRESS, or a private daemon)."""
    global _session
    s = _session
    if s is not None and not s.closed and s._pid == os.getpid():
        s._poll_monitor()
        if not s.closed:
            s.keepalive()
    if s is not None and s.closed:
        s.raise_unreported_loss()   # once; the next call starts anew
    if s is None or s.closed or s._pid != os.getpid():
        s = _session = Session(os.environ.get("ADSERVER_ADDRESS") or None)
        atexit.register(s.close)
    return s


def reset():
    """Close the process's session; the next use starts a new one."""
    global _session
    if _session is not None:
        _session.close()
    _session = None
