"""The adserver process: its command line, sessions, bad input and a client that dies."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import msgpack
import numpy as np
import pytest
import zmq

import adproto
from adproto import kinds, Ref
from adserver.limits import Limits
from adserver.ping import ping
from adclient.session import Session
from adclient import DaemonError, SessionLost


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "adserver", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for flag in ["--listen", "--log-level", "--parent-pid",
                 *("--" + n.replace("_", "-") for n in Limits.names())]:
        assert flag in out, flag


def test_non_loopback_listen_is_refused():
    r = subprocess.run([sys.executable, "-m", "adserver", "--listen", "tcp://0.0.0.0:5999"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert "refusing to listen on tcp://0.0.0.0:5999" in r.stderr


def test_ping_command(daemon):
    r = subprocess.run([sys.executable, "-m", "adserver", "ping", daemon.address],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "adserver" in r.stdout


def test_ping_of_nothing_fails_clearly(tmp_path):
    r = subprocess.run([sys.executable, "-m", "adserver", "ping", f"ipc://{tmp_path}/none",
                        "--timeout", "0.5"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no answer" in r.stderr


def raw_socket(address):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(address)
    return sock


def ask(sock, frames, timeout=5.0):
    sock.send_multipart(frames)
    assert sock.poll(int(timeout * 1000)), "no reply"
    return adproto.decode(sock.recv_multipart())


def test_malformed_messages_get_errors_and_the_daemon_keeps_serving(daemon):
    sock = raw_socket(daemon.address)
    try:
        header, body = ask(sock, [b"\xc1not msgpack", b""])
        assert header["kind"] == kinds.ERROR and body["error"]["type"] == "ProtocolError"
        header, body = ask(sock, [msgpack.packb({"v": 99, "kind": "hello"}), msgpack.packb({})])
        assert "protocol version 99" in body["error"]["message"]
        header, body = ask(sock, [adproto.pack_header("batch", session="nope", req=3),
                                  msgpack.packb({"ops": []})])
        assert body["error"]["type"] == "SessionError" and header["req"] == 3
        header, body = ask(sock, adproto.encode("hello", {"versions": [7]}))
        assert body["error"]["type"] == "VersionError"
    finally:
        sock.close()
    assert ping(daemon.address)["server"].startswith("adserver")


def test_unknown_op_and_bad_handle_are_deferred_with_their_seq(daemon):
    s = Session(daemon.address)
    try:
        s.op("array", [np.ones(3)])
        s.op("no_such_op", [1])
        with pytest.raises(DaemonError) as info:
            s.sync()
        assert info.value.info["type"] == "UnknownOp" and info.value.seq == 2
        h = s.op("sin", [Ref(99999)])
        with pytest.raises(DaemonError, match="handle 99999 is not live"):
            s.sync(fetch=[Ref(h)])
    finally:
        s.close()


def test_failed_op_poisons_what_is_computed_from_it(daemon):
    s = Session(daemon.address)
    try:
        a = s.op("array", [np.ones((2, 3))])
        bad = s.op("reshape", [Ref(a), (4, 4)])
        worse = s.op("sin", [Ref(bad)])
        fine = s.op("cos", [Ref(a)])
        with pytest.raises(DaemonError) as info:
            s.sync(fetch=[Ref(fine)])
        assert info.value.op == "reshape" and info.value.seq == 2
        (value,), _ = s.sync(fetch=[Ref(fine)])
        np.testing.assert_allclose(value, np.cos(np.ones((2, 3))))
        with pytest.raises(DaemonError, match="op 'reshape' \\(seq 2\\) failed"):
            s.sync(fetch=[Ref(worse)])
    finally:
        s.close()


def test_sessions_are_isolated(daemon):
    a, b = Session(daemon.address), Session(daemon.address)
    try:
        h = a.op("array", [np.arange(3.0)])
        a.sync()
        with pytest.raises(DaemonError, match="not live"):
            b.sync(fetch=[Ref(h)])
        # Another connection presenting a's session id is refused.
        sock = raw_socket(daemon.address)
        header, body = ask(sock, adproto.encode(kinds.BATCH, {"ops": [], "sync": True},
                                                session=a.sid, req=1))
        assert body["error"]["type"] == "SessionError"
        sock.close()
        (v,), _ = a.sync(fetch=[Ref(h)])
        np.testing.assert_array_equal(v, [0.0, 1.0, 2.0])
    finally:
        a.close()
        b.close()


def test_bye_frees_the_session(daemon):
    s = Session(daemon.address)
    s.op("array", [np.ones(2)])
    sid = s.sid
    s.close()
    assert s.closed
    with pytest.raises(SessionLost):
        s.sync()
    assert sid


STREAMER = textwrap.dedent("""
    import sys, numpy as np
    from adclient.session import Session
    from adproto import Ref
    s = Session(sys.argv[1])
    x = s.op("array", [np.ones(1000)])
    print("ready", flush=True)
    while True:
        for _ in range(500):
            x = s.op("sin", [Ref(x)])
        s.flush()
