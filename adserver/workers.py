"""``adserver --workers N``: N daemon processes on one host behind a front door.

Each worker is an ordinary daemon (``python -m adserver``) bound to its own address:

- ``tcp://HOST:PORT`` -> workers on ``tcp://HOST:PORT+1`` ... ``tcp://HOST:PORT+N``
  (``tcp://HOST:*`` each if PORT is ``*`` or 0: the system picks);
- ``ipc://PATH`` -> workers on ``ipc://PATH.1`` ... ``ipc://PATH.N``.

The front door binds the public address. It answers ``hello`` with ``redirect`` to the
worker with the fewest sessions; the client connects to that worker and says ``hello``
again there, and the session lives on that worker, over that connection, for its whole
life. So no message of a session ever passes through the front door: it is not a broker,
and it holds no state that matters (a client that loses its worker starts over at the front
door). The front door also answers ``ping`` (sessions summed over the workers) and
``status`` (the workers' status, polled once a second, and each worker's own).

A worker that dies is started again on the same address; its sessions are lost, and their
clients get ``SessionLost`` (PROTOCOL.md section 6). Workers run with ``--parent-pid`` of
the front door, so they stop if it is killed, and in a private directory of the front
door's (``adserver.spawn``), so that what the front door's working directory holds cannot
change what they import.
"""
import logging
import os
import select
import subprocess
import time

import zmq

import adproto
from adproto import kinds, error_object, ProtocolError
from . import __version__
from .addresses import (AddressError, absolute, bind, ipc_path, is_local_address,
                        loopback_peer, tcp_host_port)
from .auth import Gate, answer
from .logs import event
from .server import _alive, _request_id
from .spawn import private_workdir, remove_workdir, start_daemon

log = logging.getLogger("adserver.front")
INFO, WARNING = logging.INFO, logging.WARNING
_now = time.monotonic
START_SECONDS = 60.0        # a worker must be listening within this time


def worker_addresses(listen, n):
    """The addresses of ``n`` workers behind ``listen`` (AddressError, a ValueError, if
    there are none to give)."""
    if listen.startswith("ipc://"):
        listen = absolute(listen)     # the workers run in another directory
        return [f"{listen}.{i}" for i in range(1, n + 1)]
    if listen.startswith("tcp://"):
        port = tcp_host_port(listen)[1]
        host = listen[len("tcp://"):].rsplit(":", 1)[0]     # brackets kept
        if port in ("*", "0"):
            return [f"tcp://{host}:*"] * n
        if int(port) + n > 65535:
            raise AddressError(f"{n} workers behind {listen} would need ports up to "
                               f"{int(port) + n}; the last port is 65535")
        return [f"tcp://{host}:{int(port) + i}" for i in range(1, n + 1)]
    raise AddressError(f"--workers needs a tcp:// or ipc:// address, not {listen}")


def _reachable(endpoint):
    """The address the front door uses to reach a worker bound to ``endpoint``."""
    if endpoint.startswith("tcp://"):
        host, port = endpoint[len("tcp://"):].rsplit(":", 1)
        if host in ("0.0.0.0", "*"):
            return f"tcp://127.0.0.1:{port}"
        if host in ("[::]", "::"):
            return f"tcp://[::1]:{port}"
    return endpoint


class Worker:
    def __init__(self, index, listen):
        self.index = index
        self.listen = listen
        self.endpoint = None
        self.proc = None
        self.sock = None
        self.status = None          # the last status_reply body
        self.asked = None           # when the last status request went out
        self.answered = False       # whether it has been answered
        self.req = 0
        self.redirects = 0          # sessions sent here since the last status
        self.restarts = -1

    def spawn(self, argv, curve_public, workdir):
        self.close_socket()
        self.proc = start_daemon(
            ["--listen", self.listen, "--announce", "--parent-pid", str(os.getpid()), *argv],
            workdir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
            start_new_session=True)   # a terminal's Ctrl-C stops the front door, which stops these
        self.restarts += 1
        deadline = _now() + START_SECONDS
        line = ""
        while not line:
            left = deadline - _now()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.index} did not start on {self.listen} "
                                   f"(exit status {self.proc.poll()})")
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                line = self.proc.stdout.readline().strip()
                if not line and self.proc.poll() is not None:
                    continue
        self.endpoint = line.rsplit(" ", 1)[-1]
        self.status, self.asked, self.redirects = None, None, 0
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if self.endpoint.startswith("tcp://["):
            self.sock.setsockopt(zmq.IPV6, 1)
        if curve_public is not None:
            public, secret = zmq.curve_keypair()
            self.sock.setsockopt(zmq.CURVE_SERVERKEY, curve_public)
            self.sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
            self.sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
        self.sock.connect(_reachable(self.endpoint))

    def close_socket(self):
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None

    def ask_status(self, body=None):
        self.req += 1
        self.asked, self.answered = _now(), False
        self.sock.send_multipart(adproto.encode(kinds.STATUS, body or {}, req=self.req))

    def load(self):
        return (self.status or {}).get("sessions", 0) + self.redirects

    def describe(self):
        d = {"index": self.index, "address": self.endpoint,
             "pid": self.proc.pid if self.proc else None, "restarts": self.restarts}
        if self.status is not None:
            d["status"] = self.status
        else:
            d["state"] = "starting" if self.asked is None else "busy (no status yet)"
        return d


