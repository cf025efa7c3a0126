"""jacobian and hessian through the batched ``vjp`` op (``seeds``), against HIPS autograd.

Real-daemon tests compare adclient's jacobian and hessian with autograd's for functions
that meet the batched rules (contractions, reductions, indexing, elementwise ops) and ones
that do not (sorting, linear solves, client primitives), which run seed by seed; complex
outputs; nesting (hessian, third derivatives); and errors. Engine tests at the end drive
``backward_seeds`` in-process: it must give what one ``backward`` per seed gives, batch the
common ops, split its seeds into chunks, and keep calling the pass's ``check``.
"""
import warnings

import numpy as onp
import pytest

import autograd
import autograd.numpy as anp
import autograd.scipy.special as aspecial

import adclient
import adclient.numpy as np
import adclient.scipy.special as special
from adclient.errors import DaemonError

rng = onp.random.RandomState(0)
N = 5
W = rng.randn(N, N) / onp.sqrt(N)
A = rng.randn(N, 3)
X = rng.randn(N)
M = rng.randn(3, 4)


def close(a, b):
    onp.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# Each case is written once against a numpy-like module: (function, input).
def _chain(np, x):
    for _ in range(3):
        x = np.tanh(W @ x) * x + np.sin(x)
    return x


def _special(np):
    return special if np is adclient.numpy else aspecial


VECTOR_CASES = {
    "tanh_matvec": (lambda np, x: np.tanh(W @ x) * x, X),
    "chain": (_chain, X),
    "dot_broadcast": (lambda np, x: np.dot(x, A) * x[0] + np.sum(x) / (1.0 + x[1:4] ** 2), X),
    "elementwise": (lambda np, x: np.exp(x / 3) - np.log1p(x ** 2) + np.sqrt(x ** 2 + 1.0)
                    * np.arctan(x) + np.maximum(x, 0.1) ** 3, X),
    "where_and_indexing": (lambda np, x: np.where(x > 0, x ** 2, -x) +
                           x[::-1] * x[[0, 2, 1, 4, 3]], X),
    "outer_matrix_output": (lambda np, x: np.outer(x, np.sin(x)) @ A, X),
    "concatenate_reshape": (lambda np, x: np.reshape(np.concatenate(
        [x, x[:3] * 2.0, np.mean(x, keepdims=True)]), (3, 3)).T, X),
    "special_ufuncs": (lambda np, x: _special(np).expit(x) * _special(np).erf(x / 2), X),
    "seed_by_seed_ops": (lambda np, x: np.sort(x) * np.cumsum(x) +
                         np.linalg.solve(W + 3 * np.eye(N), x), X),
    "tuple_valued_op": (lambda np, x: np.linalg.slogdet(np.outer(x, x) + 3.0 * np.eye(N))[1]
                        * x + np.linalg.eigh(np.outer(x, x) + np.diag(np.sin(x)))[0], X),
    "matrix_input": (lambda np, m: np.tanh(m @ m.T) * 2.0, M),
    "tensordot": (lambda np, m: np.tensordot(m, np.sin(m), axes=([1], [1])) +
                  np.sum(m ** 2, axis=1), M),
    "scalar_input": (lambda np, s: np.sin(s) * X + s ** 2, 0.7),
    "scalar_output": (lambda np, x: np.sum(np.tanh(x) * x), X),
    "broadcast_scalar_traced": (lambda np, x: x[0] * W[:, :3] * x[1:4], X),
}


@pytest.mark.parametrize("name", list(VECTOR_CASES))
def test_jacobian_matches_autograd(client, name):
    fun, x = VECTOR_CASES[name]
    ours = adclient.jacobian(lambda v: fun(np, v))(x)
    theirs = autograd.jacobian(lambda v: fun(anp, v))(x)
    assert onp.shape(ours) == onp.shape(theirs)
    close(ours, theirs)


def test_jacobian_of_a_longer_chain_at_size_100(client):
    n = 100
    r = onp.random.RandomState(1)
    W100, x = r.randn(n, n) / onp.sqrt(n), r.randn(n)

    def f(np, x):
        for _ in range(4):
            x = np.tanh(W100 @ x) * x + 0.1 * np.sin(x)
        return x
    close(adclient.jacobian(lambda v: f(np, v))(x), autograd.jacobian(lambda v: f(anp, v))(x))


SCALAR_CASES = {
    "tanh_matvec": (lambda np, x: np.sum(np.tanh(W @ x) * x), X),
    "sin_dot": (lambda np, x: np.sum(np.sin(x) * np.dot(x, x)), X),
    "logsumexp": (lambda np, x: np.log(np.sum(np.exp(x))), X),
    "quadratic_indexing": (lambda np, x: x[[0, 1, 3]] @ W[:3, :3] @ x[[0, 1, 3]] +
                           np.prod(x[:3]), X),
    "matrix_input": (lambda np, m: np.sum((m @ m.T) ** 2) + np.sum(np.cos(m)), M),
    "mean_var": (lambda np, x: np.var(x) * np.mean(x ** 3), X),
}


