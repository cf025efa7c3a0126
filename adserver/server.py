"""The ZeroMQ ROUTER loop: decodes messages, routes them to sessions, sends replies.

One thread serves every session; a session suspended in a client callback does not
block the others, because its state waits in its frame stack, not on this loop.
"""
import logging
import os
import secrets
import signal
import time

import msgpack
import zmq

import adproto
from adproto import kinds, error_object, ProtocolError, LimitExceeded
from . import __version__
from .limits import Limits
from .session import Session, OpFailure
from .shared import SharedArrays

log = logging.getLogger("adserver")


class Server:
    def __init__(self, listen, limits=None, parent_pid=None):
        self.limits = limits or Limits()
        self.listen = listen
        self.parent_pid = parent_pid
        self.sessions = {}
        self.shared = SharedArrays()
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.ROUTER)
        self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        # ZeroMQ applies MAXMSGSIZE to each frame and drops the peer past it: a backstop
        # only. The whole-message limit is checked per message, with an error reply.
        self.sock.setsockopt(zmq.MAXMSGSIZE, self.limits.max_message_bytes)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.bind(listen)
        self.endpoint = self.sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._running = False
        self.messages = 0

    # --- the loop --------------------------------------------------------------------------
    def serve_forever(self):
        self._running = True
        log.info("adserver %s listening on %s", __version__, self.endpoint)
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        next_check = time.monotonic() + 1.0
        try:
            while self._running:
                if poller.poll(1000):
                    # Drain what is queued before looking at the clock again.
                    for _ in range(1000):
                        try:
                            frames = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            break
                        self._handle(frames)
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + 1.0
                    if self.parent_pid and not _alive(self.parent_pid):
                        log.info("parent process %d is gone; stopping", self.parent_pid)
                        break
        finally:
            self.close()

    def stop(self):
        self._running = False

    def close(self):
        n = len(self.sessions)
        self.sessions.clear()
        if not self.sock.closed:
            self.sock.close(0)
        if self.listen.startswith("ipc://"):
            try:
                os.unlink(self.listen[len("ipc://"):])
            except OSError:
                pass
        log.info("stopped; freed %d session(s)", n)

    # --- one message -------------------------------------------------------------------------
    def _handle(self, frames):
        self.messages += 1
        identity = frames[0].bytes
        rest = frames[1:]
        header = {}
        try:
            limits = self.limits
            if len(rest) > limits.max_frames:
                raise LimitExceeded(f"message has {len(rest)} frames; the limit is "
                                    f"{limits.max_frames} (--max-frames)", limit="max_frames")
            # The header first, so that an error about the rest can still name the request.
            header = adproto.decode_header(rest[0]) if rest else {}
            size = sum(len(f) for f in rest)
            if size > limits.max_message_bytes:
                raise LimitExceeded(f"message has {size} bytes; the limit is "
                                    f"{limits.max_message_bytes} (--max-message-bytes)",
                                    limit="max_message_bytes")
            header, body = adproto.decode(rest, max_array_bytes=limits.max_array_bytes)
            self._dispatch(identity, header, body)
        except ProtocolError as exc:
            log.warning("%s from %s: %s", exc.error_type, identity.hex(), exc)
            req = header.get("req") if header else _request_id(rest[0] if rest else b"")
            self._send(identity, kinds.ERROR, {"error": error_object(
                exc.error_type, str(exc), limit=exc.limit)}, req=req)
        except Exception as exc:  # the loop must outlive any one message
            log.exception("internal error handling a message")
            self._send(identity, kinds.ERROR, {"error": error_object(
                "InternalError", f"{type(exc).__name__}: {exc}")}, req=header.get("req"))

    def _dispatch(self, identity, header, body):
        kind = header["kind"]
        req = header.get("req")
        if kind == kinds.PING:
            self._send(identity, kinds.PONG, {"server": f"adserver {__version__}",
                                               "sessions": len(self.sessions)}, req=req)
            return
        if kind == kinds.HELLO:
            self._hello(identity, body, req)
            return
        if not isinstance(body, dict):
            raise ProtocolError(f"the body of a {kind!r} message must be a map")
        session = self._session_for(identity, header)
        if session is None:
            return
        if kind == kinds.BATCH:
            try:
                out = session.on_batch(body, req)
            except OpFailure as exc:
                out = [(kinds.ERROR, {"error": exc.info}, req)]
        elif kind == kinds.CALLBACK_RETURN:
            out = session.on_callback_return(body)
        elif kind == kinds.BYE:
            del self.sessions[session.sid]
            self.shared.drop_owner(session.sid)
            log.info("session %s said bye (%d handles freed)", session.sid, len(session.handles))
            out = [(kinds.GOODBYE, {}, req)]
        else:
            raise ProtocolError(f"unknown message kind {kind!r}")
        for message in out:
            self._send(identity, message[0], message[1],
                       req=message[2] if len(message) > 2 else None, session=session.sid)

    def _hello(self, identity, body, req):
        versions = body.get("versions") if isinstance(body, dict) else None
        if not isinstance(versions, list) or adproto.PROTOCOL_VERSION not in versions:
            self._send(identity, kinds.ERROR, {"error": error_object(
                "VersionError", f"client speaks protocol {versions!r}; this daemon speaks "
                f"{adproto.PROTOCOL_VERSION}")}, req=req)
            return
        if len(self.sessions) >= self.limits.max_sessions:
            self._send(identity, kinds.ERROR, {"error": error_object(
                "LimitError", f"daemon already serves {len(self.sessions)} sessions; the limit "
                f"is {self.limits.max_sessions} (--max-sessions)", limit="max_sessions")}, req=req)
            return
        sid = secrets.token_hex(16)
        self.sessions[sid] = Session(sid, identity, self.limits, self.shared)
        log.info("session %s opened by %s (%s)", sid, identity.hex(),
                 body.get("client", "unknown client"))
        self._send(identity, kinds.WELCOME, {
            "session": sid, "version": adproto.PROTOCOL_VERSION,
            "server": f"adserver {__version__}", "limits": self.limits.as_dict()}, req=req)

    def _session_for(self, identity, header):
        sid = header.get("session")
        session = self.sessions.get(sid)
        if session is None or session.identity != identity:
            self._send(identity, kinds.ERROR, {"error": error_object(
                "SessionError", f"no session {sid!r} for this connection (it ended, expired, "
                "or belongs to another client); start a new one with hello")},
                req=header.get("req"))
            return None
        return session

    def _send(self, identity, kind, body, req=None, session=None):
        fields = {} if req is None else {"req": req}
        if session is not None:
            fields["session"] = session
        frames = adproto.encode(kind, body, **fields)
        try:
            self.sock.send_multipart([identity, *frames], zmq.NOBLOCK, copy=False)
        except zmq.ZMQError as exc:
            # The peer is gone (EHOSTUNREACH) or not reading (EAGAIN); drop its sessions'
            # replies rather than block everyone else.
            log.warning("could not send %s to %s: %s", kind, identity.hex(), exc)


def _request_id(frame):
    """The req of a header that failed validation, if it is readable at all."""
    try:
        header = msgpack.unpackb(frame.buffer if hasattr(frame, "buffer") else frame)
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
        log.info("signal %d: stopping", signum)
        server.stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
