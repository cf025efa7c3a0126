"""What a tape holds is charged to its session (--max-session-bytes), like its handles.

The recorded ops keep the arrays sent inline in them, after the handles made from them are
released, until tape.end; a kept tape keeps the arrays it uses as constants until
tape.drop. Both count in the session's bytes (``adserver status``), and a recording that
would take the session past its limit gives up instead of holding more: the call is then
traced on every call. Real daemons, real sockets.
"""
import warnings

import numpy as onp
import pytest

import adclient
import adclient.numpy as np
from adproto import Ref
from adserver.ping import status
from adclient.session import Session
from conftest import Daemon

MIB8 = 1 << 20                    # float64 elements of an 8 MiB array
LIMIT = 64 << 20                  # the session's limit in these tests


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(f"ipc://{tmp_path}/tapes.sock", "--max-session-bytes", str(LIMIT))
    yield d
    d.stop()


def held_bytes(d):
    """The daemon's own count of the bytes its (single) session holds."""
    return status(d.address, timeout=30)["bytes"]


def handle_cost(s, d):
    """What the daemon charges for a handle beside its data (measured on an empty one)."""
    h = s.op("array", [onp.zeros(0)])
    s.sync()
    cost = held_bytes(d)
    s.op("release", [[h]], out=False)
    s.sync()
    return cost


def test_inline_arrays_of_a_recording_and_a_tapes_constants_are_counted(daemon):
    s = Session(daemon.address)
    try:
        per_handle = handle_cost(s, daemon)
        x = onp.linspace(0.0, 1.0, MIB8)                    # the input: 8 MiB in a handle
        (xh,) = s.op("tape.begin", [1, [x]], out=1)
        # Three 8 MiB arrays sent inline and reduced at once: their handles hold 8 bytes
        # each and are released, but the recorded ops still hold 24 MiB.
        sums = [s.op("sum", [onp.full(MIB8, float(k))]) for k in range(3)]
        # One inline array multiplied with the input: the compiled tape keeps it.
        weight = onp.full(MIB8, 2.0)
        y = s.op("multiply", [Ref(xh), weight])
        total = s.op("add", [Ref(y), Ref(sums[0])])
        s.op("release", [sums], out=False)
        s.sync()
        # handles: the input, y and total; the recording: the three uploads and weight
        assert held_bytes(daemon) == 8 * MIB8 * (3 + 3 + 1) + 3 * per_handle

        verdict = s.op("tape.end", [1, [Ref(total)], []])
        (reason,), _ = s.sync(fetch=[Ref(verdict)])
        assert bytes(reason) == b""                          # replayable
        s.op("release", [[y, total, verdict]], out=False)
        s.sync()
        # Left: the input's handle, and the tape's constants: weight, and the one sum it
        # uses (a number, 8 bytes). The other uploads were reduced to numbers it does not
        # use, so it keeps none of them.
        assert held_bytes(daemon) == 8 * MIB8 * 2 + 8 + per_handle

        s.op("tape.drop", [[1]], out=False)
        s.op("release", [[xh]], out=False)
        s.sync()
        assert held_bytes(daemon) == 0
    finally:
        s.close()


def test_a_recording_past_the_session_limit_gives_up_and_the_call_still_works(
        daemon, monkeypatch):
    import adclient.session as cs
    monkeypatch.setenv("ADSERVER_ADDRESS", daemon.address)
    cs.reset()
    try:
        # Thirty 8 MiB constants (240 MiB), each sent inline once in a dot product with
        # the input: the handles made hold numbers, the recording would hold all thirty.
        constants = [onp.full(MIB8, k / 30.0) for k in range(30)]

        def f(x):
            total = 0.0
            for c in constants:
                total = total + np.dot(c, x)
            return total

        fast = adclient.grad(f, optimize=True)
        x = onp.linspace(0.0, 1.0, MIB8)
        expected = onp.sum(constants, axis=0)
        with pytest.warns(UserWarning, match="traced on every call.*--max-session-bytes"):
            onp.testing.assert_allclose(fast(x), expected, rtol=1e-12)
        assert held_bytes(daemon) < LIMIT                  # nothing past the limit stays
        with warnings.catch_warnings():
            warnings.simplefilter("error")                 # traced now, without a warning
            onp.testing.assert_allclose(fast(2 * x), expected, rtol=1e-12)
        cs.get_session().sync()
        assert held_bytes(daemon) < 4 * MIB8 * 8    # the gradients, at most
    finally:
        cs.reset()