@pytest.mark.parametrize("name", list(SCALAR_CASES))
def test_hessian_matches_autograd(client, name):
    fun, x = SCALAR_CASES[name]
    ours = adclient.hessian(lambda v: fun(np, v))(x)
    theirs = autograd.hessian(lambda v: fun(anp, v))(x)
    assert onp.shape(ours) == onp.shape(theirs)
    close(ours, theirs)


def test_third_derivative_jacobian_of_hessian(client):
    def f(np, x):
        return np.sum(np.sin(W @ x) * x ** 2)
    ours = adclient.jacobian(adclient.hessian(lambda v: f(np, v)))(X)
    theirs = autograd.jacobian(autograd.hessian(lambda v: f(anp, v)))(X)
    close(ours, theirs)


def test_jacobian_of_a_gradient_of_a_jacobian(client):
    # A jacobian nested inside grad and jacobian: its batched pass is traced twice.
    inner = adclient.jacobian(lambda v: np.tanh(W @ v) * v)
    their_inner = autograd.jacobian(lambda v: anp.tanh(W @ v) * v)
    ours = adclient.jacobian(adclient.grad(lambda v: np.sum(inner(v) ** 2)))(X)
    theirs = autograd.jacobian(autograd.grad(lambda v: anp.sum(their_inner(v) ** 2)))(X)
    close(ours, theirs)


def test_jacobian_with_remote_input_stays_on_the_daemon(client):
    x = adclient.remote(X)
    J = adclient.jacobian(lambda v: np.tanh(W @ v) * v)(x)
    close(onp.asarray(J), autograd.jacobian(lambda v: anp.tanh(W @ v) * v)(X))


# --- complex values ----------------------------------------------------------------------------
def _rows_by_make_vjp(fun, x, out_shape, dtype):
    """autograd's Jacobian rows, one make_vjp pass per basis cotangent (autograd's own
    jacobian does not take complex values)."""
    vjp, _ = autograd.make_vjp(fun)(x)
    size = int(onp.prod(out_shape))
    rows = [vjp(onp.eye(size, dtype=dtype)[i].reshape(out_shape)) for i in range(size)]
    return onp.reshape(onp.stack(rows), tuple(out_shape) + onp.shape(x))


@pytest.mark.parametrize("name, fun, x", [
    ("complex_output_real_input", lambda np, x: np.exp(1j * x) * (W @ x), X),
    ("complex_input", lambda np, z: np.sin(z) * z + np.exp(z / 2) @ W, X + 0.5j * X[::-1]),
    ("complex_to_real", lambda np, z: np.abs(z) ** 2 + np.real(z * np.conj(z[::-1])), X + 0.3j),
])
def test_jacobian_complex(client, name, fun, x):
    ours = adclient.jacobian(lambda v: fun(np, v))(x)
    out = fun(anp, x)
    theirs = _rows_by_make_vjp(lambda v: fun(anp, v), x, onp.shape(out),
                               onp.result_type(out))
    close(ours, theirs)


def test_holomorphic_hessian(client):
    # The Hessian of a complex function of a complex argument, under autograd's pairing.
    def f(np, z):
        return np.sum(np.sin(z) * z ** 2)
    z = X + 0.4j
    ours = adclient.hessian(lambda v: f(np, v))(z)
    def their_gradient(v):   # the inner jacobian's one row: the VJP of 1 + 0j
        vjp, _ = autograd.make_vjp(lambda u: f(anp, u))(v)
        return vjp(onp.complex128(1.0))
    theirs = _rows_by_make_vjp(their_gradient, z, (N,), onp.complex128)
    close(ours, theirs)


# --- structure, edge cases, errors -------------------------------------------------------------
def test_tuple_output_is_one_stacked_array(client):
    J = adclient.jacobian(lambda v: (v * v, 2.0 * v))(X)
    close(J, onp.stack([onp.diag(2 * X), 2.0 * onp.eye(N)]))


def test_output_independent_of_input_gives_zeros(client):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        J = adclient.jacobian(lambda v: W[0])(X)
    assert any("independent" in str(w.message) for w in caught)
    close(J, onp.zeros((N, N)))


def test_structured_inputs_are_refused_as_before(client):
    with pytest.raises(ValueError):
        adclient.jacobian(lambda t: t[0] * t[1])((X, X))
    with pytest.raises(ValueError):
        adclient.jacobian(lambda d: d["a"] * 2)({"a": X})


