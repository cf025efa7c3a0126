"""Faults under a live daemon (issue 6): clients killed at the worst moment, a client that
stops reading, a daemon restarted under its client.

Every scenario runs against a daemon of its own, with a *bystander*: this process's adclient
session, which holds data and computes real gradients before, during and after the fault,
and must see no difference.  And every scenario measures the daemon's memory (RSS, from
/proc): the baseline is taken after a warm-up that does the same work cooperatively (so the
daemon's imports, caches and allocator pools are already at their working size), and the
fault's leftovers must be gone once the dead client's session has expired.

Sessions of killed clients are freed on lease expiry: the daemons of those scenarios run
with a short lease (``--lease-seconds``, LEASE below); the bystander keeps its own session
alive by working, and by keepalives while it waits. The scenarios that expire nothing run
with the default lease, so that no wait of theirs, however slow the machine, ends a session.

No check here depends on how fast the machine is: "while the daemon runs the batch" is
seen in the daemon's own count of executed ops (``status``), "before" is the order in which
replies arrive, and time limits are only guards against hanging, tens of seconds long.  The arrays the faulty clients hold are 40 MiB each, above glibc's largest mmap
threshold (32 MiB), so that freeing them gives the memory back to the system at once and
RSS shows what the daemon still holds rather than what its allocator keeps around.

Figures (RSS before/after, bystander latencies) are printed with ``-s`` and recorded in
docs/ROBUSTNESS.md.
"""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import zmq

import adproto
from adproto import Ref, kinds
from conftest import Daemon
from rss import mib, peak_rss, rss, settled_rss

LEASE = 4.0                  # seconds: the lease of the daemons whose sessions expire
GUARD = 120                  # seconds: how long a wait may last before the test says it hangs
BIG = 5 * (1 << 20)          # float64 elements of one faulty client's array: 40 MiB
RSS_TOLERANCE = 16 << 20     # see _assert_back_to_baseline
FIGURES = {}


def _help():
    return subprocess.run([sys.executable, "-m", "adserver", "--help"], capture_output=True,
                          text=True, timeout=60).stdout


HELP = _help()
HAS_LEASE = "--lease-seconds" in HELP