class FrontDoor:
    def __init__(self, listen, n, argv, token=None, curve=None, curve_public=None,
                 parent_pid=None):
        self.listen = listen
        self.argv = list(argv)
        self.gate = Gate(token)
        self.curve = curve
        self.curve_public = curve_public
        self.parent_pid = parent_pid
        self.local = is_local_address(listen)
        self.workers = [Worker(i, a) for i, a in enumerate(worker_addresses(listen, n), 1)]
        self.workdir = None          # the workers' working directory (adserver.spawn)
        self.sock = None
        self.endpoint = None
        self._running = False
        self.started = _now()

    def start(self):
        """Start the workers, then bind the public address (so a ping means: ready)."""
        try:
            self.workdir = private_workdir("adserver-workers-")
            for w in self.workers:
                w.spawn(self.argv, self.curve_public, self.workdir)
                event(log, INFO, "worker started", index=w.index, address=w.endpoint,
                      pid=w.proc.pid)
            self.sock = zmq.Context.instance().socket(zmq.ROUTER)
            self.sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
            self.sock.setsockopt(zmq.LINGER, 0)
            self.sock.setsockopt(zmq.MAXMSGSIZE, 1 << 20)   # the front door takes no data
            for opt, value in (self.curve or {}).items():
                self.sock.setsockopt(opt, value)
            self.endpoint = bind(self.sock, self.listen, token=self.gate.required,
                                 curve=bool(self.curve))
        except BaseException:
            self.close()
            raise

    def stop(self):
        self._running = False

    def serve_forever(self):
        self._running = True
        event(log, INFO, "front door listening", address=self.endpoint,
              workers=[w.endpoint for w in self.workers], pid=os.getpid())
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        socks = {}
        next_tick = 0.0
        try:
            while self._running:
                for w in self.workers:
                    if w.sock is not None and socks.get(w.index) is not w.sock:
                        if w.index in socks:
                            try:
                                poller.unregister(socks[w.index])
                            except KeyError:
                                pass
                        poller.register(w.sock, zmq.POLLIN)
                        socks[w.index] = w.sock
                ready = dict(poller.poll(250))
                if self.sock in ready:
                    for _ in range(1000):
                        try:
                            frames = self.sock.recv_multipart(zmq.NOBLOCK, copy=False)
                        except zmq.Again:
                            break
                        self._handle(frames)
                for w in self.workers:
                    if w.sock is not None and w.sock in ready:
                        self._worker_reply(w)
                if _now() >= next_tick:
                    next_tick = _now() + 1.0
                    self._tick()
        finally:
            self.close()

    def _tick(self):
        if self.parent_pid and not _alive(self.parent_pid):
            event(log, INFO, "parent process is gone; stopping", parent_pid=self.parent_pid)
            self._running = False
            return
        for w in self.workers:
            if w.proc.poll() is not None:
                event(log, WARNING, "worker died; starting it again", index=w.index,
                      address=w.endpoint, status=w.proc.returncode)
                try:
                    w.spawn(self.argv, self.curve_public, self.workdir)
                except RuntimeError as exc:
                    event(log, WARNING, "worker restart failed", index=w.index, error=str(exc))
                    continue
            now = _now()
            if w.asked is None or (w.answered and now - w.asked >= 0.9) or now - w.asked > 5.0:
                w.ask_status()

    def _worker_reply(self, w):
        while True:
            try:
                header, body = adproto.decode(w.sock.recv_multipart(zmq.NOBLOCK))
            except zmq.Again:
                return
            except ProtocolError:
                continue
            if header["kind"] == kinds.CHALLENGE and self.gate.required:
                w.ask_status({"auth": answer(self.gate.token, body)})
            elif header["kind"] == kinds.STATUS_REPLY:
                w.status, w.answered = body, True
                w.redirects = 0

    def _handle(self, frames):
        identity = frames[0].bytes
        rest = frames[1:]
        header = {}
        try:
            header, body = adproto.decode(rest, max_array_bytes=0)
            kind, req = header["kind"], header.get("req")
            if kind == kinds.HELLO:
                live = [w for w in self.workers if w.proc.poll() is None and w.endpoint]
                if not live:
                    self._send(identity, kinds.ERROR, {"error": error_object(
                        "LimitError", "no worker is running", limit="workers")}, req)
                    return
                w = min(live, key=Worker.load)
                w.redirects += 1
                event(log, INFO, "redirect", peer=identity.hex(), worker=w.index,
                      address=w.endpoint)
                self._send(identity, kinds.REDIRECT, {"address": w.endpoint, "worker": w.index},
                           req)
            elif kind == kinds.PING:
                self._send(identity, kinds.PONG, {
                    "server": f"adserver {__version__}",
                    "sessions": sum((w.status or {}).get("sessions", 0) for w in self.workers),
                    "workers": len(self.workers)}, req)
            elif kind == kinds.STATUS:
                self._status(identity, body, req, rest)
            elif header.get("session") is not None:
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "SessionError", f"{self.endpoint} is the front door of "
                    f"{len(self.workers)} workers; sessions live on the workers (send hello "
                    "here to be sent to one)")}, req)
            else:
                raise ProtocolError(f"the front door answers hello, ping and status, not "
                                    f"{kind!r}")
        except ProtocolError as exc:
            req = header.get("req") if header else _request_id(rest[0] if rest else b"")
            self._send(identity, kinds.ERROR, {"error": error_object(
                exc.error_type, str(exc), limit=exc.limit)}, req)

    def _status(self, identity, body, req, frames):
        if not (self.local or loopback_peer(frames)):
            auth = body.get("auth") if isinstance(body, dict) else None
            if not self.gate.required:
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "AuthError", "status is answered only to loopback peers here")}, req)
                return
            if auth is None:
                self._send(identity, kinds.CHALLENGE, self.gate.challenge(identity), req)
                return
            nonces, why = self.gate.verify(identity, auth)
            if nonces is None:
                self._send(identity, kinds.ERROR, {"error": error_object(
                    "AuthError", f"authentication failed: {why}")}, req)
                return
        known = [w.status for w in self.workers if w.status]
        self._send(identity, kinds.STATUS_REPLY, {
            "server": f"adserver {__version__}", "address": self.endpoint, "pid": os.getpid(),
            "role": "front door", "uptime": round(_now() - self.started, 3),
            "sessions": sum(s.get("sessions", 0) for s in known),
            "handles": sum(s.get("handles", 0) for s in known),
            "bytes": sum(s.get("bytes", 0) for s in known),
            "ops": sum(s.get("ops", 0) for s in known),
            "ops_per_second": round(sum(s.get("ops_per_second", 0.0) for s in known), 3),
            "workers": [w.describe() for w in self.workers]}, req)

    def _send(self, identity, kind, body, req=None):
        frames = adproto.encode(kind, body, **({} if req is None else {"req": req}))
        try:
            self.sock.send_multipart([identity, *frames], zmq.NOBLOCK, copy=False)
        except zmq.ZMQError as exc:
            event(log, WARNING, "reply dropped", kind=kind, peer=identity.hex(), error=str(exc))

    def close(self):
        for w in self.workers:
            w.close_socket()
            if w.proc is not None and w.proc.poll() is None:
                w.proc.terminate()
        for w in self.workers:
            if w.proc is not None:
                try:
                    w.proc.wait(10)
                except subprocess.TimeoutExpired:
                    w.proc.kill()
                    w.proc.wait()
                if w.proc.stdout:
                    w.proc.stdout.close()
        if self.sock is not None and not self.sock.closed:
            self.sock.close(0)
        path = ipc_path(self.listen)
        if path and self.endpoint:    # only a socket this front door made
            try:
                os.unlink(path)
            except OSError:
                pass
        if self.workdir:
            remove_workdir(self.workdir)
        event(log, INFO, "front door stopped")
