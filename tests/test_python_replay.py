"""grad(f, optimize=True): the daemon records a call once per signature and replays it.

Every test compares the replayed answers with the traced ones (and with HIPS autograd)
on inputs other than those the tape was recorded with, so a tape that froze a value it
should have recomputed fails.
"""
import gc
import warnings

import numpy as onp
import pytest
from hypothesis import given, settings, strategies as st, HealthCheck

import autograd
import autograd.numpy as anp

import adclient
import adclient.numpy as np
from adclient.errors import DaemonError

from conftest import Daemon


@pytest.fixture
def session(ipc_daemon, monkeypatch):
    import adclient.session as cs
    monkeypatch.setenv("ADSERVER_ADDRESS", ipc_daemon.address)
    cs.reset()
    yield cs.get_session()
    cs.reset()


def close(a, b):
    onp.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def ops_sent(session, call):
    """How many ops ``call`` queued (its answer, the count)."""
    before = session._seq
    answer = call()
    return answer, session._seq - before


def chain(x, np=np):
    for _ in range(200):
        x = np.sin(x) * 1.0001
    return x


def test_replay_gives_the_traced_gradient_for_new_inputs(session):
    fast = adclient.grad(chain, optimize=True)
    _, recording_ops = ops_sent(session, lambda: fast(0.5))
    for x in (0.5, -1.3, 2.0):
        answer, n = ops_sent(session, lambda: fast(x))
        close(answer, adclient.grad(chain)(x))
        close(answer, autograd.grad(lambda x: chain(x, anp))(x))
        assert isinstance(answer, onp.float64)
        assert n < 5 < recording_ops      # one tape.run (and releases), not the op stream
    assert len(fast.tapes) == 1


def mlp_loss(params, inputs, targets, power, np=np):
    h = inputs
    for W, b in params:
        h = np.tanh(np.dot(h, W) + b)
    relu = np.where(h > 0, h, 0.01 * h)     # a comparison: recomputed, not frozen
    return np.sum(np.abs(relu - targets) ** power) + np.sum(np.floor(targets) * h)


def mlp_data(rng):
    params = [(rng.randn(4, 5), rng.randn(5)), (rng.randn(5, 3), rng.randn(3))]
    return params, rng.randn(6, 4), rng.randn(6, 3)


def test_replay_recomputes_non_differentiated_arguments_and_comparisons(session):
    fast = adclient.grad(mlp_loss, optimize=True)
    rng = onp.random.RandomState(0)
    for _ in range(4):
        params, inputs, targets = mlp_data(rng)
        ours = fast(params, inputs, targets, 2)
        theirs = autograd.grad(lambda p: mlp_loss(p, inputs, targets, 2, anp))(params)
        for (gW, gb), (tW, tb) in zip(ours, theirs):
            close(gW, tW)
            close(gb, tb)
    assert len(fast.tapes) == 1
    fast(params, inputs, targets, 3)          # another value of a plain argument
    fast(params, inputs[:2], targets[:2], 2)  # other shapes
    assert len(fast.tapes) == 3


def test_integer_inputs_used_as_indices_are_read_afresh(session):
    def nll(W, x, labels):
        logits = np.dot(x, W)
        logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
        picked = np.take_along_axis(logp, labels[:, None], axis=1)
        return -np.sum(picked) - np.sum(logp[np.arange(4), labels]) + np.sum(
            np.take(logp, labels, axis=1))

    fast = adclient.grad(nll, optimize=True)
    rng = onp.random.RandomState(3)
    W = rng.randn(5, 3)
    for _ in range(4):
        x, labels = rng.randn(4, 5), rng.randint(0, 3, size=4)
        with warnings.catch_warnings():
            warnings.simplefilter("error")       # replayed, not traced with a warning
            got = fast(W, x, labels)
        close(got, adclient.grad(nll)(W, x, labels))
    assert len(fast.tapes) == 1


def test_value_and_grad_with_arrays_on_the_daemon(session):
    fast = adclient.value_and_grad(mlp_loss, optimize=True)
    rng = onp.random.RandomState(1)
    for _ in range(3):
        params, inputs, targets = mlp_data(rng)
        remote = [(adclient.remote(W), adclient.remote(b)) for W, b in params]
        value, grads = fast(remote, adclient.remote(inputs), adclient.remote(targets), 2)
        want_value, want = autograd.value_and_grad(
            lambda p: mlp_loss(p, inputs, targets, 2, anp))(params)
        close(float(value), want_value)
        for (gW, gb), (tW, tb) in zip(grads, want):
            assert isinstance(gW, adclient.RemoteArray)
            close(gW.get(), tW)
            close(gb.get(), tb)
    assert len(fast.tapes) == 1


