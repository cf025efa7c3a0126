"""Issue 11, the daemon's part: no client can read, stall or stop what is not its own.

Each test starts a real daemon and attacks it over a real socket (raw DEALERs, as in
tests/test_fuzz.py), then checks that the daemon is alive and still serves another session.
No test asserts a duration: waits are bounded generously (tens of seconds) and the tests
assert what came back, in what order, and memory bounds with wide margins.

1. One message must not stop the daemon: a reply that cannot be built, at a callback's
   time-out or after a cancel served while another session's batch runs.
2. A peer that never reads must not make the daemon hold its replies.
3. Before authentication a peer costs almost nothing: small messages only, challenges a
   flood cannot push out, short quotes of what it sent, a cap on sessions per connection.
4. A tuple result may not hold an array outside the dtype whitelist.
"""
import os
import time

import msgpack
import numpy as np
import pytest
import zmq

import adproto
from adproto import Ref
from adserver import auth
from conftest import Daemon
from rss import mib, peak_rss, rss, settled_rss

WAIT_MS = 60_000        # a reply that is due comes within this (loaded machines)
QUIET_MS = 300          # how long a test listens for a reply that must not come


# --- raw connections ---------------------------------------------------------------------------
def _raw(address, **options):
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    for opt, value in options.items():
        sock.setsockopt(getattr(zmq, opt), value)
    sock.connect(address)
    return sock


def _recv(sock, timeout_ms=WAIT_MS):
    assert sock.poll(timeout_ms), "no reply"
    return adproto.decode(sock.recv_multipart())


def _ask(sock, kind, body, **header):
    sock.send_multipart(adproto.encode(kind, body, **header))
    return _recv(sock)


def _hello(sock, token=None, req=1):
    """A session for ``sock`` (answering the challenge with ``token`` if one is asked)."""
    header, body = _ask(sock, "hello", {"versions": [1]}, req=req)
    if header["kind"] == "challenge":
        header, body = _ask(sock, "hello", {"versions": [1], "auth": auth.answer(token, body)},
                            req=req + 1)
    assert header["kind"] == "welcome", body
    return body["session"]


def _sync(sock, sid, ops, req=2, **fields):
    header, body = _ask(sock, "batch", {"ops": ops, "sync": True, **fields}, req=req,
                        session=sid)
    assert header["kind"] == "result" and header.get("req") == req, (header, body)
    return body


def _alive(d, sock=None):
    """The daemon process runs and answers a ping; ``sock``'s session still computes."""
    assert d.alive(), f"the daemon exited with status {d.proc.poll()}"
    probe = _raw(d.address)
    try:
        header, _ = _ask(probe, "ping", {}, req=99)
        assert header["kind"] == "pong"
    finally:
        probe.close()


def _daemon(tmp_path, name, *extra):
    return Daemon(f"ipc://{tmp_path}/{name}.sock", "--log-level", "error",
                  "--parent-pid", str(os.getpid()), *extra)


def _token(token_file):
    auth.ensure_token(str(token_file))
    return auth.load_token(str(token_file))


# A vjp through a client-defined primitive: the daemon sends a callback and suspends the
# batch until the client answers (here: never).
def _suspending_ops(first_seq=10):
    s = first_seq
    return [[s, "trace.push", None, [1], None],
            [s + 1, "box", 100, [1.5, 1], None],
            [s + 2, "custom", 101, [np.float64(0.0), Ref(100)],
             {"prim": 7, "name": "never_answered"}],
            [s + 3, "trace.pop", None, [1], None],
            [s + 4, "vjp", [102], [Ref(101), None, [Ref(100)], 1], {"scalar": True}]]


# Values that cannot be sent as one array, each made by the ops before the vjp.
UNSENDABLE = {
    "svd result (a tuple)": [[1, "array", 1, [np.eye(3)], None],
                             [2, "linalg.svd", 2, [Ref(1)], None]],
    "ragged results (a list)": [[1, "array", 1, [np.ones(3)], None],
                                [2, "array", 3, [np.ones((2, 2))], None],
                                [3, "value", 2, [[Ref(1), Ref(3)]], None]],
}


