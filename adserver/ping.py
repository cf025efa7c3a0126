"""One-shot questions to a daemon: ``adserver ping`` and ``adserver status``.

Both connect a DEALER socket, with CURVE if ``ADSERVER_CURVE_SERVER_KEY`` is set (see
``adserver.keys``), ask once and wait at most ``timeout`` seconds. ``status`` answers a
``challenge`` with the token (``adserver.auth``), as ``hello`` does. A failed ZeroMQ
handshake (CURVE on one side only, or the wrong server key) is reported as such at once,
rather than as a daemon that does not answer.
"""
import time

import zmq

import adproto
from adproto import kinds


class StatusError(RuntimeError):
    """The daemon refused the question (its error object's message)."""


class HandshakeError(ConnectionError):
    """The ZeroMQ handshake with the daemon failed: CURVE on one side only, or the wrong
    server key."""


_HANDSHAKE_FAILED = (zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
                     | zmq.EVENT_HANDSHAKE_FAILED_AUTH)


def connect(address, curve=None):
    """A DEALER connected to ``address`` (CURVE options from the environment, unless
    ``curve`` gives them: {} for none)."""
    return _Line(address, curve).sock


class _Line:
    """A DEALER to ``address``, and a monitor of its handshakes (made before it connects,
    so that the first failure is seen too)."""

    def __init__(self, address, curve=None, watch=False):
        from .keys import client_options
        options = client_options() if curve is None else curve
        self.address = address
        self.curve = bool(options)
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        if address.startswith("tcp://["):
            self.sock.setsockopt(zmq.IPV6, 1)
        for opt, value in options.items():
            self.sock.setsockopt(opt, value)
        self.monitor = self.sock.get_monitor_socket(_HANDSHAKE_FAILED) if watch else None
        try:
            self.sock.connect(address)
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.monitor is not None:
            self.sock.disable_monitor()
            self.monitor.close(0)
        self.sock.close(0)

    def handshake_failure(self):
        why = ("the CURVE handshake failed: is ADSERVER_CURVE_SERVER_KEY the daemon's "
               "public key, and does the daemon use CURVE?" if self.curve else
               "the ZeroMQ handshake failed: does the daemon require CURVE "
               "(ADSERVER_CURVE_SERVER_KEY)?")
        return HandshakeError(f"{self.address}: {why}")

    def wait(self, event, deadline):
        """Whether ``event`` (POLLIN, POLLOUT) came on the socket before ``deadline``;
        HandshakeError as soon as a handshake fails."""
        poller = zmq.Poller()
        poller.register(self.sock, event)
        if self.monitor is not None:
            poller.register(self.monitor, zmq.POLLIN)
        while True:
            left = deadline - time.monotonic()
            ready = dict(poller.poll(max(0, int(left * 1000))))
            if self.monitor is not None and self.monitor in ready:
                self.monitor.recv_multipart()
                raise self.handshake_failure()
            if self.sock in ready:
                return True
            if left <= 0:
                return False

    def ask(self, kind, body, req, timeout):
        # A DEALER's send blocks while it has no connected peer (a daemon that is down):
        # wait for one within the time-out too.
        deadline = time.monotonic() + timeout
        if not self.wait(zmq.POLLOUT, deadline):
            raise TimeoutError(f"no connection to {self.address} within {timeout:g} s")
        self.sock.send_multipart(adproto.encode(kind, body, req=req), zmq.NOBLOCK)
        if not self.wait(zmq.POLLIN, deadline):
            raise TimeoutError(f"no answer from {self.address} within {timeout:g} s")
        return adproto.decode(self.sock.recv_multipart())


def ping(address, timeout=5.0):
    """The daemon's pong body; TimeoutError if none comes within ``timeout`` seconds,
    HandshakeError if the connection's handshake fails."""
    line = _Line(address, watch=True)
    try:
        header, body = line.ask(kinds.PING, {}, 1, timeout)
        return body
    finally:
        line.close()


def status(address, timeout=5.0, token_file=None):
    """The daemon's status_reply body (PROTOCOL.md section 5.10)."""
    line = _Line(address, watch=True)
    try:
        header, body = line.ask(kinds.STATUS, {}, 1, timeout)
        if header["kind"] == kinds.CHALLENGE:
            from .auth import answer, load_token
            header, body = line.ask(kinds.STATUS,
                                    {"auth": answer(load_token(token_file), body)}, 2, timeout)
        if header["kind"] == kinds.ERROR:
            raise StatusError(body.get("error", {}).get("message", "refused"))
        return body
    finally:
        line.close()


def format_status(address, s):
    def size(n):
        for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
            if n < 1024 or unit == "TiB":
                return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
            n /= 1024
    lines = [f"{address}: {s.get('server')}, up {s.get('uptime', 0):.0f} s"
             + (f", front door for {len(s['workers'])} workers" if "workers" in s else "")]
    lines.append(f"  sessions {s.get('sessions')}, handles {s.get('handles')}, "
                 f"bytes {size(s.get('bytes', 0))}, ops {s.get('ops')}, "
                 f"ops/s {s.get('ops_per_second', 0):.1f}")
    for w in s.get("workers", []):
        if w.get("status"):
            ws = w["status"]
            lines.append(f"  worker {w['index']} {w['address']} pid {w.get('pid')}: sessions "
                         f"{ws.get('sessions')}, handles {ws.get('handles')}, bytes "
                         f"{size(ws.get('bytes', 0))}, ops/s {ws.get('ops_per_second', 0):.1f}")
        else:
            lines.append(f"  worker {w['index']} {w['address']} pid {w.get('pid')}: "
                         f"{w.get('state', 'no status yet')}")
    return "\n".join(lines)