def start_daemon(tmp_path, *flags, name="d", lease=LEASE):
    extra = ["--log-level", "error", "--parent-pid", str(os.getpid())]
    if HAS_LEASE and lease is not None:
        extra += ["--lease-seconds", str(lease)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENBLAS_NUM_THREADS", "1")
        mp.setenv("OMP_NUM_THREADS", "1")
        # glibc gives memory back to the system at once only for blocks it mmapped, and by
        # default it raises its mmap threshold (up to 32 MiB) as the process frees large
        # blocks, so freed arrays of a few hundred KiB stay in the heap and in RSS.  A fixed
        # 64 KiB threshold makes RSS follow what the daemon really holds (measured: a
        # client that stopped reading leaves 70 MiB of freed replies in RSS with the
        # default, 5 MiB with this; the freed memory is reused either way).  It hides no
        # leak: memory that is still referenced is never given back, whatever the threshold.
        mp.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
        return Daemon(f"ipc://{tmp_path}/{name}.sock", *extra, *flags)


def sessions_of(daemon):
    from adserver.ping import ping
    return ping(daemon.address, timeout=5)["sessions"]


def ops_done(daemon):
    """How many ops the daemon has executed so far, all sessions together (it answers
    ``status`` between the ops of a running batch)."""
    from adserver.ping import status
    return status(daemon.address, timeout=GUARD)["ops"]


def wait_for_ops(daemon, at_least, bystander=None):
    """Wait until the daemon has executed ``at_least`` ops (the bystander, if given, keeps
    its lease meanwhile)."""
    end = time.monotonic() + GUARD
    while ops_done(daemon) < at_least:
        if time.monotonic() > end:
            pytest.fail(f"the daemon never reached {at_least} ops")
        if bystander is not None:
            bystander.keep()
        time.sleep(0.05)


def status_of(daemon):
    """``adserver status --json``: the daemon's own count of sessions, handles and bytes
    (None if this adserver has no status command)."""
    r = subprocess.run([sys.executable, "-m", "adserver", "status", daemon.address, "--json"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout) if r.returncode == 0 else None


def codec_cycles_hold_arrays():
    """Bug B7: does the shared codec still leave reference cycles that keep every array it
    encodes or decodes alive until CPython's cyclic garbage collector runs?  (The daemon
    uses this codec; while it does, the daemon's RSS after a session ends depends on when
    its garbage collector last ran.)"""
    import gc
    import weakref

    class Buf(bytearray):
        pass

    frames = adproto.encode(kinds.BATCH, {"ops": [[1, "array", 1, [np.ones(4)], None]]})
    big = Buf(frames[2])
    sent = np.ones(4)
    ref_in, ref_out = weakref.ref(big), weakref.ref(sent)
    enabled = gc.isenabled()
    gc.disable()
    try:
        adproto.decode([bytes(frames[0]), bytes(frames[1]), big])
        adproto.encode(kinds.RESULT, {"values": [sent]})
        del big, sent
        held = ref_in() is not None or ref_out() is not None
    finally:
        if enabled:
            gc.enable()
        gc.collect()
    return held


# --- the bystander: this process's adclient session ---------------------------------------
class Bystander:
    """Holds an array and computes gradients; every check is timed."""

    def __init__(self, daemon, monkeypatch):
        import adclient.session as cs
        monkeypatch.setenv("ADSERVER_ADDRESS", daemon.address)
        cs.reset()
        self.cs = cs
        self.daemon = daemon
        self.x = np.linspace(-2, 2, 1000)
        s = cs.get_session()
        self.h = s.op("array", [self.x])
        s.sync()
        self.latencies = []
        self.check()
        self.fresh = self.settled_rss()               # before any scenario's warm-up

    def check(self):
        """A gradient, and the held array: both must be exactly as they should."""
        import adclient.numpy as anp
        from adclient import grad
        t0 = time.perf_counter()
        g = grad(lambda v: anp.sum(anp.sin(v) * v))(self.x)
        (held,), _ = self.cs.get_session().sync(fetch=[Ref(self.h)])
        self.latencies.append(time.perf_counter() - t0)
        np.testing.assert_allclose(g, np.cos(self.x) * self.x + np.sin(self.x), rtol=1e-12)
        np.testing.assert_array_equal(held, self.x)

    def keep(self):
        """Renew the bystander's lease if half of it has passed (a ping, no work)."""
        self.cs.get_session().keepalive()

    def ops_per_check(self):
        """The fewest ops one check makes the daemon execute (measured when nothing else
        runs; a check's releases may ride with the next one, so counts vary by a few)."""
        counts = []
        for _ in range(3):
            before = ops_done(self.daemon)
            self.check()
            counts.append(ops_done(self.daemon) - before)
        return min(counts)

    def idle(self, seconds):
        """Do nothing for ``seconds`` but keep the bystander's lease."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.keep()
            time.sleep(0.05)

    def settled_rss(self, quiet=0.5, slack=256 * 1024, timeout=10.0):
        """The daemon's RSS once it has moved by less than ``slack`` bytes over ``quiet``
        seconds (as rss.settled_rss), the bystander keeping its lease meanwhile."""
        pid = self.daemon.proc.pid
        end = time.monotonic() + timeout
        last = rss(pid)
        while True:
            self.idle(quiet)
            now = rss(pid)
            if abs(now - last) < slack or time.monotonic() > end:
                return now
            last = now

    def work_for(self, seconds, period=0.2):
        """Keep checking (which also keeps the bystander's own lease alive)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check()
            time.sleep(period)

    def wait_sessions(self, n, timeout, period=1.3):
        """Work until the daemon serves ``n`` sessions (the dead ones have expired).

        The pause between two checks is longer than a second on purpose: the daemon ends
        expired sessions only in a second in which it has been idle (bug B6, see
        test_bug_busy_daemon_never_expires_dead_sessions), and shorter than half the lease,
        so that the bystander keeps its own session.
        """
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sessions_of(self.daemon) <= n:
                return True
            self.check()
            time.sleep(period)
        return sessions_of(self.daemon) <= n

    def close(self):
        self.cs.reset()

    def figures(self):
        ms = np.asarray(self.latencies) * 1e3
        return {"checks": int(ms.size), "median_ms": round(float(np.median(ms)), 2),
                "max_ms": round(float(ms.max()), 1)}


@pytest.fixture
def daemon(tmp_path):
    d = start_daemon(tmp_path)
    yield d
    d.stop()


@pytest.fixture
def bystander(daemon, monkeypatch):
    b = Bystander(daemon, monkeypatch)
    yield b
    b.close()


# --- faulty clients: scripts run as processes of their own, killed with SIGKILL ------------
PRELUDE = textwrap.dedent("""
    import os, sys, threading, time
    import numpy
    def _watch(parent):
        def run():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(3)
        threading.Thread(target=run, daemon=True).start()
    _watch(int(os.environ["FAULT_PARENT"]))
    MODE = sys.argv[1]          # "finish": do the work and leave; "hang": stop at the fault
    BIG = %d
    def say(what):
        print(what, flush=True)
""" % BIG)

MID_UPLOAD = PRELUDE + textwrap.dedent("""
    import zmq, adproto
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.connect(os.environ["ADSERVER_ADDRESS"])
    sock.send_multipart(adproto.encode("hello", {"versions": [1]}, req=1))
    header, body = adproto.decode(sock.recv_multipart())
    sid = body["session"]
    arrays = [numpy.full(BIG, float(i)) for i in range(6)]       # 240 MiB in one message
    ops = [[i + 1, "array", i + 1, [a], None] for i, a in enumerate(arrays)]
    say("sending")
    sock.send_multipart(adproto.encode("batch", {"ops": ops, "sync": True}, req=2,
                                       session=sid), copy=False)
    if MODE == "finish":
        adproto.decode(sock.recv_multipart())
        sock.send_multipart(adproto.encode("bye", {}, req=3, session=sid))
        adproto.decode(sock.recv_multipart())
        say("done")
    else:
        time.sleep(3600)
""")

MID_BATCH = PRELUDE + textwrap.dedent("""
    from adclient.session import Session
    from adproto import Ref
    s = Session(os.environ["ADSERVER_ADDRESS"])
    a = s.op("array", [numpy.full(BIG, 1.0)])
    b = s.op("array", [numpy.full(BIG, 2.0)])
    m = s.op("array", [numpy.random.RandomState(0).rand(700, 700)])
    s.sync()
    say("uploaded")
    for _ in range(int(sys.argv[2])):         # seconds of work for the daemon
        m = s.op("dot", [Ref(m), Ref(m)])
        m = s.op("tanh", [Ref(m)])
    say("sent")
    s.sync()
    if MODE == "finish":
        s.close()
        say("done")
""")

MID_CALLBACK = PRELUDE + textwrap.dedent("""
    import adclient.numpy as np
    from adclient import grad, primitive, defvjp

    @primitive
    def f(x):
        return numpy.sin(x)

    def vjp_maker(ans, x):
        def vjp(g):
            if MODE == "hang":
                say("in vjp")
                time.sleep(3600)
            return g * np.cos(x)
        return vjp

    defvjp(f, vjp_maker)
    x = numpy.linspace(0, 1, BIG)
    g = grad(lambda x: np.sum(f(x) * 2.0))(x)
    assert numpy.allclose(g, 2 * numpy.cos(x))
    say("done")
""")


def run_client(script, daemon, *args):
    env = {**os.environ, "ADSERVER_ADDRESS": daemon.address, "FAULT_PARENT": str(os.getpid()),
           "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", script, *args], env=env,
                            stdout=subprocess.PIPE)
    proc.unread = b""            # output read from the pipe, not yet taken as lines
    return proc


def _next_line(proc, wait):
    """The client's next line ("" at its end), or None if none came within ``wait`` s.

    Reads the pipe itself rather than through a buffered file: a buffered readline can
    take two lines at once, and select() then waits for a line that is already read."""
    import select
    while b"\n" not in proc.unread:
        ready, _, _ = select.select([proc.stdout], [], [], wait)
        if not ready:
            return None
        chunk = os.read(proc.stdout.fileno(), 4096)
        if not chunk:
            line, proc.unread = proc.unread, b""
            return line.decode()
        proc.unread += chunk
    line, _, proc.unread = proc.unread.partition(b"\n")
    return line.decode() + "\n"


def expect_line(proc, want, bystander, timeout=GUARD):
    """Wait for the client to print ``want`` (skipping other lines); the bystander works
    meanwhile, which keeps its session from expiring."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = _next_line(proc, 0.3)
        if line is None:
            bystander.check()
        elif not line:
            break
        elif line.strip() == want:
            return
    pytest.fail(f"the client never said {want!r} (exit status {proc.poll()})")


def finish(script, daemon, bystander, *args):
    """Run the client to its end (the warm-up): the same work, done cooperatively."""
    p = run_client(script, daemon, "finish", *args)
    expect_line(p, "done", bystander)
    assert p.wait(60) == 0


def kill9(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)


def _assert_back_to_baseline(name, daemon, bystander, baseline, extra=None):
    """After the dead client's lease: its session is gone, RSS is back, figures recorded.

    RSS is compared with the daemon's RSS before the warm-up (``bystander.fresh``): the
    RSS right after the warm-up can still include the warm-up's own arrays, waiting for
    the garbage collector (bug B7), which would make the check too lenient.  The tolerance
    (16 MiB) is for what the warm-up and a dead session leave in CPython's and glibc's pools
    (imported op families, caches, small objects) next to the 80 to 480 MiB the scenarios
    make the daemon hold; measured leftovers are 0.2 to 9.4 MiB (docs/ROBUSTNESS.md).  Without
    leases the dead session keeps its arrays, which the xfail below reports on a daemon
    that has none.
    """
    expired = bystander.wait_sessions(1, timeout=LEASE * 3 + 10)
    after = bystander.settled_rss(quiet=0.5)
    bystander.check()
    status = status_of(daemon)
    fresh = bystander.fresh
    FIGURES[name] = {"rss_fresh": mib(fresh), "rss_after_warm_up": mib(baseline),
                     "rss_after": mib(after),
                     "rss_peak": mib(peak_rss(daemon.proc.pid)),
                     "sessions_after": sessions_of(daemon), "bystander": bystander.figures(),
                     **(extra or {})}
    if status is not None:
        FIGURES[name]["daemon_count_after"] = {k: status[k] for k in ("sessions", "handles",
                                                                      "bytes")}
    print(f"\n{name}: {json.dumps(FIGURES[name])}")
    assert daemon.alive()
    if not HAS_LEASE:
        pytest.xfail(f"this adserver has no --lease-seconds: the dead client's session stays "
                     f"(RSS {mib(baseline)} before, {mib(after)} after)")
    assert expired, "the dead client's session did not expire"
    if status is not None:
        # The daemon's own count: only the bystander's session and its few small arrays.
        assert status["sessions"] == 1 and status["bytes"] < 1 << 20, status
    if after - fresh >= RSS_TOLERANCE and codec_cycles_hold_arrays():
        pytest.xfail(f"daemon bug B7 (arrays held by the codec's reference cycles until the "
                     f"garbage collector runs): {name}: RSS {mib(fresh)} before, "
                     f"{mib(after)} after the session expired, although the daemon counts "
                     f"{status and status['bytes']} bytes held")
    assert after - fresh < RSS_TOLERANCE, \
        f"{name}: daemon RSS {mib(fresh)} before, {mib(after)} after the session expired"


# --- the scenarios ------------------------------------------------------------------------------
def test_client_killed_while_its_batch_is_in_transit(daemon, bystander):
    """kill -9 while a 240 MiB batch message is being sent: half a message never reaches
    the daemon (ZeroMQ drops it with the connection), a whole one makes a session that the
    lease ends."""
    finish(MID_UPLOAD, daemon, bystander)
    baseline = bystander.settled_rss()
    p = run_client(MID_UPLOAD, daemon, "hang")
    expect_line(p, "sending", bystander)
    time.sleep(0.05)
    kill9(p)
    bystander.check()
    _assert_back_to_baseline("killed mid-upload", daemon, bystander, baseline)


def test_client_killed_while_the_daemon_runs_its_batch(daemon, bystander):
    """kill -9 while the daemon executes the client's long sync batch: the daemon finishes
    it (it cannot know), its reply is dropped, the session expires with its 80 MiB."""
    finish(MID_BATCH, daemon, bystander, "2")
    baseline = bystander.settled_rss()
    p = run_client(MID_BATCH, daemon, "hang", "60")
    expect_line(p, "uploaded", bystander)
    expect_line(p, "sent", bystander)
    # The daemon is in the middle of the batch (120 ops) once it has run a couple of them;
    # nothing else runs ops meanwhile.
    started = ops_done(daemon)
    wait_for_ops(daemon, started + 2, bystander)
    assert ops_done(daemon) - started < 120, "the batch ended before the kill"
    kill9(p)
    t0 = time.perf_counter()
    bystander.check()                     # waits behind the dead client's batch
    behind = time.perf_counter() - t0
    _assert_back_to_baseline("killed mid-batch", daemon, bystander, baseline,
                             {"bystander_wait_behind_the_batch_s": round(behind, 2)})


def test_client_killed_while_the_daemon_waits_for_its_callback(daemon, bystander):
    """kill -9 inside a user-defined VJP: the daemon's backward pass is suspended waiting
    for a callback_return that never comes; other sessions go on, the lease ends it."""
    finish(MID_CALLBACK, daemon, bystander)
    baseline = bystander.settled_rss()
    p = run_client(MID_CALLBACK, daemon, "hang")
    expect_line(p, "in vjp", bystander)
    kill9(p)
    bystander.work_for(0.5)               # the suspended pass blocks nobody
    _assert_back_to_baseline("killed mid-callback", daemon, bystander, baseline)


def _raw_session(address, rcvhwm=None):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if rcvhwm is not None:
        sock.setsockopt(zmq.RCVHWM, rcvhwm)
        sock.setsockopt(zmq.RCVBUF, 4096)
    sock.connect(address)
    sock.send_multipart(adproto.encode(kinds.HELLO, {"versions": [1], "client": "faults"},
                                       req=1))
    assert sock.poll(GUARD * 1000)
    header, body = adproto.decode(sock.recv_multipart())
    assert header["kind"] == kinds.WELCOME, body
    return sock, body["session"]


def test_a_client_that_stops_reading(daemon, bystander):
    """A client sends thousands of sync batches, each fetching a fresh 64 KiB array, and
    never reads a reply.  The daemon must not block (the bystander's checks go on during the
    flood) and must not grow without bound: a second flood as big as the first must not
    add what the first did (the replies queued for a peer that does not read are capped,
    and the rest dropped).  When the client goes away, the queue goes with it."""
    n_per_flood, size = 1500, 8192           # 1500 x 64 KiB = 94 MiB of replies per flood
    # warm-up: the same requests, read
    sock, sid = _raw_session(daemon.address)
    for i in range(200):
        sock.send_multipart(adproto.encode(kinds.BATCH, {
            "ops": [[1, "array", 1, [np.ones(size)], None], [2, "negative", 2, [Ref(1)], None]],
            "sync": True, "fetch": [2]}, req=10 + i, session=sid))
        assert sock.poll(GUARD * 1000)
        sock.recv_multipart()
    sock.close(0)
    assert bystander.wait_sessions(1, timeout=LEASE * 3 + 10)
    baseline = bystander.settled_rss()
    per_check = bystander.ops_per_check()

    sock, sid = _raw_session(daemon.address, rcvhwm=1)
    processed = ops_done(daemon) + 1          # ops the daemon will have run: the upload, ...
    sock.send_multipart(adproto.encode(kinds.BATCH, {
        "ops": [[1, "array", 1, [np.ones(size)], None]], "sync": False}, req=2, session=sid))
    growth, checks_during = [], []
    for flood in range(2):
        for i in range(n_per_flood):
            sock.send_multipart(adproto.encode(kinds.BATCH, {
                "ops": [[i, "negative", 2, [Ref(1)], None]], "sync": True, "fetch": [2]},
                req=1000 + flood * n_per_flood + i, session=sid), copy=False)
            if i % 250 == 0:
                t0 = time.perf_counter()
                bystander.check()            # the daemon still serves others, mid-flood
                checks_during.append(time.perf_counter() - t0)
        processed += n_per_flood + per_check * n_per_flood // 250   # ... each flood, checks
        wait_for_ops(daemon, processed, bystander)   # the flood has been processed
        growth.append(bystander.settled_rss() - baseline)
    sock.close(0)                            # the client goes away
    extra = {"rss_growth_after_flood_1": mib(growth[0]), "rss_growth_after_flood_2":
             mib(growth[1]), "replies_per_flood": n_per_flood, "reply_kib": size * 8 // 1024,
             "bystander_max_ms_during_floods": round(max(checks_during) * 1e3, 1)}
    # Bounded: the second flood adds (almost) nothing to the first, which itself is far
    # below the 94 MiB of replies it asked for.
    assert growth[1] - growth[0] < max(0.25 * growth[0], 16 << 20), extra
    assert growth[0] < n_per_flood * size * 8, extra
    assert len(checks_during) == 2 * n_per_flood // 250, extra   # served amid the floods
    _assert_back_to_baseline("client stops reading", daemon, bystander, baseline, extra)


RESTARTED = textwrap.dedent("""
    import json, os, sys, threading, time
    import numpy
    import adclient.numpy as np
    from adclient import grad
    from adclient.session import get_session
    from adproto import Ref
    def _watch(parent):
        def run():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(3)
        threading.Thread(target=run, daemon=True).start()
    _watch(int(os.environ["FAULT_PARENT"]))
    x = numpy.linspace(0, 1, 5)
    f = lambda v: np.sum(np.sin(v))
    for line in sys.stdin:
        n = int(line)
        t0 = time.monotonic()
        try:
            if n:
                # One sync batch that keeps the daemon busy for seconds (8n products of
                # 2048x2048 matrices): the client is certainly waiting for its result.
                s = get_session()
                a = s.op("array", [numpy.ones((2048, 2048))])
                for _ in range(8 * n):
                    s.op("matmul", [Ref(a), Ref(a)], out=False)
                s.sync()
            g = grad(f)(x)
            sid = get_session().sid
            print(json.dumps({"ok": bool(numpy.allclose(g, numpy.cos(x))), "sid": sid,
                              "s": time.monotonic() - t0}), flush=True)
        except Exception as exc:
            print(json.dumps({"error": type(exc).__name__, "message": str(exc),
                              "s": time.monotonic() - t0}), flush=True)
""")


def _ask(proc, n, timeout):
    import select
    proc.stdin.write(f"{n}\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        return None
    return json.loads(proc.stdout.readline())


def test_daemon_restarted_under_an_idle_client(tmp_path):
    """The daemon is killed and another one starts on the same address between two grad
    calls: the next call raises SessionLost naming the lost session, the one after works
    on a new session."""
    d = start_daemon(tmp_path, name="restart")
    env = {**os.environ, "ADSERVER_ADDRESS": d.address, "FAULT_PARENT": str(os.getpid())}
    p = subprocess.Popen([sys.executable, "-c", RESTARTED], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    d2 = None
    try:
        first = _ask(p, 0, 60)
        assert first and first.get("ok"), first
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d2 = start_daemon(tmp_path, name="restart")
        lost = _ask(p, 0, 60)
        assert lost is not None, "the client hung"
        assert lost.get("error") == "SessionLost", lost
        assert first["sid"] in lost["message"], lost
        again = _ask(p, 0, 60)
        assert again and again.get("ok"), again
        assert again["sid"] != first["sid"]
        FIGURES["daemon restarted, idle client"] = {"lost": lost["message"][:200],
                                                    "new_session_s": round(again["s"], 2)}
        print("\n", FIGURES["daemon restarted, idle client"])
    finally:
        p.kill()
        p.wait()
        d.stop()
        if d2 is not None:
            d2.stop()


def test_daemon_killed_while_the_client_waits_for_a_result(tmp_path):
    """The daemon dies while the client waits for the result of a long sync batch, and a
    new one starts on the same address.  The wait must end with SessionLost
    (not hang), and the next gradient runs on the new daemon."""
    d = start_daemon(tmp_path, name="restart")
    env = {**os.environ, "ADSERVER_ADDRESS": d.address, "FAULT_PARENT": str(os.getpid())}
    p = subprocess.Popen([sys.executable, "-c", RESTARTED], env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    d2 = None
    try:
        first = _ask(p, 0, 60)
        assert first and first.get("ok"), first
        started = ops_done(d)
        p.stdin.write("5\n")              # a sync batch of 41 ops, each a big product
        p.stdin.flush()
        wait_for_ops(d, started + 2)      # the client waits; the daemon is mid-batch
        assert ops_done(d) - started < 41, "the batch ended before the daemon was killed"
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        d2 = start_daemon(tmp_path, name="restart")
        import select
        ready, _, _ = select.select([p.stdout], [], [], GUARD)
        if not ready:
            pytest.fail(f"the client still waits for the result of a daemon that died "
                        f"{GUARD} s ago")
        lost = json.loads(p.stdout.readline())
        assert lost.get("error") == "SessionLost" and first["sid"] in lost["message"], lost
        again = _ask(p, 0, 60)
        assert again and again.get("ok"), again
        FIGURES["daemon killed mid-wait"] = {"lost": lost["message"][:200],
                                             "call_s": round(lost["s"], 2)}
        print("\n", FIGURES["daemon killed mid-wait"])
    finally:
        p.kill()
        p.wait()
        d.stop()
        if d2 is not None:
            d2.stop()


# --- bugs -------------------------------------------------------------------------------------
def test_a_busy_daemon_still_expires_dead_sessions(daemon):
    if not HAS_LEASE:
        pytest.skip("no --lease-seconds")
    dead, _ = _raw_session(daemon.address)
    live, sid = _raw_session(daemon.address)
    dead.close(0)                                # its client is gone
    end = time.monotonic() + GUARD
    while sessions_of(daemon) > 1:               # another client, busy: 5 messages a second
        if time.monotonic() > end:
            pytest.fail(f"the dead session outlived its lease ({LEASE:g} s) by {GUARD} s "
                        "while another client kept the daemon busy")
        live.send_multipart(adproto.encode(kinds.BATCH, {"ops": [], "sync": True}, req=5,
                                           session=sid))
        assert live.poll(GUARD * 1000)
        live.recv_multipart()
        time.sleep(0.2)
    assert sessions_of(daemon) == 1              # the busy one is still there
    live.close(0)


def test_codec_leaves_no_cycles_holding_arrays():
    """(was bug B7: encode's packer and decode's closures made reference cycles that kept
    every array alive until the cyclic garbage collector ran)"""
    assert not codec_cycles_hold_arrays()


def test_uploads_of_ended_sessions_leave_the_daemons_memory(daemon):
    """(was bug B7, seen from outside)"""
    baseline = settled_rss(daemon.proc.pid)
    for round_ in range(3):
        sock, sid = _raw_session(daemon.address)
        ops = [[1, "array", 1, [np.full(BIG, 1.0)], None], [2, "array", 2, [np.full(BIG, 2.0)],
                                                             None]]
        sock.send_multipart(adproto.encode(kinds.BATCH, {"ops": ops, "sync": True}, req=2,
                                           session=sid))
        assert sock.poll(GUARD * 1000)
        sock.recv_multipart()
        sock.send_multipart(adproto.encode(kinds.BYE, {}, req=3, session=sid))
        assert sock.poll(GUARD * 1000)
        sock.recv_multipart()
        sock.close(0)
    after = settled_rss(daemon.proc.pid)
    FIGURES["uploads of ended sessions"] = {"rss_baseline": mib(baseline),
                                            "rss_after_3_sessions_of_80_MiB": mib(after)}
    print("\n", FIGURES["uploads of ended sessions"])
    assert after - baseline < RSS_TOLERANCE, f"RSS {mib(baseline)} -> {mib(after)}"


# --- one session's slow batch and the others ----------------------------------------------
# These expire nothing: their daemon keeps the default lease, so that sessions waiting
# behind long batches on a slow machine are not ended.
@pytest.fixture
def steady_daemon(tmp_path):
    d = start_daemon(tmp_path, name="steady", lease=None)
    yield d
    d.stop()


@pytest.fixture
def steady_bystander(steady_daemon, monkeypatch):
    b = Bystander(steady_daemon, monkeypatch)
    yield b
    b.close()


SLOW_PRODUCTS = 16


def _slow_batch():
    """A forward-only batch: an upload, then SLOW_PRODUCTS 2048x2048 matrix products (a
    tenth of a second or more each)."""
    a = np.ones((2048, 2048))
    return [[1, "array", 1, [a], None]] + [[i + 2, "matmul", 2, [Ref(1), Ref(1)], None]
                                           for i in range(SLOW_PRODUCTS)]


def _start_slow_batch(daemon, bystander):
    """Send another session's slow batch and return once the daemon is running it:
    (its socket, the daemon's op count before it)."""
    sock, sid = _raw_session(daemon.address)
    before = ops_done(daemon)
    sock.send_multipart(adproto.encode(kinds.BATCH, {"ops": _slow_batch(), "sync": True},
                                       req=2, session=sid))
    wait_for_ops(daemon, before + 2, bystander)        # the upload and a product are done
    return sock, before


def _finish_slow_batch(sock):
    """The slow batch's reply (after everything else): it ran to its end, without error."""
    assert sock.poll(GUARD * 1000), "the slow batch never finished"
    header, body = adproto.decode(sock.recv_multipart())
    sock.close(0)
    assert header["kind"] == kinds.RESULT and body["error"] is None, body


def test_one_sessions_slow_batch_delays_the_others_by_one_op(steady_daemon, steady_bystander):
    """(was bug B4: another session waited for the whole batch; now for the op under way)

    Seen as an order of events, whatever the machine's speed: the bystander's 2-op
    gradient is answered while the slow batch still has most of its products to run."""
    daemon, bystander = steady_daemon, steady_bystander
    per_check = bystander.ops_per_check()
    sock, before = _start_slow_batch(daemon, bystander)
    bystander.check()
    batch_ops_done = ops_done(daemon) - before - per_check    # (at most: see ops_per_check)
    reply_waiting = sock.poll(0)
    _finish_slow_batch(sock)
    FIGURES["slow batch of another session"] = {
        "batch_ops": 1 + SLOW_PRODUCTS, "batch_ops_done_when_the_bystander_was_answered":
        batch_ops_done, "bystander": bystander.figures()}
    print("\n", FIGURES["slow batch of another session"])
    assert not reply_waiting, "the slow batch was answered before the bystander"
    assert batch_ops_done < 1 + SLOW_PRODUCTS, \
        "the bystander was answered only once the slow batch had ended"


def test_a_callback_is_served_while_another_sessions_batch_runs(steady_daemon,
                                                                steady_bystander):
    """A gradient that calls back into its client (a primitive defined there) goes through
    while another session's long batch runs: the callback, and its answer, are handled
    between that batch's ops."""
    import adclient
    import adclient.numpy as anp

    @adclient.primitive
    def cube(x):
        return x ** 3

    adclient.defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
    def gradient():
        return adclient.grad(lambda x: anp.sum(cube(x) * 2.0))(np.array([1.0, 2.0]))

    daemon = steady_daemon
    gradient_ops = []                  # ops of one gradient, measured alone (fewest of 3)
    for _ in range(3):
        start = ops_done(daemon)
        gradient()
        gradient_ops.append(ops_done(daemon) - start)
    sock, before = _start_slow_batch(daemon, steady_bystander)
    g = gradient()
    still_running = ops_done(daemon) - before - min(gradient_ops) < 1 + SLOW_PRODUCTS
    reply_waiting = sock.poll(0)
    _finish_slow_batch(sock)                       # the long batch finishes too
    np.testing.assert_allclose(g, [6.0, 24.0])
    assert still_running and not reply_waiting, \
        "the gradient with a callback was answered only after the other session's batch"


def test_many_long_batches_at_once_all_finish(steady_daemon, steady_bystander):
    """More sessions with long batches than the daemon nests (MAX_NESTING): each batch is
    served inside the one before it until the limit, the rest wait their turn; every one
    gets its own right answer, and the bystander's gradients stay right."""
    bystander = steady_bystander
    a = np.ones((1024, 1024))
    socks = []
    for k in range(10):
        sock, sid = _raw_session(steady_daemon.address)
        ops = [[1, "array", 1, [a * (k + 1)], None]] + \
              [[i + 2, "matmul", 2, [Ref(1), Ref(1)], None] for i in range(4)] + \
              [[6, "sum", 3, [Ref(2)], None]]
        sock.send_multipart(adproto.encode(kinds.BATCH, {"ops": ops, "sync": True,
                                                         "fetch": [3]}, req=2, session=sid))
        socks.append(sock)
    bystander.check()
    for k, sock in enumerate(socks):
        assert sock.poll(GUARD * 1000), f"session {k} got no answer"
        header, body = adproto.decode(sock.recv_multipart())
        sock.close(0)
        assert body["error"] is None, body
        assert body["values"][0] == 1024 ** 3 * (k + 1) ** 2
    bystander.check()
