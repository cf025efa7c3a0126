"""The ZeroMQ ROUTER loop: decodes messages, routes them to sessions, sends replies.

One thread serves every session; a session suspended in a client callback does not
block the others, because its state waits in its frame stack, not on this loop.

The loop also keeps the sessions' life cycle (PROTOCOL.md sections 6, 7.1, 13 and 15):

- **Leases.** Every message a session's client sends, and every reply the daemon sends
  it, refreshes the session's lease. When the daemon is idle (every message received so
  far has been handled), a session whose lease is older than ``lease_seconds`` ends, and
  everything it owns is freed, as on ``bye`` and at shutdown.
- **The control path.** While a batch runs, the session calls ``_control`` between ops and
  between backward nodes (at most every ``session.POLL_SECONDS``). It reads what is
  waiting on the socket without blocking: ``cancel`` is acted on at once, and so are
  ``ping`` and ``status`` from other connections with nothing queued; anything else goes,
  stamped with its session's cancel count, to ``backlog``: one queue per connection, so
  that each connection's messages keep their order. Then the queued messages of the
  other connections are handled right there, between two ops of the running batch
  (``_serve_others``), so that one session's long batch delays another's by one op, not
  by the whole batch. The rest is served in turn with the connections whose messages are
  still on the socket, so that a client that floods the daemon does not push the others'
  messages back.
- **Callback time-outs**, checked about ten times a second.
- **Authentication**: the token challenge of ``adserver.auth`` on ``hello`` and ``status``,
  and CURVE encryption on the socket when a secret key is configured. Before it, a peer
  costs almost nothing: where the token is required, a connection that holds no session
  may send messages of PRE_AUTH_BYTES at most, refused before their body is decoded.
- **Trust**: nothing a client sends stops the loop. Whatever fails while one session's
  message, time-out or cancel is handled, or while its reply is built or encoded, ends in
  an error reply to that session; values that clients sent are quoted shortened
  (``adproto.shorten``) in replies and logs.
- **Unread replies.** ZeroMQ queues a connection's replies until its peer reads them; the
  daemon bounds that queue: SNDHWM messages, and ``max_message_bytes`` bytes of large
  replies (followed with ZeroMQ's trackers until written), past which a result's values are
  refused with a LimitError instead of being built.
"""
import logging
import os
import secrets
import signal
import time
import traceback
from collections import OrderedDict, deque
from functools import partial

import msgpack
import zmq

import adproto
from adproto import kinds, error_object, ProtocolError, LimitExceeded, shorten, clip
from . import __version__
from .addresses import bind as bind_listener, is_local_address, \
    loopback_peer as _loopback_peer
from .auth import Gate
from .limits import Limits
from .logs import event
from .session import Session, OpFailure, POLL_SECONDS
from .shared import SharedArrays

log = logging.getLogger("adserver")
INFO, WARNING, DEBUG = logging.INFO, logging.WARNING, logging.DEBUG

MAX_BACKLOG = 1000          # messages set aside while a batch runs
MAX_NESTING = 8             # batches served inside other batches, one inside the next
MAX_ENDED = 4096            # ended sessions whose reason a SessionError can still name
HOUSEKEEPING_SECONDS = 0.1  # callback time-outs are checked this often
# Where the token is required, the largest message a connection without a session may send:
# a hello or status with its auth takes a few hundred bytes.
PRE_AUTH_BYTES = 4096
# What ZeroMQ may hold for a peer that does not read, beyond its socket buffers: SNDHWM
# messages, of which those of TRACKED_REPLY_BYTES or more count, in bytes, as unread until
# ZeroMQ has written them (``_Unread``). The count absorbs a burst of small replies (ZeroMQ's
# I/O thread drains the queue while the loop fills it); the bytes bound the large ones.
SNDHWM = 256
TRACKED_REPLY_BYTES = 1 << 16
_OPENERS = frozenset((kinds.HELLO, kinds.PING, kinds.STATUS))   # kinds needing no session
_now = time.monotonic

