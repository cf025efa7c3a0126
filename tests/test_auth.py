"""Security: the token file, the HMAC challenge, CURVE, and what the daemon refuses.

Real daemons on loopback TCP and ipc; token and key files in temporary directories.
"""
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zmq

import adproto
from adproto import Ref, kinds
from adserver import auth
from adserver.ping import connect, ping
from adclient.session import Session
from adclient import DaemonError, SessionLost
from conftest import Daemon, free_port

VECTORS = Path(__file__).resolve().parent.parent / "protocol" / "vectors"


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def raw(address, curve=None):
    return connect(address, curve={} if curve is None else curve)


def ask(sock, kind, body, req=1, timeout=5.0):
    sock.send_multipart(adproto.encode(kind, body, req=req))
    assert sock.poll(int(timeout * 1000)), "no reply"
    return adproto.decode(sock.recv_multipart())


@pytest.fixture
def token_file(tmp_path, monkeypatch):
    path = tmp_path / "secrets" / "token"
    monkeypatch.setenv("ADSERVER_TOKEN_FILE", str(path))
    return path


@pytest.fixture
def tcp(token_file):
    d = Daemon(f"tcp://127.0.0.1:{free_port()}", "--token-file", str(token_file))
    yield d
    d.stop()


# --- the token file -------------------------------------------------------------------------------
def test_daemon_makes_a_private_token_file_and_keeps_it(token_file, tcp):
    assert mode(token_file) == 0o600 and mode(token_file.parent) == 0o700
    text = token_file.read_text().strip()
    assert len(text) == 64 and len(bytes.fromhex(text)) == 32
    tcp.stop()
    again = Daemon(tcp.address, "--token-file", str(token_file))
    again.stop()
    assert token_file.read_text().strip() == text


def test_default_token_locations(tmp_path):
    assert auth.default_token_path({"ADSERVER_TOKEN_FILE": "/x/t"}) == "/x/t"
    assert auth.default_token_path({"XDG_RUNTIME_DIR": str(tmp_path)}) == \
        f"{tmp_path}/adserver/token"
    assert auth.default_token_path({"XDG_RUNTIME_DIR": "/no/such/dir"}).endswith(
        "/.config/adserver/token")
    assert auth.default_token_path({}).endswith("/.config/adserver/token")


