"""A client's session with the daemon: one DEALER socket, batched ops, synchronous fetches.

Both clients use this class: adclient directly, and adlua from its Lua host. Ops are
appended to a pending batch and sent without waiting for a reply; a sync sends the batch
with the handles whose values or shapes the caller needs and waits for one reply. While
it waits, the daemon may call back (a backward pass reached a gradient the client
defined): the handler runs right here, its own ops go out, and the wait resumes.

With no address configured (ADSERVER_ADDRESS unset) the session starts a private daemon
on an ipc socket in a fresh 0700 directory and stops it when the process exits.
"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

import zmq

import adproto
from adproto import kinds
from .errors import DaemonError, SessionLost

FLUSH_OPS = 2000   # send a batch once this many ops are pending, without waiting


class Session:
    def __init__(self, address=None, client="adclient", connect_timeout=60.0):
        self.client = client
        self.ctx = zmq.Context.instance()
        self._daemon = None
        self._tmpdir = None
        if address is None:
            address = self._start_private_daemon()
        self.address = address
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)
        self.pending = []
        self._releases = []
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
        self._pid = os.getpid()
        welcome = self._request(kinds.HELLO, {"versions": [adproto.PROTOCOL_VERSION],
                                              "client": client}, timeout=connect_timeout)
        self.sid = welcome["session"]
        self.limits = welcome.get("limits", {})

    # --- the private daemon ----------------------------------------------------------------
    def _start_private_daemon(self):
        self._tmpdir = tempfile.mkdtemp(prefix="adserver-")  # mode 0700
        address = f"ipc://{self._tmpdir}/daemon.sock"
        level = os.environ.get("ADSERVER_LOG_LEVEL", "warning")
        self._daemon = subprocess.Popen(
            [sys.executable, "-m", "adserver", "--listen", address,
             "--parent-pid", str(os.getpid()), "--log-level", level],
            stdin=subprocess.DEVNULL)
        return address

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
        self._seq = seq = self._seq + 1
        self.pending.append([seq, name, out, args, kwargs])
        if name == "vjp" and self.callbacks:
            # This pass may call back into this process: the batch that carries it must be
            # a sync, so that the callback is served while the client listens, and no later
            # op can run before the pass has filled its outputs.
            self._must_sync = True
        if self.locator is not None:
            self._origins[seq] = self.locator()
        if len(self.pending) >= FLUSH_OPS:
            self.flush()
        return out

    def release(self, handle):
        """Forget a handle; rides with the next batch. Safe from a finalizer (no I/O)."""
        self._releases.append(handle)

    def _take_batch(self):
        ops = self.pending
        if self._releases:
            releases, self._releases = self._releases, []
            self.releases_sent += len(releases)
            self._seq += 1
            ops.append([self._seq, "release", None, [releases], None])
        self.pending = []
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
        body = self._request(kinds.BATCH, {"ops": self._take_batch(), "sync": True,
                                           "fetch": list(fetch), "meta": list(meta)})
        if not self._serving:
            self.keep_alive.clear()
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
        raise DaemonError(err, location)

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
        self._req += 1
        header = {"req": self._req}
        if self.sid is not None:
            header["session"] = self.sid
        self.sock.send_multipart(adproto.encode(kind, body, **header), copy=False)
        return self._req

    def _request(self, kind, body, timeout=None):
        req = self._send(kind, body)
        self.round_trips += 1
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            header, reply = self._recv(deadline)
            rkind = header["kind"]
            if rkind == kinds.CALLBACK:
                self._serve_callback(reply)
                continue
            if header.get("req") not in (req, None):
                continue  # a late answer to an abandoned request
            if rkind == kinds.ERROR:
                err = reply.get("error", {})
                if err.get("type") == "SessionError":
                    self.closed = True
                    raise SessionLost(f"{err.get('message')} (session {self.sid} at "
                                      f"{self.address})")
                raise DaemonError(err)
            return reply

    def _recv(self, deadline):
        while True:
            if self.sock.poll(500):
                frames = self.sock.recv_multipart(copy=False)
                return adproto.decode(frames)
            if self._daemon is not None and self._daemon.poll() is not None:
                self.closed = True
                raise SessionLost(f"the private daemon exited with status "
                                  f"{self._daemon.returncode}")
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"no answer from the daemon at {self.address}")

    # --- callbacks -------------------------------------------------------------------------------
    def _serve_callback(self, body):
        handler = self.callbacks.get(body.get("prim"))
        self._serving += 1
        try:
            try:
                if handler is None:
                    raise LookupError(f"no gradient registered for primitive "
                                      f"{body.get('name')!r}")
                grads, error = handler(body), None
            except Exception as exc:
                grads, error = [], {"message": f"{type(exc).__name__}: {exc}",
                                    "type": type(exc).__name__}
            self.flush()
            self._send(kinds.CALLBACK_RETURN, {"cb": body["cb"], "grads": grads,
                                               "error": error})
        finally:
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
        if self.closed:
            raise SessionLost(f"session {self.sid} is closed")

    def close(self):
        if self.closed or os.getpid() != self._pid:
            return
        try:
            self.flush()
            self._send(kinds.BYE, {})
            if self.sock.poll(2000):
                self.sock.recv_multipart()
        except Exception:
            pass
        self.closed = True
        self.sock.close(0)
        if self._daemon is not None:
            self._daemon.terminate()
            try:
                self._daemon.wait(5)
            except subprocess.TimeoutExpired:
                self._daemon.kill()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


_ADCLIENT_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_location():
    """(code, line) of the innermost frame outside adclient: where the user issued an op.

    Kept as a code object and a line number, shared by every op from the same line, and
    formatted only if that op fails.
    """
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_ADCLIENT_DIR):
        f = f.f_back
    return None if f is None else (f.f_code, f.f_lineno)


_session = None


def get_session():
    """The process's session, started on first use (ADSERVER_ADDRESS, or a private daemon)."""
    global _session
    s = _session
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