# The socket calls of every message, without what pyzmq's conveniences cost on each one
# (tens of microseconds a round trip, against a budget of about a hundred):
# send_multipart type-checks every frame and ors enum flags in Python, recv_multipart asks
# getsockopt(RCVMORE) after every frame although recv(copy=False) has read it already, and
# a recv that finds nothing raises zmq.Again.
_sock_send = zmq.backend.Socket.send
_sock_recv = zmq.backend.Socket.recv
_sock_get = zmq.backend.Socket.get
_NOBLOCK = int(zmq.NOBLOCK)
_MORE = int(zmq.SNDMORE | zmq.NOBLOCK)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)


def _readable(sock):
    """Whether a message waits on ``sock`` (no exception when none does)."""
    return _sock_get(sock, _EVENTS) & _POLLIN


def _recv_message(sock, max_frames, max_bytes):
    """The frames of the message waiting on ``sock`` (zmq.Frames: large arrays are not
    copied); zmq.Again if none is."""
    return _rest_of_message(sock, _sock_recv(sock, _NOBLOCK, False), max_frames, max_bytes)


class _Dropped:
    """Stands last in a message whose frames went past a limit: they were let go as they
    were read, and this says how many there were and their bytes."""

    __slots__ = ("frames", "bytes")

    def __init__(self, frames, nbytes):
        self.frames, self.bytes = frames, nbytes


def _rest_of_message(sock, frame, max_frames, max_bytes):
    """[frame, *the rest of its message]. The rest arrives with the first frame (ZeroMQ
    hands a message over whole); past ``max_frames`` frames or ``max_bytes`` bytes, the
    frames are let go as they are read, not held (a million empty frames would otherwise
    be a million Python objects), and a _Dropped ends the list."""
    frames = [frame]
    size = 0
    while frame.more:
        frame = _sock_recv(sock, _NOBLOCK, False)
        size += len(frame)
        if size > max_bytes or len(frames) > max_frames:
            count = len(frames)
            while frame.more:
                frame = _sock_recv(sock, _NOBLOCK, False)
                size += len(frame)
                count += 1
            frames.append(_Dropped(count, size))
            return frames
        frames.append(frame)
    return frames


def _send_message(sock, identity, frames):
    """send_multipart([identity, *frames], zmq.NOBLOCK, copy=False). The identity and the
    header are small bytes: copied; pyzmq copies the other small frames too, and hands
    ZeroMQ the large ones' memory."""
    _sock_send(sock, identity, _MORE, True)
    _sock_send(sock, frames[0], _MORE, True)
    last = len(frames) - 1
    for i in range(1, last):
        _sock_send(sock, frames[i], _MORE, False)
    _sock_send(sock, frames[last], _NOBLOCK, False)