def test_a_token_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "token"
    path.write_text("ab" * 32 + "\n")
    path.chmod(0o644)
    r = subprocess.run([sys.executable, "-m", "adserver", "--listen",
                        f"tcp://127.0.0.1:{free_port()}", "--token-file", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "chmod 600" in r.stderr


# --- the exchange ------------------------------------------------------------------------------------
def test_hello_without_proof_gets_a_challenge_and_a_wrong_mac_an_auth_error(tcp):
    sock = raw(tcp.address)
    try:
        header, body = ask(sock, kinds.HELLO, {"versions": [1], "client": "test"})
        assert header["kind"] == kinds.CHALLENGE and header["req"] == 1
        assert len(bytes.fromhex(body["nonce"])) == 32 and body["method"] == "hmac-sha256"
        wrong = auth.answer(b"\x00" * 32, body)
        header, body = ask(sock, kinds.HELLO, {"versions": [1], "auth": wrong}, req=2)
        assert header["kind"] == kinds.ERROR and body["error"]["type"] == "AuthError"
        assert "token" in body["error"]["message"]
        # A nonce is good once: replaying even a right answer needs a new challenge.
        header, body = ask(sock, kinds.HELLO, {"versions": [1], "auth": wrong}, req=3)
        assert body["error"]["type"] == "AuthError"
        # Nothing else is possible without a session.
        header, body = ask(sock, kinds.BATCH, {"ops": [], "sync": True}, req=4)
        assert body["error"]["type"] == "SessionError"
    finally:
        sock.close(0)
    assert ping(tcp.address)["sessions"] == 0


def test_the_right_token_opens_a_session_and_the_daemon_proves_it_too(tcp, token_file):
    token = auth.load_token(str(token_file))
    sock = raw(tcp.address)
    try:
        _, challenge = ask(sock, kinds.HELLO, {"versions": [1]})
        answer = auth.answer(token, challenge)
        header, welcome = ask(sock, kinds.HELLO, {"versions": [1], "auth": answer}, req=2)
        assert header["kind"] == kinds.WELCOME
        assert auth.check_proof(token, answer, welcome["session"], welcome["proof"])
        assert not auth.check_proof(b"\x01" * 32, answer, welcome["session"], welcome["proof"])
    finally:
        sock.close(0)
    s = Session(tcp.address)                  # the client does all of that by itself
    assert s.authenticated
    h = s.op("array", [np.ones(3)])
    assert s.sync(fetch=[Ref(h)])[0][0].sum() == 3
    s.close()


def test_a_client_with_another_token_or_none_is_refused_clearly(tcp, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.write_text("cd" * 32 + "\n")
    other.chmod(0o600)
    monkeypatch.setenv("ADSERVER_TOKEN_FILE", str(other))
    with pytest.raises(DaemonError, match="authentication failed.*token") as info:
        Session(tcp.address)
    assert info.value.info["type"] == "AuthError"
    monkeypatch.setenv("ADSERVER_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(DaemonError, match="requires a token: no token file at"):
        Session(tcp.address)


def test_ipc_needs_no_token_by_default_but_can_require_it(tmp_path, token_file):
    plain = Daemon(f"ipc://{tmp_path}/plain.sock")
    strict = Daemon(f"ipc://{tmp_path}/strict.sock", "--auth", "token",
                    "--token-file", str(token_file))
    try:
        s = Session(plain.address)
        assert not s.authenticated
        s.close()
        sock = raw(strict.address)
        header, _ = ask(sock, kinds.HELLO, {"versions": [1]})
        sock.close(0)
        assert header["kind"] == kinds.CHALLENGE
        s = Session(strict.address)
        assert s.authenticated
        s.close()
    finally:
        plain.stop()
        strict.stop()


def test_golden_auth_vectors_are_real_hmacs():
    token = bytes(range(32))
    hello = json.loads((VECTORS / "hello_auth.json").read_text())["decoded"]["body"]["auth"]
    nonce, cnonce = bytes.fromhex(hello["nonce"]), bytes.fromhex(hello["cnonce"])
    assert hello["mac"] == auth.hello_mac(token, nonce, cnonce)
    welcome = json.loads((VECTORS / "welcome_auth.json").read_text())["decoded"]["body"]
    assert auth.check_proof(token, hello, welcome["session"], welcome["proof"])
    challenge = json.loads((VECTORS / "challenge.json").read_text())["decoded"]["body"]
    assert challenge["nonce"] == hello["nonce"]


def test_gate_checks_nonce_connection_and_expiry(monkeypatch):
    gate = auth.Gate(b"\x07" * 32)
    c = gate.challenge(b"conn-a")
    good = auth.answer(b"\x07" * 32, c)
    assert gate.verify(b"conn-b", good)[0] is None          # another connection's nonce
    assert gate.verify(b"conn-a", good)[0] is not None      # its own
    assert "answered" in gate.verify(b"conn-a", good)[1]    # a nonce is good once
    c = gate.challenge(b"conn-a")
    unused = auth.answer(b"\x07" * 32, c)
    gate.challenge(b"conn-a")
    assert gate.verify(b"conn-a", unused)[0] is None        # an older nonce
    good = auth.answer(b"\x07" * 32, gate.challenge(b"conn-a"))
    monkeypatch.setattr(auth.time, "monotonic", lambda: 1e12)
    assert "expired" in gate.verify(b"conn-a", good)[1]


# --- status ---------------------------------------------------------------------------------------
def test_status_on_loopback_needs_no_token(tcp, tmp_path, monkeypatch):
    monkeypatch.setenv("ADSERVER_TOKEN_FILE", str(tmp_path / "missing"))
    r = subprocess.run([sys.executable, "-m", "adserver", "status", tcp.address, "--json"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["auth"] == "token"


# --- what is refused ------------------------------------------------------------------------------
def test_non_loopback_needs_curve_and_a_token(tmp_path):
    for extra in ([], ["--auth", "none"]):
        r = subprocess.run([sys.executable, "-m", "adserver", "--listen", "tcp://0.0.0.0:5999",
                            *extra], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "refusing to listen on tcp://0.0.0.0:5999" in r.stderr
        assert "--curve-secret-key" in r.stderr
    keys = tmp_path / "keys"
    subprocess.run([sys.executable, "-m", "adserver", "keygen", str(keys)], check=True,
                   capture_output=True, timeout=30)
    r = subprocess.run([sys.executable, "-m", "adserver", "--listen", "tcp://0.0.0.0:5999",
                        "--curve-secret-key", str(keys / "server.key_secret"), "--auth", "none"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "token authentication" in r.stderr


# --- CURVE -----------------------------------------------------------------------------------------
def test_keygen_writes_private_key_pairs(tmp_path):
    keys = tmp_path / "keys"
    r = subprocess.run([sys.executable, "-m", "adserver", "keygen", str(keys)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert mode(keys) == 0o700
    names = {"server.key", "server.key_secret", "client.key", "client.key_secret"}
    assert {p.name for p in keys.iterdir()} == names
    for p in keys.iterdir():
        assert mode(p) == 0o600
    import zmq.auth
    public, secret = zmq.auth.load_certificate(str(keys / "server.key_secret"))
    assert zmq.curve_public(secret) == public
    assert zmq.auth.load_certificate(str(keys / "server.key"))[1] is None
    r = subprocess.run([sys.executable, "-m", "adserver", "keygen", str(keys)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "--force" in r.stderr


def test_curve_round_trip_on_loopback(tmp_path, token_file, monkeypatch):
    keys = tmp_path / "keys"
    subprocess.run([sys.executable, "-m", "adserver", "keygen", str(keys)], check=True,
                   capture_output=True, timeout=30)
    monkeypatch.setenv("ADSERVER_CURVE_SERVER_KEY", str(keys / "server.key"))
    d = Daemon(f"tcp://127.0.0.1:{free_port()}", "--token-file", str(token_file),
               "--curve-secret-key", str(keys / "server.key_secret"))
    try:
        import adclient.session as cs
        import adclient.numpy as anp
        from adclient import grad
        monkeypatch.setenv("ADSERVER_ADDRESS", d.address)
        cs.reset()
        assert float(grad(anp.sin)(0.0)) == 1.0              # ephemeral client key
        s = cs.get_session()
        assert s.curve and s.authenticated
        cs.reset()
        monkeypatch.setenv("ADSERVER_CURVE_CLIENT_KEY", str(keys / "client.key_secret"))
        s = Session(d.address)                               # the keygen client key
        assert s.sync(fetch=[Ref(s.op("array", [np.ones(2)]))])[0][0].sum() == 2
        s.close()
        # The public key as 40 Z85 characters works the same.
        public = zmq.auth.load_certificate(str(keys / "server.key"))[0].decode()
        monkeypatch.setenv("ADSERVER_CURVE_SERVER_KEY", public)
        Session(d.address).close()
        # Without CURVE, or with another server key, no session.
        monkeypatch.delenv("ADSERVER_CURVE_SERVER_KEY")
        monkeypatch.delenv("ADSERVER_CURVE_CLIENT_KEY")
        with pytest.raises((SessionLost, TimeoutError)):
            Session(d.address, connect_timeout=3)
        monkeypatch.setenv("ADSERVER_CURVE_SERVER_KEY", zmq.curve_keypair()[0].decode())
        with pytest.raises((SessionLost, TimeoutError)):
            Session(d.address, connect_timeout=3)
        monkeypatch.delenv("ADSERVER_CURVE_SERVER_KEY")
        r = subprocess.run([sys.executable, "-m", "adserver", "ping", d.address,
                            "--timeout", "1"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
    finally:
        d.stop()