def test_size_one_output_and_empty_input(client):
    close(adclient.jacobian(lambda v: np.sum(v ** 2, keepdims=True))(X), [2 * X])
    assert adclient.jacobian(lambda v: v * 2.0)(onp.zeros(0)).shape == (0, 0)


def test_client_primitive_is_called_back_once_per_row(client):
    from adclient.extend import primitive, defvjp
    calls = []

    @primitive
    def cube(x):
        return x ** 3

    def cube_vjp(ans, x):
        def vjp(g):
            calls.append(1)
            return g * 3 * x ** 2
        return vjp
    defvjp(cube, cube_vjp)

    J = adclient.jacobian(lambda v: cube(W @ v) + v)(X)
    close(J, autograd.jacobian(lambda v: (W @ v) ** 3 + v)(X))
    assert len(calls) == N


def test_jacobian_rows_go_in_one_vjp_op(client):
    adclient.jacobian(lambda v: np.tanh(W @ v) * v)(X)
    before = client.round_trips
    adclient.jacobian(lambda v: np.tanh(W @ v) * v)(X)
    assert client.round_trips - before == 2   # the output's shape, then the rows


def _traced(fun, x):
    from adclient.differential import _Trace
    return _Trace(fun, x)


def test_explicit_seeds_give_the_vjp_of_each(client):
    s = client
    t = _traced(lambda v: np.tanh(W @ v) * v, X)
    seeds = rng.randn(3, N)
    (h,) = s.op("vjp", [t.ans, seeds, t.boxes, t.level], {"seeds": True}, out=1)
    (rows,), _ = s.sync(fetch=[h])
    vjp, _ = autograd.make_vjp(lambda v: anp.tanh(W @ v) * v)(X)
    close(rows, onp.stack([vjp(g) for g in seeds]))


@pytest.mark.parametrize("bad", [onp.ones((3, N + 1)), onp.ones(N), onp.ones((2, 1, N))],
                         ids=["wrong_length", "no_batch_axis", "extra_axis"])
def test_bad_seed_shape_is_a_clear_error(client, bad):
    s = client
    t = _traced(lambda v: np.sin(v) * 2.0, X)
    (h,) = s.op("vjp", [t.ans, bad, t.boxes, t.level], {"seeds": True}, out=1)
    with pytest.raises(DaemonError) as info:
        s.sync(fetch=[h])
    err = info.value.info
    assert err["type"] == "GradientError" and err["op"] == "vjp"
    assert f"{bad.shape}" in err["message"] and f"({N},)" in err["message"]
    # The session goes on.
    close(adclient.jacobian(lambda v: v * 3.0)(X), 3.0 * onp.eye(N))


def test_time_limit_stops_a_batched_pass_and_the_session_goes_on(tmp_path):
    from conftest import Daemon
    from adclient.session import Session
    d = Daemon(f"ipc://{tmp_path}/d.sock", "--max-backward-seconds", "0.05")
    try:
        s = Session(d.address)
        n = 400
        big = onp.linspace(-1.0, 1.0, n)
        t = _traced_in(s, lambda v: _sorted_layers(v, 30), big)
        (h,) = s.op("vjp", [t.ans, None, t.boxes, t.level], {"seeds": True}, out=1)
        with pytest.raises(DaemonError) as info:
            s.sync(fetch=[h])
        assert info.value.info["limit"] == "max_backward_seconds"
        assert info.value.info["op"] == "vjp"
        h = s.op("array", [onp.ones(3)])
        (v,), _ = s.sync(fetch=[h])
        assert v.sum() == 3
        s.close()
    finally:
        d.stop()


def _sorted_layers(v, k):
    for _ in range(k):
        v = np.sort(np.sin(v))      # sort has no batched rule: one rule call per row
    return v


def _traced_in(session, fun, x):
    """A _Trace of fun at x on ``session`` (its box travels as a remote value there)."""
    from adclient.differential import _Trace
    from adclient.proxy import RemoteArray
    h = session.op("array", [x])
    return _Trace(fun, RemoteArray(session, h, 0, (x.shape, x.dtype)))


# --- the engine, in-process ---------------------------------------------------------------------
from adserver.engine import backward, getval_all, new_box          # noqa: E402
from adserver.engine.backward import Batching, backward_seeds      # noqa: E402
from adserver.engine.tuples import accumulate                       # noqa: E402
from adserver.ops import P                                          # noqa: E402

add = accumulate(P.add)


def _run(gen):
    try:
        next(gen)
    except StopIteration as done:
        return done.value
    raise AssertionError("the pass asked for a callback")