class Server:
    def __init__(self, listen, limits=None, parent_pid=None, token=None, curve=None):
        """``token``: the 32-byte auth token, or None for no authentication.
        ``curve``: CURVE server socket options (``adserver.keys.server_options``), or None.
        """
        self.limits = limits or Limits()
        self.listen = listen
        self.parent_pid = parent_pid
        self.gate = Gate(token)
        self.curve = bool(curve)
        self.local = is_local_address(listen)
        self.sessions = {}
        self.ended = OrderedDict()       # sid -> why it ended
        self.owners = {}                 # connection identity -> its live sessions' count
        self.unread = {}                 # connection identity -> _Unread, its large replies
        self.shared = SharedArrays()
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # A peer that does not read must not make the daemon hold its replies: ZeroMQ queues
        # at most SNDHWM messages for it (then sends fail with EAGAIN and the reply is
        # dropped), and large replies are also counted in bytes (_Unread).
        self.sock.setsockopt(zmq.SNDHWM, SNDHWM)
        # ZeroMQ applies MAXMSGSIZE to each frame and drops the peer past it: a backstop
        # only. The whole-message limit is checked per message, with an error reply.
        self.sock.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        self.sock.setsockopt(zmq.LINGER, 0)
        for opt, value in (curve or {}).items():
            self.sock.setsockopt(opt, value)
        bind_listener(self.sock, listen, token=self.gate.required, curve=self.curve)
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._rcvtimeo = None            # the socket's RCVTIMEO, as _wait last set it
        self._running = False
        self.messages = 0
        self.backlog = OrderedDict()     # connection identity -> deque of (frames, epoch)
        self.backlogged = 0
        self._busy = None                # the session whose message is being handled
        self._active = {}                # connection -> its messages being handled (nested)
        self._nesting = 0                # messages handled inside another's batch
        self._unwind = set()             # sessions cancelled while a batch ran
        self.started = _now()
        self.ops_ended = 0               # ops executed by sessions that have ended
        self._rate = deque(maxlen=11)    # (time, ops) once a second: ops per second
        self._next_housekeeping = 0.0
        self._next_expiry = 0.0
        self._next_second = 0.0

    # --- the loop --------------------------------------------------------------------------
    def serve_forever(self):
        self._running = True
        event(log, INFO, "listening", address=self.endpoint, version=__version__,
              auth="token" if self.gate.required else "none", curve=self.curve,
              pid=os.getpid())
        try:
            while self._running:
                try:
                    self._loop()
                except Exception as exc:
                    # Every message and every session's work has its own error handling;
                    # this is the last line, so that the daemon never exits for a client.
                    self._log_internal("internal error in the loop", exc)
        finally:
            self.close()

    def _loop(self):
        """Serve messages until stopped (see the module's docstring)."""
        sock = self.sock
        limits = self.limits
        max_frames, max_bytes = limits.max_frames, limits.max_message_bytes
        while self._running:
            if self.backlog:
                self._serve_backlog()
                if _readable(sock):
                    self._take(_recv_message(sock, max_frames, max_bytes))
            else:
                # Idle housekeeping runs when it is due (it is not, between most
                # messages: asking the socket whether one waits costs system calls)
                # and the daemon is idle: every message received so far has been handled.
                now = _now()
                if (now >= self._next_housekeeping or now >= self._next_expiry) \
                        and not _readable(sock):
                    self._housekeeping(idle=True)
                    if not self._running:
                        continue
                frames = self._wait(self._poll_ms())
                if frames is None:   # nothing came: still idle
                    self._housekeeping(idle=True)
                    continue
                self._handle(frames)
                frames = None    # freed now, not once the next message has come
            if self._unwind:
                self._unwind_cancelled()
            if _now() >= self._next_housekeeping:
                self._housekeeping(idle=False)

    def stop(self):
        self._running = False

    def close(self):
        n = len(self.sessions)
        for session in list(self.sessions.values()):
            self._end(session, "the daemon stopped", level=DEBUG)
        self.shared = SharedArrays()
        if not self.sock.closed:
            self.sock.close(0)
        if self.listen.startswith("ipc://") and not self.listen.startswith("ipc://@"):
            # (an abstract socket has no file; "@NAME" would name one in the cwd)
            try:
                os.unlink(self.listen[len("ipc://"):])
            except OSError:
                pass
        event(log, INFO, "stopped", sessions_freed=n)

    def _wait(self, ms):
        """The frames of the next message, after at most ``ms`` milliseconds; None if none
        came. A blocking recv with a time-out: the fewest system calls a wait can make
        (a poll, then a recv, makes twice as many)."""
        sock = self.sock
        if ms != self._rcvtimeo:
            sock.setsockopt(zmq.RCVTIMEO, ms)
            self._rcvtimeo = ms
        try:
            frame = _sock_recv(sock, 0, False)
        except zmq.Again:
            return None
        limits = self.limits
        return _rest_of_message(sock, frame, limits.max_frames, limits.max_message_bytes)

    def _poll_ms(self):
        soonest = min((s.next_deadline() for s in self.sessions.values() if s.frames),
                      default=float("inf"))
        wait = min(0.25, max(0.0, soonest - _now()))
        return max(1, int(wait * 1000))

    def _housekeeping(self, idle):
        now = _now()
        self._next_housekeeping = now + HOUSEKEEPING_SECONDS
        for session in [s for s in self.sessions.values() if s.frames]:
            if session.next_deadline() <= now:
                event(log, WARNING, "callback timed out", sid=session.sid,
                      seconds=self.limits.callback_timeout_seconds)
                self._send_resumed(session, session.expire_callbacks, now)
        if now >= self._next_second:
            self._next_second = now + 1.0
            self._rate.append((now, self.ops_total()))
            self._settle_unread()
            if self.parent_pid and not _alive(self.parent_pid):
                event(log, INFO, "parent process is gone; stopping", parent_pid=self.parent_pid)
                self._running = False
        # Expiry has a timer of its own, used only when idle (nothing received is waiting, so
        # no session about to be renewed can be expired); the busy path must not use it up.
        if idle and now >= self._next_expiry:
            self._next_expiry = now + 1.0
            self._expire(now)

    def _expire(self, now):
        lease = self.limits.lease_seconds
        if lease <= 0:
            return
        for session in list(self.sessions.values()):
            if now - session.last_seen > lease:
                self._end(session, f"expired: its client sent nothing for {lease:g} s "
                                   "(--lease-seconds)")

    def _end(self, session, reason, level=INFO):
        if self.sessions.pop(session.sid, None) is not None:
            self._disown(session.identity)
        self._unwind.discard(session)
        self.ops_ended += session.ops_executed
        nbytes = session.nbytes
        try:
            handles = session.close()
        except Exception as exc:   # (a suspended pass that fails to close) it ends all the same
            self._log_internal("error while closing a session", exc, sid=session.sid)
            handles = None
        self.ended[session.sid] = reason
        while len(self.ended) > MAX_ENDED:
            self.ended.popitem(last=False)
        event(log, level, "session ended", sid=session.sid, reason=reason, handles=handles,
              bytes=nbytes, ops=session.ops_executed,
              seconds=round(_now() - session.opened, 3))

    # --- the control path ------------------------------------------------------------------
    def _control(self):
        """Called by a running batch: read the socket without blocking (see the docstring),
        then serve the other connections' messages before the batch goes on."""
        sock = self.sock
        limits = self.limits
        while self.backlogged < MAX_BACKLOG and _readable(sock):
            self._take(_recv_message(sock, limits.max_frames, limits.max_message_bytes),
                       always_queue=True)
        if self.backlog and self._nesting < MAX_NESTING:
            self._serve_others()

    def _serve_others(self):
        """Handle, between the running batch's ops, the queued messages of every connection
        that has no message of its own being handled.

        One long batch would otherwise hold up every other session for its whole running
        time; this way another session waits at most for the op under way (plus
        ``POLL_SECONDS``). Sessions share nothing a batch holds between its ops, and each
        connection's messages are still handled in the order they came, so a message
        served here has the effect it would have had right after the current op. A
        message served here may itself run a long batch that serves others in turn, up to
        MAX_NESTING deep; deeper, messages wait for the batches under way.
        """
        for identity in list(self.backlog):
            while identity not in self._active:
                queue = self.backlog.get(identity)
                if not queue:
                    break
                frames, epoch = queue.popleft()
                self.backlogged -= 1
                if not queue:
                    del self.backlog[identity]
                self._nesting += 1
                try:
                    self._handle(frames, epoch)
                finally:
                    self._nesting -= 1

    def _take(self, frames, always_queue=False):
        """A message read while others wait: act on control kinds now, queue the rest."""
        identity = frames[0].bytes
        kind, session = None, None
        try:
            header = adproto.decode_header(frames[1])
            kind = header["kind"]
            session = self._lookup(header.get("session"))
            if session is not None and session.identity != identity:
                session = None
        except Exception:
            pass   # _handle will answer it with the error it deserves
        queue = self.backlog.get(identity)
        # cancel is out of band; ping and status are answered at once unless that would
        # overtake a message of the same connection (one queued, or the one running). So is
        # a large message of a connection that has not authenticated: its refusal costs
        # nothing, and queued it would hold its frames for as long as the batch runs.
        if kind == kinds.CANCEL or (queue is None and identity not in self._active and (
                kind in (kinds.PING, kinds.STATUS) or self._unauthenticated(identity, frames))):
            self._handle(frames)
            return
        if queue is None and not always_queue:
            self._handle(frames)
            return
        if queue is None:
            queue = self.backlog[identity] = deque()
        queue.append((frames, None if session is None else session.cancels))
        self.backlogged += 1

    def _serve_backlog(self):
        """Handle the next queued message of the connection whose turn it is."""
        identity, queue = next(iter(self.backlog.items()))
        frames, epoch = queue.popleft()
        self.backlogged -= 1
        if queue:
            self.backlog.move_to_end(identity)
        else:
            del self.backlog[identity]
        self._handle(frames, epoch)

    def _unwind_cancelled(self):
        sessions, self._unwind = self._unwind, set()
        for session in sessions:
            if self.sessions.get(session.sid) is session:
                self._send_resumed(session, session.unwind)

    def _send_resumed(self, session, resume, *args):
        """Send what ``resume(*args)`` gives: the replies of ``session``'s suspended batches,
        resumed after a time-out or a cancel. This work belongs to no message being handled,
        so its failures are caught here: the session gets an error, the loop goes on."""
        try:
            out = resume(*args)
        except Exception as exc:
            self._log_internal("internal error resuming a batch", exc, sid=session.sid)
            out = [(kinds.ERROR, {"error": _internal_error(exc)})]
        self._send_out(session, out)

    # --- one message -------------------------------------------------------------------------
    def _handle(self, frames, epoch=None):
        identity = frames[0].bytes
        active = self._active
        active[identity] = active.get(identity, 0) + 1
        try:
            self._handle_one(identity, frames, epoch)
        finally:
            if active[identity] == 1:
                del active[identity]
            else:
                active[identity] -= 1

    def _handle_one(self, identity, frames, epoch):
        self.messages += 1
        rest = frames[1:]
        header = {}
        try:
            limits = self.limits
            dropped = rest.pop() if rest and type(rest[-1]) is _Dropped else None
            count = len(rest) if dropped is None else dropped.frames
            if count > limits.max_frames:
                raise LimitExceeded(f"message has {count} frames; the limit is "
                                    f"{limits.max_frames} (--max-frames)", limit="max_frames")
            # The header first (it is small: adproto.MAX_HEADER_BYTES), so that an error
            # about the rest can still name the request.
            header = adproto.decode_header(rest[0]) if rest else {}
            size = sum(map(len, rest)) if dropped is None else dropped.bytes
            if size > limits.max_message_bytes:
                raise LimitExceeded(f"message has {size} bytes; the limit is "
                                    f"{limits.max_message_bytes} (--max-message-bytes)",
                                    limit="max_message_bytes")
            if size > PRE_AUTH_BYTES and self.gate.required and identity not in self.owners:
                self._refuse_before_auth(identity, header, size)
                return
            header, body = adproto.decode(rest, max_array_bytes=limits.max_array_bytes,
                                          header=header)   # (decoded once)
            self._dispatch(identity, header, body, epoch, rest)
        except ProtocolError as exc:
            message = clip(str(exc))
            event(log, WARNING, "message refused", peer=identity.hex(), type=exc.error_type,
                  limit=exc.limit, error=message)
            req = header.get("req") if header else _request_id(rest[0] if rest else b"")
            self._send(identity, kinds.ERROR, {"error": error_object(
                exc.error_type, message, limit=exc.limit)}, req=req)
        except Exception as exc:  # the loop must outlive any one message
            self._log_internal("internal error handling a message", exc)
            self._send(identity, kinds.ERROR, {"error": _internal_error(exc)},
                       req=header.get("req"))

    def _unauthenticated(self, identity, frames):
        """Whether ``frames`` is a message too large for a connection that has not
        authenticated (see _refuse_before_auth)."""
        if not self.gate.required or identity in self.owners:
            return False
        last = frames[-1]
        size = last.bytes if type(last) is _Dropped else sum(map(len, frames[1:]))
        return size > PRE_AUTH_BYTES

    def _refuse_before_auth(self, identity, header, size):
        """A large message from a connection that holds no session, where the token is
        required: answered from its header alone, its body never decoded."""
        kind = header.get("kind")
        if kind not in _OPENERS:
            self._session_for(identity, header)    # it holds none: a SessionError
            return
        event(log, WARNING, "message refused before authentication", peer=identity.hex(),
              kind=shorten(kind), bytes=size)
        self._send(identity, kinds.ERROR, {"error": error_object(
            "AuthError", f"this connection has not authenticated: until it opens a session, "
            f"its messages may have at most {PRE_AUTH_BYTES} bytes, and this {kind} has "
            f"{size}")}, req=header.get("req"))

    def _log_internal(self, what, exc, **fields):
        """An unexpected failure, logged with its traceback (both cut short: an exception's
        text may quote a client's values)."""
        event(log, logging.ERROR, what, error=clip(f"{type(exc).__name__}: {exc}"),
              traceback=clip(traceback.format_exc(), 8000), **fields)

    def _dispatch(self, identity, header, body, epoch, frames):
        kind = header["kind"]
        req = header.get("req")
        if kind == kinds.PING:
            if header.get("session") is not None:
                # A keepalive: it must name a live session of this connection, which it
                # renews; otherwise the client hears why its session is gone.
                session = self._session_for(identity, header)
                if session is None:
                    return
                session.last_seen = _now()
            self._send(identity, kinds.PONG, {"server": f"adserver {__version__}",
                                               "sessions": len(self.sessions)}, req=req)
            return
        if kind == kinds.HELLO:
            self._hello(identity, body, req)
            return
        if kind == kinds.STATUS:
            self._status(identity, body, req, frames)
            return
        if not isinstance(body, dict):
            raise ProtocolError(f"the body of a {shorten(kind)} message must be a map")
        session = self._session_for(identity, header)
        if session is None:
            return
        session.last_seen = now = _now()
        if kind == kinds.CANCEL:
            session.cancel()
            event(log, INFO, "cancel", sid=session.sid, running=self._busy is session,
                  suspended=len(session.frames))
            if self._busy is not None:
                self._unwind.add(session)      # once the running batch has stopped
            else:
                self._send_out(session, session.unwind())
            return
        if kind not in (kinds.BATCH, kinds.CALLBACK_RETURN, kinds.BYE):
            raise ProtocolError(f"unknown message kind {shorten(kind)}")
        outer_busy, self._busy = self._busy, session
        session.next_poll = now + POLL_SECONDS
        try:
            if kind == kinds.BATCH:
                try:
                    out = session.on_batch(body, req, epoch)
                except OpFailure as exc:
                    out = [(kinds.ERROR, {"error": exc.info}, req)]
            elif kind == kinds.CALLBACK_RETURN:
                out = session.on_callback_return(body)
            else:
                self._end(session, "ended with bye")
                out = [(kinds.GOODBYE, {}, req)]
        finally:
            self._busy = outer_busy      # a batch this one was served inside goes on
        session.last_seen = _now()
        self._send_out(session, out)

    def _lookup(self, sid):
        """The live session named ``sid`` (any header value), or None."""
        return self.sessions.get(sid) if isinstance(sid, str) else None

    def _send_out(self, session, out):
        for message in out:
            self._send(session.identity, message[0], message[1],
                       req=message[2] if len(message) > 2 else None, session=session.sid)

    def _hello(self, identity, body, req):
        versions = body.get("versions") if isinstance(body, dict) else None
        if not isinstance(versions, list) or adproto.PROTOCOL_VERSION not in versions:
            self._send(identity, kinds.ERROR, {"error": error_object(
                "VersionError", f"client speaks protocol {shorten(versions)}; this daemon "
                f"speaks {adproto.PROTOCOL_VERSION}")}, req=req)
            return
        proof = None
        if self.gate.required:
            if body.get("auth") is None:
                self._send(identity, kinds.CHALLENGE, self.gate.challenge(identity), req=req)
                return
            nonces, why = self.gate.verify(identity, body.get("auth"))
            if nonces is None:
                event(log, WARNING, "authentication failed", peer=identity.hex(), reason=why)
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "AuthError", f"authentication failed: {why}")}, req=req)
                return
            proof = nonces
        refusal = self._session_limit(identity)
        if refusal is not None:
            self._send(identity, kinds.ERROR, {"error": refusal}, req=req)
            return
        sid = secrets.token_hex(16)
        session = Session(sid, identity, self.limits, self.shared, control=self._control)
        session.unread_replies = partial(self.unread_bytes, identity)
        self.sessions[sid] = session
        self.owners[identity] = self.owners.get(identity, 0) + 1
        client = body.get("client", "unknown client")
        event(log, INFO, "session opened", sid=sid, peer=identity.hex(),
              client=client[:200] if isinstance(client, str) else shorten(client),
              authenticated=proof is not None)
        welcome = {"session": sid, "version": adproto.PROTOCOL_VERSION,
                   "server": f"adserver {__version__}", "limits": self.limits.as_dict()}
        if proof is not None:
            welcome["proof"] = self.gate.proof(proof[0], proof[1], sid)
        self._send(identity, kinds.WELCOME, welcome, req=req)

    def _session_limit(self, identity):
        """The LimitError a new session of this connection would break, or None."""
        limits = self.limits
        if len(self.sessions) >= limits.max_sessions:
            return error_object(
                "LimitError", f"daemon already serves {len(self.sessions)} sessions; the limit "
                f"is {limits.max_sessions} (--max-sessions)", limit="max_sessions")
        held = self.owners.get(identity, 0)
        if held >= limits.max_sessions_per_connection:
            return error_object(
                "LimitError", f"this connection already holds {held} sessions; the limit is "
                f"{limits.max_sessions_per_connection} (--max-sessions-per-connection)",
                limit="max_sessions_per_connection")
        return None

    def _disown(self, identity):
        held = self.owners.get(identity, 0)
        if held > 1:
            self.owners[identity] = held - 1
        else:
            self.owners.pop(identity, None)

    def _status(self, identity, body, req, frames):
        if not (self.local or _loopback_peer(frames)):
            if not self.gate.required:
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "AuthError", "status is answered only to loopback peers here")}, req=req)
                return
            auth = body.get("auth") if isinstance(body, dict) else None
            if auth is None:
                self._send(identity, kinds.CHALLENGE, self.gate.challenge(identity), req=req)
                return
            nonces, why = self.gate.verify(identity, auth)
            if nonces is None:
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "AuthError", f"authentication failed: {why}")}, req=req)
                return
        self._send(identity, kinds.STATUS_REPLY, self.status(), req=req)

    def ops_total(self):
        return self.ops_ended + sum(s.ops_executed for s in self.sessions.values())

    def status(self):
        now, ops = _now(), self.ops_total()
        rate = 0.0
        if self._rate:
            t0, ops0 = self._rate[0]
            if now - t0 > 0.5:
                rate = (ops - ops0) / (now - t0)
        sessions = self.sessions.values()
        return {"server": f"adserver {__version__}", "address": self.endpoint,
                "pid": os.getpid(), "uptime": round(now - self.started, 3),
                "sessions": len(self.sessions),
                "handles": sum(len(s.handles) for s in sessions),
                "bytes": sum(s.nbytes for s in sessions),
                "suspended": sum(len(s.frames) for s in sessions),
                "ops": ops, "ops_per_second": round(rate, 3),
                "messages": self.messages, "backlog": self.backlogged,
                "unread_bytes": sum(u.bytes for u in self.unread.values()),
                "auth": "token" if self.gate.required else "none", "curve": self.curve,
                "limits": self.limits.as_dict()}

    def _session_for(self, identity, header):
        sid = header.get("session")
        session = self._lookup(sid)
        if session is None or session.identity != identity:
            why = self.ended.get(sid) if isinstance(sid, str) else None
            quoted = shorten(sid)
            if session is not None:
                message = (f"session {quoted} belongs to another connection; a session lives "
                           "on the connection that opened it")
            elif why is not None:
                message = f"session {quoted} {why}"
            else:
                message = (f"no session {quoted} on this daemon (it ended, expired, or the "
                           "daemon restarted)")
            self._send(identity, kinds.ERROR, {"error": error_object(
                "SessionError", message + "; start a new one with hello")},
                req=header.get("req"))
            return None
        return session

    def _send(self, identity, kind, body, req=None, session=None):
        fields = {} if req is None else {"req": req}
        if session is not None:
            fields["session"] = session
        if kind == kinds.RESULT or kind == kinds.ERROR:
            body = _short_error(body)
        frames = _encode_reply(kind, body, fields)
        try:
            nbytes = sum(map(len, frames))
            if nbytes >= TRACKED_REPLY_BYTES:
                self._send_tracked(identity, frames, nbytes)
            else:
                _send_message(self.sock, identity, frames)
        except zmq.ZMQError as exc:
            # The peer is gone (EHOSTUNREACH) or not reading (EAGAIN: SNDHWM replies wait
            # for it); drop its sessions' replies rather than block everyone else.
            event(log, WARNING, "reply dropped", kind=kind, peer=identity.hex(),
                  error=str(exc))

    # --- replies not yet read ----------------------------------------------------------------
    def _send_tracked(self, identity, frames, nbytes):
        """Send a large reply, counting its bytes as unread until ZeroMQ lets go of its last
        frame: then the whole message has been written to the peer's socket."""
        last = zmq.Frame(frames[-1], copy=False, track=True)
        frames[-1] = last
        _send_message(self.sock, identity, frames)
        unread = self.unread.get(identity)
        if unread is None:
            unread = self.unread[identity] = _Unread()
        unread.add(last.tracker, nbytes)

    def unread_bytes(self, identity):
        """Bytes of the large replies to connection ``identity`` that ZeroMQ still holds."""
        unread = self.unread.get(identity)
        if unread is None:
            return 0
        nbytes = unread.settle()
        if not nbytes:
            del self.unread[identity]
        return nbytes

    def _settle_unread(self):
        for identity in list(self.unread):
            self.unread_bytes(identity)


