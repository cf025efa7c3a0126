"""Fixtures that start real adserver daemons; clients reach them over real sockets."""
import os
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from adserver.ping import ping


@pytest.fixture(scope="session", autouse=True)
def token_file(tmp_path_factory):
    """One auth token for the test run, kept in a temporary directory rather than the
    user's ~/.config; daemons and clients started by the tests find it through the
    environment."""
    path = tmp_path_factory.mktemp("auth", numbered=True) / "token"
    old = os.environ.get("ADSERVER_TOKEN_FILE")
    os.environ["ADSERVER_TOKEN_FILE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("ADSERVER_TOKEN_FILE", None)
    else:
        os.environ["ADSERVER_TOKEN_FILE"] = old


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    """An `adserver` process listening on ``address``, stopped by ``stop()``."""

    def __init__(self, address, *extra):
        self.address = address
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adserver", "--listen", address, "--log-level", "warning",
             *extra],
            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                ping(address, timeout=0.5)
                return
            except TimeoutError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"adserver did not start on {address}")

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def tcp_daemon():
    d = Daemon(f"tcp://127.0.0.1:{free_port()}")
    yield d
    d.stop()


@pytest.fixture(scope="session")
def ipc_daemon():
    tmp = tempfile.mkdtemp(prefix="adserver-test-")
    d = Daemon(f"ipc://{tmp}/daemon.sock")
    yield d
    d.stop()
    os.rmdir(tmp) if os.path.isdir(tmp) and not os.listdir(tmp) else None


@pytest.fixture(params=["tcp", "ipc"])
def daemon(request):
    """Each test that uses this runs once over TCP loopback and once over an ipc socket."""
    return request.getfixturevalue(f"{request.param}_daemon")


@pytest.fixture
def client(daemon, monkeypatch):
    """adclient's process session, joined to ``daemon`` through ADSERVER_ADDRESS."""
    import adclient.session as cs
    monkeypatch.setenv("ADSERVER_ADDRESS", daemon.address)
    cs.reset()
    session = cs.get_session()
    yield session
    cs.reset()
