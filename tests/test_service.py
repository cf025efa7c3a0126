"""The daemon as a service: leases, limits, cancel, restarts, status, logs and workers.

Every test talks to real `adserver` processes over real sockets (loopback TCP or ipc).
No check depends on how fast the machine is: "while a batch runs" is seen in the daemon's
own count of executed ops (``status``), and time limits are only guards against hanging.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from adproto import Ref, kinds
from adserver.limits import Limits
from adserver.session import HANDLE_BYTES
from adserver.ping import ping, status
from adclient.session import Session
from adclient import DaemonError, SessionLost
from conftest import Daemon, free_port

TIMEOUT = 120.0      # seconds: how long a wait may last before the test says it hangs


@pytest.fixture
def token_env(tmp_path, monkeypatch):
    """A private token file for the daemons and clients of one test."""
    path = str(tmp_path / "token")
    monkeypatch.setenv("ADSERVER_TOKEN_FILE", path)
    return path


def ipc_daemon_with(tmp_path, *flags, name="d.sock"):
    return Daemon(f"ipc://{tmp_path}/{name}", *flags)


def traced_custom(x_value, prim=1, base=1, seq=1):
    """Ops: level 1, box x, a client primitive on it, sum, pop, vjp into handle base+8."""
    b = base
    return [
        [seq, "trace.push", None, [1], None],
        [seq + 1, "box", b + 1, [np.asarray(x_value, dtype=float), 1], None],
        [seq + 2, "custom", b + 2, [np.asarray(x_value, dtype=float) ** 2, Ref(b + 1)],
         {"prim": prim, "name": "sq"}],
        [seq + 3, "sum", b + 3, [Ref(b + 2)], None],
        [seq + 4, "trace.pop", None, [1], None],
        [seq + 5, "vjp", [b + 8], [Ref(b + 3), None, [Ref(b + 1)], 1], {"scalar": True}],
    ]


def recv(s, timeout=TIMEOUT):
    return s._recv(time.monotonic() + timeout)


def ops_done(address):
    """How many ops the daemon has executed, all sessions together (it answers ``status``
    between the ops of a running batch)."""
    return status(address, timeout=TIMEOUT)["ops"]


def wait_for_ops(address, at_least):
    deadline = time.monotonic() + TIMEOUT
    while ops_done(address) < at_least:
        if time.monotonic() > deadline:
            pytest.fail(f"the daemon never reached {at_least} ops")
        time.sleep(0.05)


def long_pass(n=300, size=200_000, seq=1):
    """A sync batch whose backward pass takes a while: n sines of a big vector."""
    ops = [[seq, "trace.push", None, [1], None],
           [seq + 1, "box", 1, [np.linspace(0.0, 1.0, size), 1], None]]
    h, q = 1, seq + 1
    for _ in range(n):
        q += 1
        ops.append([q, "sin", h + 1, [Ref(h)], None])
        h += 1
    ops += [[q + 1, "sum", h + 1, [Ref(h)], None],
            [q + 2, "trace.pop", None, [1], None],
            [q + 3, "vjp", [h + 2], [Ref(h + 1), None, [Ref(1)], 1], {"scalar": True}]]
    return ops, h + 2


# --- the command line ---------------------------------------------------------------------------
def test_help_documents_every_flag_and_subcommand():
    out = subprocess.run([sys.executable, "-m", "adserver", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for flag in ["--listen", "--log-level", "--log-format", "--parent-pid", "--announce",
                 "--auth", "--token-file", "--curve-secret-key", "--workers",
                 *("--" + n.replace("_", "-") for n in Limits.names())]:
        assert flag in out, flag
    for sub in ["adserver ping", "adserver status", "adserver keygen"]:
        assert sub in out


def test_announce_prints_the_bound_address(tmp_path, token_env):
    proc = subprocess.Popen([sys.executable, "-m", "adserver", "--listen",
                             "tcp://127.0.0.1:*", "--announce", "--log-level", "warning"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("adserver listening on tcp://127.0.0.1:")
        assert ping(line.rsplit(" ", 1)[1])["server"].startswith("adserver")
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_logs_are_structured(tmp_path, fmt):
    addr = f"ipc://{tmp_path}/log.sock"
    proc = subprocess.Popen([sys.executable, "-m", "adserver", "--listen", addr, "--announce",
                             "--log-format", fmt, "--log-level", "info"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        proc.stdout.readline()
        s = Session(addr)
        s.close()
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    lines = [line for line in err.splitlines() if line.strip()]
    events = []
    for line in lines:
        if fmt == "json":
            rec = json.loads(line)
        else:
            rec = dict(_logfmt_pairs(line))
        assert {"ts", "level", "logger", "event"} <= set(rec), line
        events.append(rec["event"])
    assert "listening" in events and "session opened" in events
    assert "session ended" in events and "stopped" in events


def _logfmt_pairs(line):
    import shlex
    for part in shlex.split(line):
        key, _, value = part.partition("=")
        yield key, value


# --- leases ---------------------------------------------------------------------------------------
def test_lease_expiry_frees_the_session_and_keepalive_keeps_one(tmp_path):
    # A 4 s lease: a keepalive goes every 2 s, so a loaded machine does not starve them.
    d = ipc_daemon_with(tmp_path, "--lease-seconds", "4")
    try:
        idle, busy = Session(d.address), Session(d.address)
        assert idle.lease == 4.0
        x = idle.op("array", [np.arange(4.0)])
        idle.op("publish", [Ref(x), "weights"], out=False)
        idle.sync()
        deadline = time.monotonic() + TIMEOUT
        while ping(d.address)["sessions"] > 1:    # busy only calls keepalive: no ops
            assert time.monotonic() < deadline, "the idle session never expired"
            busy.keepalive()
            time.sleep(0.1)
        assert ping(d.address)["sessions"] == 1
        with pytest.raises(SessionLost, match=f"{idle.sid}.*expired.*--lease-seconds"):
            idle.sync()
        # What the expired session published is gone; the kept one still works.
        h = busy.op("shared", ["weights"])
        with pytest.raises(DaemonError, match="no array is published under the name"):
            busy.sync(fetch=[Ref(h)])
        y = busy.op("array", [np.ones(2)])
        (v,), _ = busy.sync(fetch=[Ref(y)])
        assert v.sum() == 2.0
        busy.close()
    finally:
        d.stop()


# --- limits, each with its error, and nobody else disturbed --------------------------------------
@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tight")
    d = Daemon(f"ipc://{tmp}/tight.sock", "--max-session-bytes", "6000",
               "--max-ops-per-batch", "50", "--max-sessions", "3", "--max-live-handles", "12",
               "--max-callback-depth", "1", "--callback-timeout-seconds", "60",
               "--max-array-bytes", "900", "--max-frames", "20", "--max-message-bytes", "20000")
    yield d
    d.stop()


@pytest.fixture
def pair(tight):
    """Two sessions on the tight daemon: one to break limits, one that must not notice."""
    a, b = Session(tight.address), Session(tight.address)
    hb = b.op("array", [np.arange(5.0)])
    b.sync()
    yield a, b, hb
    a.close()
    b.close()


def assert_untouched(b, hb):
    (v,), _ = b.sync(fetch=[Ref(hb)])
    np.testing.assert_array_equal(v, np.arange(5.0))


def test_session_bytes_limit(pair):
    a, b, hb = pair
    # each handle costs its 800 bytes and 400 for the handle itself (HANDLE_BYTES)
    xs = [a.op("array", [np.ones(100)]) for _ in range(5)]     # 6000 bytes in all
    y = a.op("array", [np.ones(50)])           # 400 + 400 more: past 6000
    with pytest.raises(DaemonError) as info:
        a.sync()
    assert info.value.info["limit"] == "max_session_bytes" and info.value.seq == 6
    assert "--max-session-bytes" in str(info.value) and y
    a.release(xs[0])
    a.sync()
    z = a.op("array", [np.ones(50)])           # fits once x is released
    (v,), _ = a.sync(fetch=[Ref(z)])
    assert v.sum() == 50
    assert_untouched(b, hb)


def test_live_handles_limit_counts_what_the_session_holds(pair):
    a, b, hb = pair
    for _ in range(13):
        a.op("array", [np.zeros(1)])
    with pytest.raises(DaemonError) as info:
        a.sync()
    assert info.value.info["limit"] == "max_live_handles"
    assert_untouched(b, hb)


def test_ops_per_batch_limit_and_a_refused_fire_and_forget_batch(pair):
    a, b, hb = pair
    for _ in range(51):
        a.op("sin", [0.0], out=False)
    a.flush()                                  # refused as a whole: no reply is awaited
    with pytest.raises(DaemonError, match="refused.*--max-ops-per-batch") as info:
        a.sync()                               # ... so the next sync reports it
    assert info.value.info["limit"] == "max_ops_per_batch"
    a.sync()
    assert_untouched(b, hb)


def test_array_frame_and_message_limits(pair):
    a, b, hb = pair
    a.op("array", [np.ones(200)])              # 1600 bytes > --max-array-bytes 900
    a.flush()
    with pytest.raises(DaemonError) as info:
        a.sync()
    assert info.value.info["limit"] == "max_array_bytes"
    a.op("concatenate", [[np.ones(10)] * 25])  # 27 frames > --max-frames 20
    a.flush()
    with pytest.raises(DaemonError) as info:
        a.sync()
    assert info.value.info["limit"] == "max_frames"
    assert_untouched(b, hb)


def test_sessions_limit(pair, tight):
    a, b, hb = pair
    c = Session(tight.address)
    with pytest.raises(DaemonError, match="--max-sessions") as info:
        Session(tight.address)
    assert info.value.info["limit"] == "max_sessions"
    c.close()
    Session(tight.address).close()             # room again
    assert_untouched(b, hb)


def test_callback_timeout_fails_the_vjp_and_the_session_goes_on(tmp_path):
    d = ipc_daemon_with(tmp_path, "--callback-timeout-seconds", "1")
    a, b = Session(d.address), Session(d.address)
    try:
        hb = b.op("array", [np.arange(5.0)])
        b.sync()
        _time_out_a_callback(a)
        assert_untouched(b, hb)
    finally:
        a.close()
        b.close()
        d.stop()


def _time_out_a_callback(a):
    a._send(kinds.BATCH, {"ops": traced_custom([1.0, 2.0], base=100), "sync": True,
                          "fetch": [108]})
    header, cb = recv(a)
    assert header["kind"] == kinds.CALLBACK
    header, result = recv(a)                   # never answered: the daemon gives up
    assert header["kind"] == kinds.RESULT and result["values"] == [None]
    err = result["error"]
    assert err["type"] == "LimitError" and err["limit"] == "callback_timeout_seconds"
    assert "--callback-timeout-seconds" in err["message"] and err["op"] == "vjp"
    # A late answer is ignored, and the session works.
    a._send(kinds.CALLBACK_RETURN, {"cb": cb["cb"], "grads": [None], "error": None})
    h = a.op("array", [np.ones(2)])
    (v,), _ = a.sync(fetch=[Ref(h)])
    assert v.sum() == 2
    a.op("release", [[-1, -2, -3, 101, 102, 103, 108, h]], out=False)


def test_callback_depth_limit(pair):
    a, b, hb = pair
    a._send(kinds.BATCH, {"ops": traced_custom([3.0], base=200), "sync": True,
                          "fetch": [208]})
    header, outer = recv(a)
    assert header["kind"] == kinds.CALLBACK
    # Inside the callback the client runs another pass through a client primitive.
    a._send(kinds.BATCH, {"ops": traced_custom([5.0], prim=2, base=300, seq=50), "sync": True,
                          "fetch": [308]})
    header, inner = recv(a)
    assert header["kind"] == kinds.RESULT
    assert inner["error"]["type"] == "LimitError"
    assert inner["error"]["limit"] == "max_callback_depth"
    a._send(kinds.CALLBACK_RETURN, {"cb": outer["cb"], "grads": [np.asarray([6.0])],
                                    "error": None})
    header, result = recv(a)
    assert header["kind"] == kinds.RESULT and result["error"] is None
    np.testing.assert_array_equal(result["values"][0], [6.0])
    assert_untouched(b, hb)


def test_daemon_handles_count_towards_the_handle_limit():
    from adserver.session import Session as DaemonSession
    s = DaemonSession("sid", b"id", Limits(max_live_handles=4))
    (kind, body, _), = s.on_batch({"ops": traced_custom([1.0]), "sync": True,
                                   "fetch": [Ref(9)]}, 1)
    # box, custom and sum hold 3 handles; g, ans and x would need 3 more.
    assert kind == kinds.RESULT
    assert body["error"]["limit"] == "max_live_handles" and body["error"]["op"] == "vjp"
    assert len(s.handles) <= 4 and all(h > 0 for h in s.handles)


def test_backward_time_limit(tmp_path):
    d = ipc_daemon_with(tmp_path, "--max-backward-seconds", "0.2")
    try:
        s = Session(d.address)
        ops, out = long_pass()
        s.pending.extend(ops)
        with pytest.raises(DaemonError) as info:
            s.sync(fetch=[Ref(out)])
        assert info.value.info["limit"] == "max_backward_seconds"
        assert info.value.info["op"] == "vjp" and "--max-backward-seconds" in str(info.value)
        h = s.op("array", [np.ones(3)])
        (v,), _ = s.sync(fetch=[Ref(h)])      # the session goes on
        assert v.sum() == 3
        s.close()
    finally:
        d.stop()


# --- cancel ------------------------------------------------------------------------------------
def test_cancel_stops_a_long_batch_and_the_session_goes_on(ipc_daemon):
    s = Session(ipc_daemon.address)
    other = Session(ipc_daemon.address)
    try:
        ops, out = long_pass(n=2000)
        s._seq = ops[-1][0]
        before = ops_done(ipc_daemon.address)
        s._send(kinds.BATCH, {"ops": ops, "sync": True, "fetch": [out]})
        wait_for_ops(ipc_daemon.address, before + 3)      # the batch is under way
        assert ping(ipc_daemon.address, timeout=TIMEOUT)["sessions"] >= 2  # answered while busy
        s.cancel()
        header, result = recv(s)
        assert header["kind"] == kinds.RESULT and result["values"] == [None]
        assert result["error"]["type"] == "Cancelled"
        assert ops_done(ipc_daemon.address) - before < len(ops)    # cut short
        # Trace levels stayed in step (trace.pop ran): a new pass works.
        level = s.push_level()
        h = s.op("box", [np.asarray(2.0), level])
        y = s.op("sin", [Ref(h)])
        s.pop_level(level)
        g = s.op("vjp", [Ref(y), None, [Ref(h)], level], {"scalar": True}, out=1)
        (v,), _ = s.sync(fetch=[g[0]])
        assert abs(float(v) - np.cos(2.0)) < 1e-12
        # The other session never noticed.
        k = other.op("array", [np.ones(2)])
        assert other.sync(fetch=[Ref(k)])[0][0].sum() == 2
    finally:
        s.close()
        other.close()


# f's backward pass: `announce`'s gradient (called back first) prints "backward", the daemon
# runs 3000 sine gradients, then `hold`'s gradient waits for the Ctrl-C. The test sends
# SIGINT once it reads "backward", as a terminal does (to the child's process group): the
# grad cannot end before it, and the daemon is most likely running the sines then.
CTRL_C = textwrap.dedent("""
    import json, time
    import adclient.numpy as np
    import adclient.session as cs
    from adclient import grad, primitive, defvjp
    from adclient.session import get_session

    @primitive
    def announce(x):
        return x

    @primitive
    def hold(x):
        return x

    def announce_vjp(ans, x):
        def vjp(g):
            print("backward", flush=True)
            return g
        return vjp

    def hold_vjp(ans, x):
        def vjp(g):
            while True:
                time.sleep(1)
        return vjp

    defvjp(announce, announce_vjp)
    defvjp(hold, hold_vjp)
    cancels = []
    drain = cs.Session._cancel_and_drain
    cs.Session._cancel_and_drain = lambda self, req: (cancels.append(req), drain(self, req))

    def f(x):
        x = hold(x)
        for _ in range(3000):
            x = np.sin(x)
        return np.sum(announce(x))

    x = np.linspace(0, 1, 20_000)
    grad(lambda y: np.sum(np.sin(y)))(x)            # warm up: the session exists
    sid = get_session().sid
    try:
        grad(f)(x)
        out = {"interrupted": False}
    except KeyboardInterrupt:
        out = {"interrupted": True}
    out["cancelled"] = len(cancels)
    out["after"] = float(grad(np.sin)(2.0))
    out["same_session"] = get_session().sid == sid
    print(json.dumps(out))