def _callback_then_wait(sock, sid, prefix, req):
    """Send a sync batch that makes handle 2, suspends in a callback, and fetches 2."""
    sock.send_multipart(adproto.encode("batch", {
        "ops": prefix + _suspending_ops(), "sync": True, "fetch": [2, 102], "meta": [2]},
        req=req, session=sid))
    header, body = _recv(sock)
    assert header["kind"] == "callback", (header, body)
    return body


# --- 1. one message must not stop the daemon ---------------------------------------------------
@pytest.mark.parametrize("what", sorted(UNSENDABLE))
def test_a_callback_time_out_with_an_unsendable_fetch_answers_and_the_daemon_lives(
        tmp_path, what):
    """Was: on the time-out the daemon built the batch's reply outside its error handling,
    np.asarray raised on the tuple, and the daemon exited with status 1."""
    d = _daemon(tmp_path, "timeout", "--callback-timeout-seconds", "0.5")
    try:
        other = _raw(d.address)
        other_sid = _hello(other)
        sock = _raw(d.address)
        sid = _hello(sock)
        _callback_then_wait(sock, sid, UNSENDABLE[what], req=5)
        header, body = _recv(sock)             # the time-out resumes the batch
        assert header["kind"] == "result" and header["req"] == 5, (header, body)
        assert body["error"]["limit"] == "callback_timeout_seconds", body
        assert body["errors"] >= 2                        # and the fetch's own error
        assert body["values"][0] is None and body["meta"][0][1] == "tuple"
        _alive(d)
        # the session and the other one go on
        assert _sync(sock, sid, [], fetch=[1])["values"][0] is not None
        assert _sync(other, other_sid, [[1, "array", 1, [2.0], None]],
                     fetch=[1])["values"][0] == 2.0
        sock.close()
        other.close()
    finally:
        d.stop()


def test_fetching_a_handle_of_several_results_is_a_handle_error(tmp_path):
    """Was: InternalError (np.asarray of a tuple of differently shaped arrays)."""
    d = _daemon(tmp_path, "tuple")
    try:
        sock = _raw(d.address)
        sid = _hello(sock)
        body = _sync(sock, sid, UNSENDABLE["svd result (a tuple)"]
                     + [[3, "getitem", 3, [Ref(2), 1], None]], fetch=[2, 3], meta=[2])
        assert body["error"]["type"] == "HandleError", body
        assert "3 results" in body["error"]["message"]
        assert body["values"][0] is None and body["meta"][0] == [[3], "tuple", 0]
        # one of them, by index, is an array like any other
        np.testing.assert_allclose(body["values"][1], np.ones(3))
        sock.close()
    finally:
        d.stop()


def test_a_cancel_served_during_another_sessions_batch_cannot_stop_the_daemon(tmp_path):
    """Was: the cancel was acted on after the running batch, in _unwind_cancelled, whose
    reply building raised outside any error handling: the daemon exited."""
    d = _daemon(tmp_path, "cancel")
    try:
        victim = _raw(d.address)
        victim_sid = _hello(victim)
        sock = _raw(d.address)
        sid = _hello(sock)
        _callback_then_wait(sock, sid, UNSENDABLE["svd result (a tuple)"], req=5)
        # A long batch of another session (stopped by its own cancel at the end).
        watcher = _raw(d.address)
        base = _ask(watcher, "status", {}, req=1)[1]["ops"]
        slow = [[1, "array", 1, [np.ones((300, 300))], None]]
        slow += [[i, "matmul", 2, [Ref(1), Ref(1)], None] for i in range(2, 60_002)]
        victim.send_multipart(adproto.encode("batch", {"ops": slow, "sync": True},
                                             req=7, session=victim_sid))
        # Once a status from a third connection is answered from inside that batch (the
        # op count has moved, and is far from the batch's end), a cancel comes during it.
        while not base + 2 < _ask(watcher, "status", {}, req=1)[1]["ops"] < base + 50_000:
            pass
        sock.send_multipart(adproto.encode("cancel", {}, req=6, session=sid))
        victim.send_multipart(adproto.encode("cancel", {}, req=8, session=victim_sid))
        header, body = _recv(victim)
        assert header["req"] == 7 and body["error"]["type"] == "Cancelled", body
        # the cancelled batch's reply, which the old daemon died building
        header, body = _recv(sock)
        assert header["kind"] == "result" and header["req"] == 5, (header, body)
        assert body["error"]["type"] == "Cancelled", body
        assert body["values"][0] is None
        _alive(d)
        for s in (sock, victim, watcher):
            s.close()
    finally:
        d.stop()