""")


def test_client_killed_mid_stream_does_not_disturb_another_session(daemon):
    import adclient.numpy as anp
    from adclient import grad
    other = Session(daemon.address)
    proc = subprocess.Popen([sys.executable, "-c", STREAMER, daemon.address],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)   # let it stream batches
        h = other.op("array", [np.linspace(0, 1, 5)])
        g = other.op("cos", [Ref(h)])
        (before,), _ = other.sync(fetch=[Ref(g)])
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        (after,), _ = other.sync(fetch=[Ref(g)])
        np.testing.assert_array_equal(before, after)
        np.testing.assert_allclose(after, np.cos(np.linspace(0, 1, 5)))
        assert daemon.alive()
        assert ping(daemon.address)["sessions"] >= 1
    finally:
        if proc.poll() is None:
            proc.kill()
        other.close()


EMBEDDED = textwrap.dedent("""
    import os, adclient.numpy as np
    from adclient import grad
    from adclient.session import get_session
    print(grad(np.sin)(0.0))
    s = get_session()
    d = s._daemon
    print(d.pid, d.directory, oct(os.stat(d.directory).st_mode & 0o777))
""")


def test_embedded_default_starts_and_stops_a_private_daemon():
    env = {k: v for k, v in os.environ.items() if k != "ADSERVER_ADDRESS"}
    r = subprocess.run([sys.executable, "-c", EMBEDDED], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.strip().splitlines()
    assert first == "1.0"
    pid, tmpdir, mode = second.split()
    assert mode == "0o700"
    assert not os.path.exists(tmpdir)
    deadline = time.monotonic() + 60     # a hang guard, not a measurement
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the private daemon outlived its client")


def test_private_daemon_stops_when_its_client_is_killed(tmp_path):
    script = textwrap.dedent("""
        import adclient.numpy as np, time
        from adclient import grad
        from adclient.session import get_session
        grad(np.sin)(0.0)
        print(get_session()._daemon.pid, flush=True)
        time.sleep(60)
    """)
    env = {k: v for k, v in os.environ.items() if k != "ADSERVER_ADDRESS"}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            env=env)
    pid = int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 60     # a hang guard, not a measurement
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail("the private daemon outlived its killed client")


def test_message_and_array_size_limits_answer_with_limit_errors(tmp_path):
    from conftest import Daemon
    d = Daemon(f"ipc://{tmp_path}/small.sock", "--max-array-bytes", "800",
               "--max-message-bytes", "4000", "--max-frames", "8")
    try:
        s = Session(d.address)
        too_big_array = adproto.encode(kinds.BATCH, {"ops": [[1, "array", 1, [np.ones(101)],
                                                               None]], "sync": True},
                                       session=s.sid, req=50)
        sock = raw_socket(d.address)
        header, body = ask(sock, too_big_array)
        assert body["error"]["type"] == "LimitError"
        assert body["error"]["limit"] == "max_array_bytes" and header["req"] == 50
        header, body = ask(sock, [adproto.pack_header("ping", req=51), msgpack.packb({}),
                                  *[b"x" * 900] * 5])
        assert body["error"]["limit"] == "max_message_bytes" and header["req"] == 51
        header, body = ask(sock, [adproto.pack_header("ping", req=52), msgpack.packb({}),
                                  *[b""] * 7])
        assert body["error"]["limit"] == "max_frames"
        sock.close()
        # The session itself is untouched.
        h = s.op("array", [np.ones(100)])
        (v,), _ = s.sync(fetch=[Ref(h)])
        assert v.sum() == 100
        s.close()
    finally:
        d.stop()


def test_wrong_version_is_a_version_error(daemon):
    sock = raw_socket(daemon.address)
    try:
        header, body = ask(sock, [msgpack.packb({"v": 2, "kind": "ping", "req": 9}),
                                  msgpack.packb({})])
        assert body["error"]["type"] == "VersionError" and header["req"] == 9
        header, body = ask(sock, adproto.encode("hello", {"client": "no versions"}))
        assert body["error"]["type"] == "VersionError"
    finally:
        sock.close()