def _per_seed(end, seeds, starts):
    rows = []
    for g in seeds:
        out = _run(backward(end._node, g, [s._node for s in starts], add))
        rows.append([onp.zeros(onp.shape(s._value)) if c is None else getval_all(c)
                     for c, s in zip(out, starts)])
    return [onp.stack([r[i] for r in rows]) for i in range(len(starts))]


ENGINE_CASES = {
    "tanh_matvec": (lambda x: P.tanh(P.matmul(W, x)) * x, X),
    "vecmat_broadcast": (lambda x: P.matmul(x, A) * x[0] + P.sum(x) / (1.0 + x[1:4] ** 2), X),
    "matmat": (lambda m: P.matmul(m, P.transpose(m)) * 2.0, M),
    "tensordot_reduce": (lambda m: P.tensordot(m, P.sin(m), ([1], [1])) + P.mean(m, axis=1), M),
    "index_concat_reshape": (lambda x: P.reshape(P.concatenate_args(
        0, x[::-1], x[[0, 2, 1]], P.sum(x ** 2, keepdims=True), P.where(x > 0, x, -2.0 * x)),
        (2, 7)), X),
    "elementwise": (lambda x: P.exp(x / 3) - P.log1p(x ** 2) + P.sqrt(x ** 2 + 1.0) *
                    P.arctan(x) + P.maximum(x, 0.1) ** 3, X),
    "complex": (lambda x: P.exp(1j * x) * P.matmul(W, x + 0j), X),
    "array_from_args": (lambda x: P.array_from_args(x * x, P.sin(x)), X),
}


@pytest.mark.parametrize("name", list(ENGINE_CASES))
def test_engine_batched_pass_equals_one_pass_per_seed(name):
    fun, x = ENGINE_CASES[name]
    box = new_box(onp.asarray(x, dtype=float), 1)
    end = fun(box)
    shape = onp.shape(getval_all(end))
    size = int(onp.prod(shape))
    dtype = onp.result_type(getval_all(end))
    seeds = onp.eye(size, dtype=dtype).reshape((size,) + shape)
    batching = Batching(P)
    (got,) = _run(backward_seeds(end._node, None, size, [box._node], add, batching))
    (want,) = _per_seed(end, seeds, [box])
    close(got, want)
    # Every rule on the way ran once for the whole stack.
    assert batching.per_seed == 0 and batching.batched > 0


def test_engine_nested_batched_pass_is_traced_at_the_outer_level():
    # The Hessian: an outer level-1 trace around a level-2 gradient whose rows are batched.
    outer = new_box(X.copy(), 1)
    inner = new_box(outer, 2)
    y = P.sum(P.tanh(P.matmul(W, inner)) * inner)
    (g,) = _run(backward(y._node, 1.0, [inner._node], add))           # traced at level 1
    batching = Batching(P)
    (H,) = _run(backward_seeds(g._node, None, N, [outer._node], add, batching))
    close(H, autograd.hessian(lambda v: anp.sum(anp.tanh(W @ v) * v))(X))
    assert batching.per_seed == 0
    # And a batched pass run while level 1 is active gives rows traced at level 1.
    inner = new_box(outer, 2)
    z = P.tanh(P.matmul(W, inner)) * inner
    (J,) = _run(backward_seeds(z._node, None, N, [inner._node], add, batching))
    assert J._level == 1
    (T,) = _run(backward_seeds(P.sum(J * J)._node, None, 1, [outer._node], add, batching))
    theirs = autograd.grad(lambda v: anp.sum(autograd.jacobian(
        lambda u: anp.tanh(W @ u) * u)(v) ** 2))(X)
    close(T[0], theirs)


@pytest.mark.parametrize("budget", [1, 7, 12])
def test_engine_seeds_split_into_chunks(budget):
    box = new_box(X.copy(), 1)
    end = P.tanh(P.matmul(W, box)) * box
    seeds = rng.randn(4, N)
    (got,) = _run(backward_seeds(end._node, seeds, 4, [box._node], add, Batching(P),
                                 budget=budget))
    (want,) = _per_seed(end, seeds, [box])
    close(got, want)


def test_engine_check_runs_before_every_node_and_can_stop_the_pass():
    box = new_box(X.copy(), 1)
    end = P.sort(P.sin(box))          # sort has no batched rule: seed by seed
    calls = []
    _run(backward_seeds(end._node, None, N, [box._node], add, Batching(P),
                        check=lambda: calls.append(1)))
    assert len(calls) >= 2 + (N - 1)  # each node, and each seed after the first of sort's

    class Stop(Exception):
        pass

    def stop():
        raise Stop()
    with pytest.raises(Stop):
        _run(backward_seeds(end._node, None, N, [box._node], add, Batching(P), check=stop))