# --- 2. a peer that never reads -------------------------------------------------------------
def test_a_peer_that_never_reads_cannot_make_the_daemon_hold_its_replies(tmp_path):
    """Was: ZeroMQ queued up to 1000 replies per peer, whatever their size (+312 MiB)."""
    limit = 16 << 20
    d = _daemon(tmp_path, "unread", "--max-message-bytes", str(limit))
    try:
        # The reader side reads nothing: its own queue holds one message, then its socket
        # buffers fill, and the daemon's side of the connection is all that is left.
        greedy = _raw(d.address, RCVHWM=1, RCVBUF=1 << 16)
        sid = _hello(greedy)
        greedy.send_multipart(adproto.encode("batch", {"ops": [
            [1, "array", 1, [1.0], None],
            [2, "broadcast_to", 2, [Ref(1), (1 << 10, 1 << 10)], None]]},   # 8 MiB, free
            req=2, session=sid))
        other = _raw(d.address)
        other_sid = _hello(other)
        _sync(other, other_sid, [[1, "array", 1, [np.ones(4)], None]], fetch=[1])  # warm
        before = settled_rss(d.proc.pid)
        sent = 40                                      # 320 MiB of replies if all were kept
        for i in range(sent):
            greedy.send_multipart(adproto.encode("batch", {"ops": [], "sync": True,
                                                          "fetch": [2]},
                                                 req=10 + i, session=sid))
        # Each reply is built once its batch is handled: the pings behind them say when.
        for i in range(3):
            body = _sync(other, other_sid, [], req=100 + i, fetch=[1])
            np.testing.assert_array_equal(body["values"][0], np.ones(4))
        while _ask(other, "status", {}, req=200)[1]["messages"] < sent + 8:
            pass
        held = settled_rss(d.proc.pid) - before
        print(f"\nunread replies: {sent} x 8 MiB sent, the daemon holds {mib(held)} more")
        assert held < 96 << 20, f"the daemon holds {mib(held)} for a peer that never reads"
        # The peer that never read gets errors, not data, once its share is queued; when it
        # goes, ZeroMQ lets go of what it held.
        greedy.close()
        _alive(d)
        body = _sync(other, other_sid, [], req=300, fetch=[1])
        assert body["error"] is None
        other.close()
    finally:
        d.stop()


def test_unread_replies_are_refused_with_a_limit_error_once_the_share_is_full(tmp_path):
    """What the peer sees when it finally reads: the first replies carry their values, the
    later ones a LimitError naming --max-message-bytes."""
    limit = 16 << 20
    d = _daemon(tmp_path, "unread2", "--max-message-bytes", str(limit))
    try:
        greedy = _raw(d.address, RCVHWM=1, RCVBUF=1 << 16)
        sid = _hello(greedy)
        greedy.send_multipart(adproto.encode("batch", {"ops": [
            [1, "array", 1, [1.0], None],
            [2, "broadcast_to", 2, [Ref(1), (1 << 10, 1 << 10)], None]]},
            req=2, session=sid))
        for i in range(12):
            greedy.send_multipart(adproto.encode("batch", {"ops": [], "sync": True,
                                                          "fetch": [2]},
                                                 req=10 + i, session=sid))
        watcher = _raw(d.address)
        while _ask(watcher, "status", {}, req=1)[1]["messages"] < 12 + 3:
            pass
        got = []
        while greedy.poll(QUIET_MS * 10):
            header, body = adproto.decode(greedy.recv_multipart())
            got.append((header.get("req"), body["values"][0] is not None,
                        (body.get("error") or {}).get("limit")))
        sent = [g for g in got if g[1]]
        refused = [g for g in got if g[2] == "max_message_bytes"]
        assert sent and refused, got
        assert len(sent) * 8 <= 2 * 16 + 8, got      # at most the share, and one being written
        watcher.close()
        greedy.close()
    finally:
        d.stop()


