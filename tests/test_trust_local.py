"""Trust on one machine: local sockets, listen addresses, the token file, start-up, CLI errors.

Real daemon processes on real sockets. "Another local user" is uid 65534: as root, a
forked child of this process drops to it (the interpreter under /root cannot be run by it,
so the child keeps this one) and tries to connect; without root those tests are skipped.
"""
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import zmq

import adproto
from adproto import Ref, kinds
from adserver import auth
from adserver.server import is_local_address, _loopback_peer
from adserver.ping import ping
from adclient.session import Session
from conftest import Daemon, free_port

NOBODY = 65534
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="acting as another user needs root")
ADSERVER = [sys.executable, "-m", "adserver"]


def run_adserver(*args, timeout=60, **options):
    """``adserver ARGS`` to its end (a daemon that starts instead of refusing fails the
    test through the time-out)."""
    return subprocess.run([*ADSERVER, *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **options)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def as_other_user(task, timeout=60):
    """``task()`` run as uid/gid 65534 in a forked child; what it returned (JSON-able)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                   # the child: never returns to pytest
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result = task()
        except BaseException as exc:
            result = f"error: {type(exc).__name__}: {exc}"
        os.write(write_end, json.dumps(result).encode())
        os._exit(0)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], timeout)
        data = os.read(read_end, 65536) if ready else b""
    finally:
        os.close(read_end)
        if not data:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert data, "the other user's attempt did not finish"
    return json.loads(data)


def unix_connect(path):
    """'connected', or the errno name of a failed connect() to the socket file ``path``."""
    def attempt():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return "connected"
        except OSError as exc:
            return os.strerror(exc.errno) if exc.errno else str(exc)
        finally:
            s.close()
    return attempt


def hello_kind(address):
    """The kind of the daemon's answer to a hello without proof (fresh ZeroMQ context:
    it runs in a forked child)."""
    def attempt():
        ctx = zmq.Context()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(address)
        sock.send_multipart(adproto.encode(kinds.HELLO, {"versions": [1]}, req=1))
        kind = (adproto.decode(sock.recv_multipart())[0]["kind"] if sock.poll(30000)
                else "no answer")
        sock.close(0)
        ctx.term()
        return kind
    return attempt


@pytest.fixture
def open_dir():
    """A directory others may enter but not write (0755, under /tmp): what decides who can
    connect is then the socket file's own mode."""
    d = tempfile.mkdtemp(prefix="adserver-trust-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def abstract_address():
    return f"ipc://@adserver-test-{os.getpid()}-{time.monotonic_ns()}"


# --- 1. ipc sockets -------------------------------------------------------------------------------
def test_an_ipc_socket_is_private_even_under_umask_000(open_dir):
    path = os.path.join(open_dir, "d.sock")
    old = os.umask(0)          # inherited by the daemon
    try:
        d = Daemon(f"ipc://{path}")
    finally:
        os.umask(old)
    try:
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert mode(path) & 0o077 == 0, oct(mode(path))
        if ROOT:
            assert as_other_user(unix_connect(path)) == os.strerror(13)    # EACCES
    finally:
        d.stop()


@pytest.mark.parametrize("dir_mode", [0o777, 0o1777, 0o775])
def test_an_ipc_directory_others_can_write_is_refused(open_dir, dir_mode):
    os.chmod(open_dir, dir_mode)
    r = run_adserver("--listen", f"ipc://{open_dir}/d.sock")
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "writable by others" in r.stderr
    assert not os.path.exists(f"{open_dir}/d.sock")


@needs_root
def test_an_ipc_directory_of_another_user_is_refused(open_dir):
    os.chown(open_dir, NOBODY, NOBODY)
    r = run_adserver("--listen", f"ipc://{open_dir}/d.sock")
    assert r.returncode == 2 and f"belongs to uid {NOBODY}" in r.stderr, r.stderr


def test_an_abstract_ipc_socket_without_the_token_is_refused():
    r = run_adserver("--listen", abstract_address(), "--auth", "none")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "abstract" in r.stderr and "token" in r.stderr


def test_an_abstract_ipc_socket_requires_the_token_by_default(token_file):
    address = abstract_address()
    d = Daemon(address)
    try:
        assert hello_kind(address)() == kinds.CHALLENGE
        if ROOT:
            assert as_other_user(hello_kind(address)) == kinds.CHALLENGE
        s = Session(address)                         # the token holder gets in
        assert s.authenticated
        s.close()
    finally:
        d.stop()


def test_binding_does_not_delete_a_file_or_take_a_running_daemons_socket(tmp_path):
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    r = run_adserver("--listen", f"ipc://{precious}")
    assert r.returncode == 2 and "not a socket" in r.stderr
    assert precious.read_text() == "keep me"
    first = Daemon(f"ipc://{tmp_path}/d.sock")
    try:
        r = run_adserver("--listen", first.address)
        assert r.returncode == 2 and "another process is listening" in r.stderr
        assert ping(first.address)["server"].startswith("adserver")
    finally:
        first.stop()


# --- 2. listen addresses ------------------------------------------------------------------------
@pytest.mark.parametrize("address, local", [
    ("tcp://127.0.0.1:5757", True), ("tcp://127.0.0.2:5757", True),
    ("tcp://localhost:5757", True), ("tcp://[::1]:5757", True),
    ("tcp://[::ffff:127.0.0.1]:5757", True),
    ("tcp://127.0.0.1.example:5757", False), ("tcp://127.evil.example:5757", False),
    ("tcp://*:5757", False), ("tcp://0.0.0.0:5757", False), ("tcp://[::]:5757", False),
    ("tcp://[::ffff:10.0.0.1]:5757", False), ("tcp://10.0.0.1:5757", False),
    ("garbage", False), ("ipc:///x/d.sock", True)])
def test_only_hosts_that_resolve_to_loopback_alone_are_local(address, local):
    assert is_local_address(address) is local


def test_a_name_that_merely_starts_with_127_is_refused_without_curve_and_token():
    r = run_adserver("--listen", f"tcp://127.0.0.1.example:{free_port()}", "--auth", "none")
    assert r.returncode == 2 and "not loopback" in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1


class _Frame:
    def __init__(self, peer):
        self.peer = peer

    def get(self, name):
        assert name == "Peer-Address"
        return self.peer


@pytest.mark.parametrize("peer, loopback", [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("::ffff:10.0.0.1", False), ("10.0.0.1", False), ("127.evil", False), ("", False),
    (None, False)])
def test_loopback_peer_reads_ip_addresses(peer, loopback):
    assert _loopback_peer([_Frame(peer)]) is loopback


def test_ipv6_loopback_listens_and_answers(token_file):
    d = Daemon(f"tcp://[::1]:{free_port()}")
    try:
        assert ping(d.address)["server"].startswith("adserver")
    finally:
        d.stop()


# --- 3. the token file --------------------------------------------------------------------------
def private_token(path):
    path.write_text("ab" * 32 + "\n")
    path.chmod(0o600)
    return path


@needs_root
def test_a_token_file_of_another_user_is_refused(tmp_path):
    token = private_token(tmp_path / "token")
    os.chown(token, NOBODY, NOBODY)
    r = run_adserver("--listen", f"tcp://127.0.0.1:{free_port()}", "--token-file", str(token))
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1
    assert str(token) in r.stderr and f"belongs to uid {NOBODY}" in r.stderr
    assert "chown" in r.stderr
    with pytest.raises(auth.TokenError, match="belongs to uid"):   # clients refuse it too
        auth.load_token(str(token))


def test_a_token_file_that_is_not_a_regular_file_does_not_stall_the_start(tmp_path):
    fifo = tmp_path / "token"
    os.mkfifo(fifo, 0o600)
    r = run_adserver("--listen", f"tcp://127.0.0.1:{free_port()}", "--token-file", str(fifo))
    assert r.returncode == 2 and "not a regular file" in r.stderr, r.stderr


@needs_root
def test_a_secret_key_file_of_another_user_is_refused(tmp_path):
    keys = tmp_path / "keys"
    run_adserver("keygen", str(keys)).check_returncode()
    os.chown(keys / "server.key_secret", NOBODY, NOBODY)
    r = run_adserver("--listen", f"tcp://127.0.0.1:{free_port()}", "--curve-secret-key",
                     str(keys / "server.key_secret"))
    assert r.returncode == 2 and f"belongs to uid {NOBODY}" in r.stderr, r.stderr


def test_keygen_leaves_a_shared_directory_alone(open_dir):
    os.chmod(open_dir, 0o777)
    r = run_adserver("keygen", open_dir)
    assert r.returncode == 1 and "writable by others" in r.stderr
    assert mode(open_dir) == 0o777 and os.listdir(open_dir) == []


# --- 4. workers, whatever the working directory holds ------------------------------------
@pytest.mark.skipif(sys.version_info < (3, 11), reason="the front door itself needs -P")
def test_workers_start_from_a_directory_that_holds_an_adserver_folder(tmp_path, token_file):
    (tmp_path / "adserver").mkdir()                  # what `python -m` would import first
    (tmp_path / "adproto").mkdir()
    # The front door runs with -P so that it is the real package; its workers inherit the
    # working directory, and a relative ipc address.
    proc = subprocess.Popen([sys.executable, "-P", "-m", "adserver", "--listen",
                             "ipc://front.sock", "--workers", "2", "--announce",
                             "--log-level", "warning", "--parent-pid", str(os.getpid())],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 180)
        line = proc.stdout.readline().strip() if ready else ""
        assert line.startswith("adserver listening on ipc://"), proc.stderr.read() \
            if proc.poll() is not None else "no announcement"
        address = f"ipc://{tmp_path}/front.sock"
        assert ping(address)["workers"] == 2
        s = Session(address)
        h = s.op("array", [np.arange(3.0)])
        assert s.sync(fetch=[Ref(h)])[0][0].sum() == 3.0
        s.close()
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- 5. one clear line for bad input ------------------------------------------------------
BAD_DAEMON_FLAGS = [
    ["--listen", "garbage"], ["--listen", "tcp://127.0.0.1:99999"], ["--listen", "ipc://"],
    ["--listen", "tcp://127.0.0.1:garbage"], ["--listen", "ipc:///no/such/dir/d.sock"],
    ["--parent-pid", "garbage"], ["--parent-pid", "-1"], ["--parent-pid", "0"],
    ["--workers", "garbage"], ["--workers", "-1"], ["--workers", "100000"],
    ["--max-sessions", "-5"], ["--max-array-bytes", "1.5"], ["--lease-seconds", "nan"],
    ["--lease-seconds", "-3"], ["--callback-timeout-seconds", "inf"],
    ["--log-level", "garbage"], ["--log-format", "garbage"], ["--auth", "garbage"],
    ["--curve-secret-key", "garbage"], ["--no-such-flag"],
    ["--listen", "tcp://127.0.0.1:65535", "--workers", "2"],
]


@pytest.mark.parametrize("flags", BAD_DAEMON_FLAGS, ids=" ".join)
def test_the_daemon_answers_bad_flags_with_one_line(tmp_path, flags):
    # A private ipc address, so that a flag that were accepted would start a harmless
    # daemon (and fail the test by its time-out) rather than take the default port.
    r = run_adserver("--listen", f"ipc://{tmp_path}/d.sock", *flags)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("adserver") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    if flags == ["--listen", "garbage"]:
        assert "CURVE" not in r.stderr and "not a ZeroMQ address" in r.stderr


def test_token_file_and_key_paths_that_are_directories_get_one_line(tmp_path):
    for flags in (["--auth", "token", "--token-file", str(tmp_path)],
                  ["--curve-secret-key", str(tmp_path)]):
        r = run_adserver("--listen", f"ipc://{tmp_path}/d.sock", *flags)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "not a regular file" in r.stderr


@pytest.mark.parametrize("args", [["ping", "garbage"], ["status", "garbage"],
                                  ["ping", "tcp://nohost"], ["status", "ipc://"],
                                  ["ping", "tcp://127.0.0.1:1", "--timeout", "nan"],
                                  ["ping", "tcp://127.0.0.1:1", "--timeout", "0"],
                                  ["status", "tcp://127.0.0.1:1", "--timeout", "x"]],
                         ids=" ".join)
def test_ping_and_status_answer_bad_input_with_one_line(args):
    r = run_adserver(*args)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("adserver") and r.stderr.count("\n") == 1, r.stderr


@pytest.fixture
def curve_daemon(tmp_path, monkeypatch, token_file):
    keys = tmp_path / "keys"
    run_adserver("keygen", str(keys)).check_returncode()
    monkeypatch.setenv("ADSERVER_CURVE_SERVER_KEY", str(keys / "server.key"))
    d = Daemon(f"tcp://127.0.0.1:{free_port()}", "--curve-secret-key",
               str(keys / "server.key_secret"))
    yield d, keys
    d.stop()


def test_ping_of_a_curve_daemon_says_what_is_missing(curve_daemon):
    d, keys = curve_daemon
    env = {k: v for k, v in os.environ.items() if k != "ADSERVER_CURVE_SERVER_KEY"}
    r = run_adserver("ping", d.address, "--timeout", "30", env=env)
    assert r.returncode == 1 and "ADSERVER_CURVE_SERVER_KEY" in r.stderr, r.stderr
    assert "handshake failed" in r.stderr and "CURVE" in r.stderr
    r = run_adserver("ping", d.address, "--timeout", "30",
                     env={**env, "ADSERVER_CURVE_SERVER_KEY": str(keys / "client.key")})
    assert r.returncode == 1 and "CURVE handshake failed" in r.stderr, r.stderr
    r = run_adserver("ping", d.address, env={**env, "ADSERVER_CURVE_SERVER_KEY": "garbage"})
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = run_adserver("ping", d.address)
    assert r.returncode == 0, r.stderr


# --- generated listen addresses ----------------------------------------------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

_HOST_PARTS = ["127", "0", "1", "255", "localhost", "example", "0x7f", "017700000001",
               "2130706433", "::1", "::ffff:127.0.0.1", "::", "*", "0.0.0.0", "lo", "%lo",
               "local", "127.0.0.1", "10.0.0.1", "192.168.0.1", "::ffff:10.0.0.1"]
_hosts = st.lists(st.sampled_from(_HOST_PARTS), min_size=1, max_size=4).flatmap(
    lambda parts: st.sampled_from([".".join(parts), "".join(parts), ":".join(parts)]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(host=_hosts, port=st.sampled_from(["5555", "0", "*"]))
def test_an_address_counts_as_local_only_if_every_address_it_names_is_loopback(host, port):
    """Whatever the host text, a tcp address is local only if every address it resolves
    to is a loopback one (and then binding it with --auth none is allowed)."""
    import ipaddress
    import socket
    from adserver.addresses import is_local_address
    bracketed = f"[{host}]" if ":" in host else host
    address = f"tcp://{bracketed}:{port}"
    try:
        local = is_local_address(address)
    except Exception:
        return      # refused as malformed: never local
    if not local:
        return
    infos = socket.getaddrinfo(host.strip("[]"), None, proto=socket.IPPROTO_TCP)
    assert infos
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        mapped = getattr(ip, "ipv4_mapped", None)
        assert (mapped or ip).is_loopback, (address, info)