class _Unread:
    """The large replies to one connection that ZeroMQ still holds, oldest first, as
    (tracker, bytes), and their total. ZeroMQ writes one peer's messages in order."""

    __slots__ = ("queue", "bytes")

    def __init__(self):
        self.queue = deque()
        self.bytes = 0

    def add(self, tracker, nbytes):
        self.queue.append((tracker, nbytes))
        self.bytes += nbytes

    def settle(self):
        """Forget the replies ZeroMQ has written; the bytes of the rest."""
        queue = self.queue
        while queue and queue[0][0].done:
            self.bytes -= queue.popleft()[1]
        return self.bytes


def _encode_reply(kind, body, fields):
    """The frames of a reply. One that cannot be encoded (a value the codec refuses, a req
    nested too deep for the packer) still answers its request: with a ProtocolError, and
    without the header fields if they are what failed."""
    try:
        return adproto.encode(kind, body, **fields)
    except Exception as exc:
        error = {"error": error_object("ProtocolError", f"the daemon could not encode its "
                                       f"{kind} reply: {clip(str(exc), 300)}")}
    event(log, WARNING, "reply not encodable", kind=kind, error=error["error"]["message"])
    try:
        return adproto.encode(kinds.ERROR, error, **fields)
    except Exception:
        session = fields.get("session")
        return adproto.encode(kinds.ERROR, error, **({} if session is None else
                                                     {"session": session}))


def _short_error(body):
    """``body`` with its error object's message clipped: a backstop for the messages that
    quote what a client sent."""
    err = body.get("error") if type(body) is dict else None
    if type(err) is dict:
        message = err.get("message")
        if type(message) is str and len(message) > adproto.quoting.MESSAGE_CHARS:
            body = {**body, "error": {**err, "message": clip(message)}}
    return body


def _internal_error(exc):
    return error_object("InternalError", clip(f"{type(exc).__name__}: {exc}"))


def _request_id(frame):
    """The req of a header that failed validation, if it is readable at all."""
    try:
        data = frame.buffer if hasattr(frame, "buffer") else frame
        if len(data) > adproto.codec.MAX_HEADER_BYTES:
            return None
        header = msgpack.unpackb(data)
    except Exception:
        return None
    req = header.get("req") if isinstance(header, dict) else None
    return req if type(req) is int else None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install_signal_handlers(server):
    def stop(signum, _frame):
        event(log, INFO, "signal: stopping", signal=signum)
        server.stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