def test_closed_over_daemon_arrays_are_read_afresh(session):
    W = adclient.remote(onp.array([[1.0, 2.0], [3.0, 4.0]]))

    def f(x):
        return np.sum(np.tanh(np.dot(W, x)))

    fast = adclient.grad(f, optimize=True)
    x = onp.array([0.1, -0.2])
    fast(x)
    W[0, 0] = -5.0                       # W now holds a new array on the daemon
    want = autograd.grad(lambda x: anp.sum(anp.tanh(anp.dot(
        onp.array([[-5.0, 2.0], [3.0, 4.0]]), x))))(x)
    close(fast(x), want)


def test_a_call_that_reads_values_is_traced_every_time(session):
    def branchy(x):
        if np.sum(x) > 0:
            return np.sum(x ** 2)
        return np.sum(np.sin(x))

    fast = adclient.grad(branchy, optimize=True)
    with pytest.warns(UserWarning, match="reads traced values"):
        close(fast(onp.ones(3)), 2 * onp.ones(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        close(fast(-onp.ones(3)), onp.cos(-onp.ones(3)))   # the other branch, traced
        close(fast(onp.ones(3)), 2 * onp.ones(3))


def test_a_call_that_draws_random_numbers_is_traced_every_time(session):
    noisy = adclient.grad(lambda x: np.sum(x * np.random.randn(3)), optimize=True)
    with pytest.warns(UserWarning, match="draws random numbers"):
        a = noisy(onp.ones(3))
    b = noisy(onp.ones(3))
    assert not onp.allclose(a, b)          # each call draws anew, as without optimize


def test_gradients_inside_the_call_and_forward_mode_are_traced(session):
    def inner(x):
        return np.sum(np.sin(x) * x)

    nested = adclient.grad(lambda x: np.sum(adclient.grad(inner)(x) * x), optimize=True)
    x = onp.array([0.3, 0.9])
    want = autograd.grad(lambda x: anp.sum(autograd.grad(
        lambda y: anp.sum(anp.sin(y) * y))(x) * x))(x)
    with pytest.warns(UserWarning, match="differentiates inside"):
        close(nested(x), want)
    close(nested(2 * x), autograd.grad(lambda x: anp.sum(autograd.grad(
        lambda y: anp.sum(anp.sin(y) * y))(x) * x))(2 * x))

    forward = adclient.grad(lambda x: np.sum(adclient.make_jvp(inner)(x)(x)[1]),
                            optimize=True)
    with pytest.warns(UserWarning, match="differentiates inside"):
        forward(x)


def test_an_optimized_function_inside_another_trace_is_traced(session):
    fast = adclient.grad(lambda x: np.sum(np.sin(x) ** 2), optimize=True)
    x = onp.array([0.4, -1.2])
    hess = adclient.jacobian(fast)(x)
    close(hess, autograd.hessian(lambda x: anp.sum(anp.sin(x) ** 2))(x))
    assert not fast.tapes      # nothing was recorded: the call was inside jacobian


def test_client_primitives_are_traced(session):
    @adclient.primitive
    def cube(x):
        return x ** 3

    adclient.defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
    fast = adclient.grad(lambda x: np.sum(cube(x)), optimize=True)
    with pytest.warns(UserWarning, match="custom"):
        close(fast(onp.array([1.0, 2.0])), [3.0, 12.0])
    close(fast(onp.array([2.0, 3.0])), [12.0, 27.0])


def test_an_error_while_recording_leaves_the_session_usable(session):
    def picky(x, fail):
        if fail:
            raise ValueError("bad input")
        return np.sum(np.exp(x))

    fast = adclient.grad(picky, optimize=True)
    with pytest.raises(ValueError, match="bad input"):
        fast(onp.zeros(2), True)
    close(fast(onp.zeros(2), False), onp.ones(2))
    close(fast(onp.ones(2), False), onp.exp(onp.ones(2)))
    close(adclient.grad(picky)(onp.ones(2), False), onp.exp(onp.ones(2)))


def test_a_new_session_records_again(session):
    import adclient.session as cs
    fast = adclient.grad(chain, optimize=True)
    close(fast(0.3), adclient.grad(chain)(0.3))
    cs.reset()
    close(fast(0.7), autograd.grad(lambda x: chain(x, anp))(0.7))
    close(fast(0.9), autograd.grad(lambda x: chain(x, anp))(0.9))


def test_tape_errors_name_the_tape(session):
    s = session
    s.op("tape.run", [999, [onp.ones(2)]], out=1)
    with pytest.raises(DaemonError, match="no tape 999"):
        s.sync()

    fast = adclient.grad(lambda x: np.sum(x ** 2), optimize=True)
    fast(onp.ones(3))
    (entry,) = fast.tapes.values()
    tape_id = entry.tape.id
    entry.tape.run([onp.ones(4)], 1)
    with pytest.raises(DaemonError, match=r"recorded with shape \(3,\)"):
        s.sync()
    del fast, entry
    gc.collect()                       # the tape is dropped with the function
    s.op("tape.run", [tape_id, [onp.ones(3)]], out=1)
    with pytest.raises(DaemonError, match=f"no tape {tape_id}"):
        s.sync()


def test_the_daemon_keeps_at_most_max_tapes(tmp_path, monkeypatch):
    import adclient.session as cs
    d = Daemon(f"ipc://{tmp_path}/d.sock", "--max-tapes", "1")
    try:
        monkeypatch.setenv("ADSERVER_ADDRESS", d.address)
        cs.reset()
        fast = adclient.grad(lambda x: np.sum(x ** 3), optimize=True)
        fast(onp.ones(2))
        with pytest.warns(UserWarning, match="--max-tapes"):
            close(fast(onp.ones(3)), 3 * onp.ones(3))
        close(fast(2 * onp.ones(2)), 12 * onp.ones(2))
    finally:
        cs.reset()
        d.stop()


FUNCTIONS = {
    "elementwise": lambda x, y: np.sum(np.exp(np.sin(x) * y) / (1 + x ** 2)),
    "reductions": lambda x, y: np.max(x * y) + np.mean(np.cumsum(x)) - np.prod(np.cos(y)),
    "indexing": lambda x, y: np.sum(x[1:] * y[:-1]) + x[0] * np.linalg.norm(y),
    "piecewise": lambda x, y: np.sum(np.maximum(x, y) * np.sign(y) + np.abs(x - y)),
    "shapes": lambda x, y: np.sum(np.outer(x, y).T.reshape(-1)[::2] ** 2),
}
ARRAYS = st.lists(st.floats(-3, 3, allow_nan=False), min_size=4, max_size=4).map(onp.array)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x=ARRAYS, y=ARRAYS)
def test_replay_matches_tracing(session, name, x, y):
    fun = FUNCTIONS[name]
    fast = _optimized[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fast(x, y)
    close(got, adclient.grad(fun)(x, y))


class _Optimized(dict):
    """One optimized function per name for the whole run, so that most examples replay."""

    def __missing__(self, name):
        self[name] = adclient.grad(FUNCTIONS[name], optimize=True)
        return self[name]


_optimized = _Optimized()


class _Cycle:
    """Keeps an object alive until the cyclic garbage collector runs (and not before)."""

    def __init__(self, obj):
        self.obj, self.me = obj, self


def test_the_collector_running_inside_a_recorded_call_does_not_spoil_it(session):
    # An optimized function (and its tape) and a large daemon array, reachable only through
    # reference cycles: their finalizers queue a tape.drop and a release when the
    # collector runs, which here is in the middle of another function's recording. Those
    # frees are the session's business, not the recorded call's.
    old = adclient.grad(lambda x: np.sum(x ** 2), optimize=True)
    old(onp.ones(3))
    (old_entry,) = old.tapes.values()
    old_tape_id = old_entry.tape.id
    _Cycle(old)
    _Cycle(adclient.remote(onp.ones(1 << 16)))
    del old, old_entry
    releases_before = session.releases_sent

    collected = []

    def collects(x):
        y = np.sin(x)
        collected.append(gc.collect())
        return np.sum(np.cos(y) * x)

    fast = adclient.grad(collects, optimize=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")        # "traced on every call" would be a warning
        close(fast(onp.array([0.5, 1.0])), adclient.grad(collects)(onp.array([0.5, 1.0])))
    assert collected[0] > 0                           # while recording, the cycles went
    assert session.releases_sent > releases_before    # the collector's release went out
    x = onp.array([-0.3, 2.0])
    (answer, n) = ops_sent(session, lambda: fast(x))
    close(answer, adclient.grad(collects)(x))
    assert n < 5                                      # replayed: one tape.run
    s = session
    s.op("tape.run", [old_tape_id, [onp.ones(3)]], out=1)
    with pytest.raises(DaemonError, match=f"no tape {old_tape_id}"):
        s.sync()                                      # the collected tape was dropped
