"""One-shot questions to a daemon: ``adserver ping`` and ``adserver status``.

Both connect a DEALER socket, with CURVE if ``ADSERVER_CURVE_SERVER_KEY`` is set (see
``adserver.keys``), ask once and wait at most ``timeout`` seconds. ``status`` answers a
``challenge`` with the token (``adserver.auth``), as ``hello`` does.
"""
import time

import zmq

import adproto
from adproto import kinds


class StatusError(RuntimeError):
    """The daemon refused the question (its error object's message)."""


def connect(address, curve=None):
    from .keys import client_options
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    for opt, value in (client_options() if curve is None else curve).items():
        sock.setsockopt(opt, value)
    sock.connect(address)
    return sock


def _ask(sock, address, kind, body, req, timeout):
    # A DEALER's send blocks while it has no connected peer (a daemon that is down, or
    # whose CURVE handshake this socket fails): wait for one within the time-out too.
    deadline = time.monotonic() + timeout
    if not sock.poll(int(timeout * 1000), zmq.POLLOUT):
        raise TimeoutError(f"no connection to {address} within {timeout:g} s")
    sock.send_multipart(adproto.encode(kind, body, req=req), zmq.NOBLOCK)
    left = max(0.0, deadline - time.monotonic())
    if not sock.poll(int(left * 1000)):
        raise TimeoutError(f"no answer from {address} within {timeout:g} s")
    return adproto.decode(sock.recv_multipart())


def ping(address, timeout=5.0):
    """The daemon's pong body, or TimeoutError if none comes within ``timeout`` seconds."""
    sock = connect(address)
    try:
        header, body = _ask(sock, address, kinds.PING, {}, 1, timeout)
        return body
    finally:
        sock.close(0)


def status(address, timeout=5.0, token_file=None):
    """The daemon's status_reply body (PROTOCOL.md section 5.10)."""
    sock = connect(address)
    try:
        header, body = _ask(sock, address, kinds.STATUS, {}, 1, timeout)
        if header["kind"] == kinds.CHALLENGE:
            from .auth import answer, load_token
            header, body = _ask(sock, address, kinds.STATUS,
                                {"auth": answer(load_token(token_file), body)}, 2, timeout)
        if header["kind"] == kinds.ERROR:
            raise StatusError(body.get("error", {}).get("message", "refused"))
        return body
    finally:
        sock.close(0)


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