# --- 3. before authentication ---------------------------------------------------------------
@pytest.fixture
def token_daemon(tmp_path, token_file):
    token = _token(token_file)
    d = _daemon(tmp_path, "token", "--auth", "token", "--max-message-bytes", str(256 << 20))
    yield d, token
    d.stop()


def test_a_large_hello_before_authentication_is_refused_before_its_body_is_decoded(
        token_daemon):
    """Was: a 48 MiB hello of nils peaked the daemon at +432 MiB and kept it busy."""
    d, token = token_daemon
    sock = _raw(d.address)
    before = peak_rss(d.proc.pid)
    body = msgpack.packb({"versions": [1], "client": [None] * (8 << 20)})   # 8 MiB of nils
    sock.send_multipart([msgpack.packb({"v": 1, "kind": "hello", "req": 3}), body])
    header, reply = _recv(sock)
    assert header["kind"] == "error" and header["req"] == 3
    assert reply["error"]["type"] == "AuthError" and "authenticated" in reply["error"]["message"]
    grew = peak_rss(d.proc.pid) - before
    # 8 MiB arrived; decoding it would have made a list of 8 million references (64 MiB)
    assert grew < 40 << 20, f"peak grew by {mib(grew)}"
    # a batch naming a session gets its SessionError, its body unread
    header, reply = _ask(sock, "batch", {"ops": [], "pad": b"x" * (1 << 20)}, req=4,
                         session="0" * 32)
    assert reply["error"]["type"] == "SessionError", reply
    # after authenticating, the same connection may send large messages
    sid = _hello(sock, token, req=5)
    body = _sync(sock, sid, [[1, "array", 1, [np.ones(1 << 18)], None]], req=9, meta=[1])
    assert body["error"] is None and body["meta"][0][0] == [1 << 18]
    sock.close()


def test_frames_past_the_limit_are_let_go_as_they_are_read(token_daemon):
    """Frames of a message over --max-message-bytes are not all held by the daemon's
    Python side, and the answer is a LimitError with the message's req."""
    d, token = token_daemon
    sock = _raw(d.address)
    sid = _hello(sock, token)
    frames = adproto.encode("batch", {"ops": []}, req=4, session=sid)
    frames += [b""] * 200_000                  # a flood of empty frames
    sock.send_multipart(frames)
    header, reply = _recv(sock)
    assert header.get("req") == 4 and reply["error"]["limit"] == "max_frames", reply
    big = np.zeros(100 << 20, np.uint8)        # three frames of 100 MiB: 300 > 256 MiB
    sock.send_multipart(adproto.encode("batch", {"ops": []}, req=5, session=sid)
                        + [big, big, big], copy=False)
    header, reply = _recv(sock)
    assert header.get("req") == 5 and reply["error"]["limit"] == "max_message_bytes", reply
    _alive(d)
    sock.close()


def test_a_huge_value_in_a_message_is_quoted_short(token_daemon):
    """Was: a 16 MiB dtype name came back as a 64 MiB error reply (and an 80 MiB log line)."""
    d, token = token_daemon
    sock = _raw(d.address)
    sid = _hello(sock, token)
    name = "x" * (16 << 20)
    ext = msgpack.ExtType(1, msgpack.packb([0, name, [1]]))
    sock.send_multipart([msgpack.packb({"v": 1, "kind": "batch", "req": 4, "session": sid}),
                         msgpack.packb({"ops": [[1, "array", 1, [ext], None]]}), b"\0"])
    header, reply = _recv(sock)
    assert reply["error"]["type"] == "ProtocolError"
    assert len(reply["error"]["message"]) < 1000, len(reply["error"]["message"])
    # an op name, a session id, a kind: all quoted short
    for kind, session in (("batch", "s" * (1 << 20)), ("k" * (1 << 20), sid)):
        header, reply = _ask(sock, kind, {}, req=5, session=session)
        assert len(msgpack.packb(reply)) < 4000, len(msgpack.packb(reply))
    body = _sync(sock, sid, [[1, "n" * (1 << 20), 1, [], None]], req=6)
    assert len(body["error"]["message"]) < 4000
    sock.close()