""")


def test_ctrl_c_in_the_client_cancels_the_daemons_work(ipc_daemon):
    env = dict(os.environ, ADSERVER_ADDRESS=ipc_daemon.address, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        for line in proc.stdout:
            if "backward" in line:
                os.killpg(proc.pid, signal.SIGINT)
                break
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    out = json.loads(out.strip().splitlines()[-1])
    assert out["interrupted"] and out["same_session"] and out["cancelled"] == 1
    assert abs(out["after"] - np.cos(2.0)) < 1e-12


# --- restarts and lost sessions ------------------------------------------------------------------
def test_daemon_restart_under_a_running_client(token_env, monkeypatch):
    import adclient.session as cs
    import adclient.numpy as anp
    from adclient import grad
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ADSERVER_ADDRESS", address)
    first = Daemon(address)
    cs.reset()
    try:
        assert float(grad(anp.sin)(0.0)) == 1.0
        old = cs.get_session().sid
        first.stop()
        second = Daemon(address)
        try:
            with pytest.raises(SessionLost, match=f"session {old} .* is lost"):
                grad(anp.sin)(0.0)
            assert float(grad(anp.sin)(0.0)) == 1.0         # the next one starts anew
            assert cs.get_session().sid != old
        finally:
            cs.reset()
            second.stop()
    finally:
        first.stop()


def test_a_daemon_killed_during_a_sync_gives_session_lost(tmp_path):
    d = ipc_daemon_with(tmp_path)
    s = Session(d.address)
    try:
        ops, out = long_pass(n=3000)
        s.pending.extend(ops)
        before = ops_done(d.address)

        def kill_once_running():
            wait_for_ops(d.address, before + 3)
            d.proc.kill()

        killer = threading.Thread(target=kill_once_running)
        killer.start()
        with pytest.raises(SessionLost, match=f"session {s.sid}"):
            s.sync(fetch=[Ref(out)])
        killer.join(TIMEOUT)
        with pytest.raises(SessionLost):
            s.sync()
    finally:
        s.close()
        d.stop()


# --- status -------------------------------------------------------------------------------------
def test_status_reports_sessions_handles_bytes_and_ops(tmp_path):
    d = ipc_daemon_with(tmp_path)
    try:
        s = Session(d.address)
        h = s.op("array", [np.ones(1000)])
        for _ in range(200):
            h = s.op("sin", [Ref(h)])
        s.sync()
        time.sleep(1.2)
        r = subprocess.run([sys.executable, "-m", "adserver", "status", d.address, "--json"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        info = json.loads(r.stdout)
        assert info["sessions"] == 1 and info["handles"] == 201
        assert info["bytes"] == 201 * (8000 + HANDLE_BYTES) and info["ops"] >= 201
        assert "ops_per_second" in info and info["limits"]["lease_seconds"] == 600.0
        r = subprocess.run([sys.executable, "-m", "adserver", "status", d.address],
                           capture_output=True, text=True, timeout=30)
        assert "sessions 1, handles 201" in r.stdout
        s.close()
        assert status(d.address)["sessions"] == 0
    finally:
        d.stop()


def test_status_of_nothing_fails_clearly(tmp_path):
    r = subprocess.run([sys.executable, "-m", "adserver", "status", f"ipc://{tmp_path}/none",
                        "--timeout", "0.5"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no answer" in r.stderr


# --- workers ---------------------------------------------------------------------------------------
def free_block(n):
    """A port P with P..P+n free on 127.0.0.1."""
    for _ in range(50):
        p = free_port()
        try:
            socks = []
            for i in range(n + 1):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p + i))
            return p
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.skip("no block of free ports")


@pytest.mark.parametrize("transport", ["tcp", "ipc"])
def test_workers_pin_each_session_to_one_worker(tmp_path, token_env, transport):
    import adclient.numpy as anp
    address = (f"tcp://127.0.0.1:{free_block(2)}" if transport == "tcp"
               else f"ipc://{tmp_path}/front.sock")
    d = Daemon(address, "--workers", "2")
    sessions = []
    try:
        sessions = [Session(address) for _ in range(4)]
        where = [s.address for s in sessions]
        assert all(s.front_address == address for s in sessions)
        assert len(set(where)) == 2 and address not in where    # spread over both workers
        if transport == "tcp":
            port = int(address.rsplit(":", 1)[1])
            assert set(where) == {f"tcp://127.0.0.1:{port + 1}", f"tcp://127.0.0.1:{port + 2}"}
        for i, s in enumerate(sessions):
            h = s.op("array", [np.full(3, float(i))])
            (v,), _ = s.sync(fetch=[Ref(h)])
            assert v.sum() == 3 * i
        assert ping(address)["workers"] == 2
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            info = status(address)
            if info["sessions"] == 4:
                break
            time.sleep(0.3)
        assert info["sessions"] == 4 and len(info["workers"]) == 2
        assert info["handles"] == 4
        # A worker dies: its sessions are lost, the others go on, and it comes back.
        victim = info["workers"][0]
        os.kill(victim["pid"], signal.SIGKILL)
        for s in sessions:
            if s.address == victim["address"]:
                with pytest.raises(SessionLost):
                    s.sync()
            else:
                s.sync()
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            w = status(address)["workers"][0]
            if w["restarts"] == 1 and w.get("status"):
                break
            time.sleep(0.3)
        assert w["restarts"] == 1
        fresh = Session(address)
        sessions.append(fresh)
        assert float(np.asarray(fresh.sync(fetch=[Ref(fresh.op("array", [np.ones(1)]))])[0][0])
                     [0]) == 1.0
        del anp
    finally:
        for s in sessions:
            s.close()
        d.stop()