def test_a_header_larger_than_a_header_needs_is_refused_undecoded(tmp_path):
    d = _daemon(tmp_path, "header")
    try:
        sock = _raw(d.address)
        header = msgpack.packb({"v": 1, "kind": "ping", "req": 1, "pad": "p" * (1 << 20)})
        sock.send_multipart([header, msgpack.packb({})])
        _, reply = _recv(sock)
        assert reply["error"]["type"] == "ProtocolError" and "header" in reply["error"]["message"]
        sock.close()
    finally:
        d.stop()


def test_a_flood_of_hellos_cannot_push_out_a_waiting_clients_challenge():
    """Was: the daemon kept 10,000 outstanding challenges and forgot the oldest, so 10,100
    unauthenticated hellos from other connections made a waiting client's answer fail."""
    token = b"\x05" * 32
    gate = auth.Gate(token)
    challenge = gate.challenge(b"waiting client")
    for i in range(10_100):
        gate.challenge(b"flood %d" % i)
    nonces, why = gate.verify(b"waiting client", auth.answer(token, challenge))
    assert nonces is not None, why


def test_a_flood_of_hellos_on_the_wire_leaves_a_waiting_client_its_challenge(token_daemon):
    d, token = token_daemon
    waiting = _raw(d.address)
    _, challenge = _ask(waiting, "hello", {"versions": [1]}, req=1)
    flood = [_raw(d.address) for _ in range(50)]
    for sock in flood:
        for i in range(20):
            sock.send_multipart(adproto.encode("hello", {"versions": [1]}, req=i))
    for sock in flood:
        for _ in range(20):
            assert _recv(sock)[0]["kind"] == "challenge"
        sock.close()
    answer = auth.answer(token, challenge)
    header, body = _ask(waiting, "hello", {"versions": [1], "auth": answer}, req=2)
    assert header["kind"] == "welcome", body
    assert auth.check_proof(token, answer, body["session"], body["proof"])
    waiting.close()


def test_one_connection_cannot_take_every_session(tmp_path):
    d = _daemon(tmp_path, "persession", "--max-sessions", "8",
                "--max-sessions-per-connection", "3")
    try:
        greedy = _raw(d.address)
        sids = [_hello(greedy, req=10 * i + 1) for i in range(3)]
        header, body = _ask(greedy, "hello", {"versions": [1]}, req=50)
        assert body["error"]["limit"] == "max_sessions_per_connection", body
        # another connection still gets a session
        other = _raw(d.address)
        _hello(other)
        # a bye frees a place on the greedy connection
        assert _ask(greedy, "bye", {}, req=60, session=sids[0])[0]["kind"] == "goodbye"
        _hello(greedy, req=70)
        greedy.close()
        other.close()
    finally:
        d.stop()


# --- 4. tuple results hold whitelisted dtypes ---------------------------------------------------
def test_a_tuple_result_cannot_hold_an_array_outside_the_whitelist(tmp_path):
    d = _daemon(tmp_path, "tupledtype")
    try:
        sock = _raw(d.address)
        sid = _hello(sock)
        made = {}
        for name, ops in {
            "split of strings": [[1, "split", 1, [["a", "b"], 2], None]],
            "meshgrid with strings": [[1, "meshgrid", 1, [[1, 2], ["a", "b"]], None]],
            "broadcast_arrays with a string": [[1, "broadcast_arrays", 1, [1.0, "a"], None]],
            "atleast_1d of nil": [[1, "atleast_1d", 1, [None, 1.0], None]],
        }.items():
            body = _sync(sock, sid, ops + [[2, "getitem", 2, [Ref(1), 0], None],
                                           [3, "getitem", 3, [Ref(1), 1], None]],
                         meta=[1, 2, 3])
            if body["meta"][0] is not None:
                made[name] = body["meta"]
            _sync(sock, sid, [[9, "release", None, [1, 2, 3], None]], req=3)
        sock.close()
        assert not made, f"tuple results holding arrays outside the whitelist: {made}"
    finally:
        d.stop()
