"""adclient against a real daemon (TCP loopback and ipc), with HIPS autograd as the oracle."""
import warnings

import numpy as onp
import pytest

import autograd
import autograd.numpy as anp

import adclient
import adclient.numpy as np
from adclient import grad, value_and_grad, elementwise_grad, make_vjp, primitive, defvjp
from adclient import DaemonError, RemoteArray


def close(a, b, rtol=1e-9):
    onp.testing.assert_allclose(a, b, rtol=rtol, atol=0)


def test_grad_of_scalar_function_matches_autograd(client):
    def f(x):
        return np.sum(np.tanh(x) * np.sin(x) ** 2 / (1.0 + np.exp(-x)))

    def af(x):
        return anp.sum(anp.tanh(x) * anp.sin(x) ** 2 / (1.0 + anp.exp(-x)))

    x = onp.linspace(-2, 2, 7)
    g = grad(f)(x)
    assert isinstance(g, onp.ndarray) and g.shape == x.shape
    close(g, autograd.grad(af)(x))


def test_float_argument_gives_numpy_float(client):
    g = grad(np.sin)(1.0)
    assert isinstance(g, onp.float64)
    assert g == onp.cos(1.0)


def test_six_successive_elementwise_grads_of_tanh(client):
    x = onp.linspace(-7, 7, 200)
    ours, theirs = np.tanh, anp.tanh
    for _ in range(6):
        ours, theirs = elementwise_grad(ours), autograd.elementwise_grad(theirs)
    close(ours(x), theirs(x))


def test_value_and_grad_and_make_vjp(client):
    def f(x):
        return np.sum(x ** 3)

    x = onp.array([1.0, 2.0, 3.0])
    value, g = value_and_grad(f)(x)
    assert value == 36.0
    close(g, 3 * x ** 2)
    vjp, ans = make_vjp(np.sin)(x)
    close(ans, onp.sin(x))
    close(vjp(onp.array([1.0, 2.0, 0.5])), onp.cos(x) * [1.0, 2.0, 0.5])


def test_containers_give_gradients_of_the_same_structure(client):
    def f(p):
        (w, b), d = p["layer"], p["scale"]
        return np.sum(np.tanh(np.dot(w, b)) * d[0]) + d[1] ** 2

    params = {"layer": (onp.ones((2, 3)) * 0.5, onp.arange(3.0)), "scale": [2.0, 3.0]}
    ours = grad(f)(params)
    theirs = autograd.grad(lambda p: anp.sum(anp.tanh(anp.dot(*p["layer"])) * p["scale"][0])
                           + p["scale"][1] ** 2)(params)
    assert set(ours) == {"layer", "scale"}
    assert isinstance(ours["layer"], tuple) and isinstance(ours["scale"], list)
    close(ours["layer"][0], theirs["layer"][0])
    close(ours["layer"][1], theirs["layer"][1])
    close(ours["scale"][0], theirs["scale"][0])
    close(ours["scale"][1], theirs["scale"][1])


def test_argnum_and_unused_argument(client):
    f = lambda x, y: np.sum(x * y)
    close(grad(f, 1)(onp.array([1.0, 2.0]), onp.array([3.0, 4.0])), [1.0, 2.0])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        g = grad(lambda x, y: np.sum(y ** 2))(onp.ones(3), onp.ones(3))
    close(g, onp.zeros(3))


def test_control_flow_branches_and_loops_in_the_client(client):
    def taylor_sin(x):
        ans = currterm = x
        i = 0
        while np.abs(currterm) > 0.001:
            currterm = -currterm * x ** 2 / ((2 * i + 3) * (2 * i + 2))
            ans = ans + currterm
            i += 1
        return ans

    close(grad(taylor_sin)(0.7), onp.cos(0.7), rtol=1e-3)
    close(grad(grad(taylor_sin))(0.7), -onp.sin(0.7), rtol=1e-2)


def test_hessian_through_nested_grad_matches_autograd(client):
    f = lambda x: np.sum(np.sin(x) * np.dot(x, x))
    af = lambda x: anp.sum(anp.sin(x) * anp.dot(x, x))
    x = onp.array([0.3, -0.7, 1.1])
    v = onp.array([1.0, 0.5, -2.0])
    hvp = grad(lambda x: np.dot(grad(f)(x), v))(x)
    close(hvp, autograd.grad(lambda x: anp.dot(autograd.grad(af)(x), v))(x))


def test_indexing_concatenate_where_maximum(client):
    def f(x):
        y = np.concatenate([x[1:], x[[0, 0]]])
        z = np.where(y > 0, y ** 2, -y)
        return np.sum(np.maximum(z, 0.5)) * np.sum(np.mean(x.reshape(2, 2).T, axis=0, keepdims=True))

    def af(x):
        y = anp.concatenate([x[1:], x[[0, 0]]])
        z = anp.where(y > 0, y ** 2, -y)
        return anp.sum(anp.maximum(z, 0.5)) * anp.sum(anp.mean(x.reshape(2, 2).T, axis=0, keepdims=True))

    x = onp.array([0.3, -1.2, 2.0, 0.9])
    close(grad(f)(x), autograd.grad(af)(x))


def test_plain_values_never_reach_the_daemon(client):
    before = client.round_trips
    out = np.sin(onp.array([0.1, 0.2]))
    assert type(out) is onp.ndarray
    assert not client.pending
    assert client.round_trips == before


def test_one_round_trip_per_grad_call(client):
    f = lambda x: np.sum(np.sin(x) * 2.0)
    grad(f)(onp.ones(4))
    before = client.round_trips
    grad(f)(onp.ones(4))
    assert client.round_trips - before == 1


def test_daemon_error_names_the_op_and_the_users_line(client):
    def f(x):
        y = np.sin(x)
        z = np.dot(y, onp.ones((5, 5)))  # shapes do not match
        return np.sum(z)

    with pytest.raises(DaemonError) as info:
        grad(f)(onp.ones(3))
    message = str(info.value)
    assert "op 'dot' failed" in message
    assert "test_python_client.py" in message and "in f" in message
    line = f.__code__.co_firstlineno + 2
    assert f"test_python_client.py:{line}" in message
    # The session keeps working after an error.
    assert grad(np.sin)(0.0) == 1.0


def test_grad_of_non_scalar_function_is_a_clear_error(client):
    with pytest.raises(DaemonError, match="scalar-output"):
        grad(lambda x: x * 2)(onp.ones(3))


def test_integer_argument_is_refused_like_autograd(client):
    with pytest.raises(TypeError, match="Can't differentiate"):
        grad(np.sin)(1)


def test_remote_array_operators_and_values(client):
    a = RemoteArray(client, client.op("array", [onp.array([[1.0, 2.0], [3.0, 4.0]])]))
    b = (a @ a.T - 1.0) / 2.0
    onp.testing.assert_array_equal(onp.asarray(b), (onp.array([[5, 11], [11, 25]]) - 1) / 2)
    assert b.shape == (2, 2) and b.dtype == onp.float64
    assert float(a[1, 1]) == 4.0
    assert bool(a[0, 0] < a[1, 1])
    assert "trace_level=0" in repr(a)


# --- user-defined primitives: their VJPs run here, called back by the daemon ---------------
@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)


@primitive
def logsumexp(x):
    m = onp.max(x)
    return m + onp.log(onp.sum(onp.exp(x - m)))


defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))


def test_primitive_vjp_comes_from_a_client_callback(client):
    x = onp.array([0.5, -1.0, 2.0])
    close(grad(lambda x: np.sum(cube(np.sin(x))))(x), 3 * onp.sin(x) ** 2 * onp.cos(x))
    close(grad(logsumexp)(x), onp.exp(x) / onp.sum(onp.exp(x)))


def test_higher_order_through_a_user_rule(client):
    # d2/dx2 of cube(x) = 6x: the second pass differentiates the callback's own ops.
    close(grad(grad(cube))(1.5), 9.0)
    close(elementwise_grad(elementwise_grad(cube))(onp.array([1.0, 2.0])), [6.0, 12.0])


def test_failing_user_rule_is_reported(client):
    @primitive
    def broken(x):
        return x * 1.0

    defvjp(broken, lambda ans, x: lambda g: g[100])   # index out of range on the daemon
    with pytest.raises(DaemonError):
        grad(lambda x: np.sum(broken(x)))(onp.ones(3))
    assert grad(np.cos)(0.0) == 0.0


@primitive
def scaled(x, factor=1.0):
    return x * factor


defvjp(scaled, lambda ans, x, factor=1.0: lambda g: g * factor)


def test_primitive_keyword_arguments_reach_its_gradient(client):
    close(grad(lambda x: np.sum(scaled(x, factor=3.0)))(onp.ones(2)), [3.0, 3.0])


def test_gradient_of_remote_inputs_with_a_user_rule_stays_remote(client):
    # The vjp that calls back is not followed by a fetch: the client must still serve the
    # callback before anything later runs against its outputs.
    x = RemoteArray(client, client.op("array", [onp.array([1.0, 2.0])]))
    g = grad(lambda x: np.sum(cube(x)))(x)
    assert type(g) is RemoteArray
    h = g * 2.0
    client.flush()
    close(onp.asarray(h), 6 * onp.array([1.0, 4.0]))


def test_remote_arrays_stay_on_the_daemon(client):
    w = adclient.remote(onp.array([1.0, 2.0, 3.0]))
    g = grad(lambda w: np.sum(w ** 2))(w)
    assert type(g) is RemoteArray
    onp.testing.assert_array_equal(g.get(), [2.0, 4.0, 6.0])
    onp.testing.assert_array_equal(onp.asarray(np.sin(w)), onp.sin([1.0, 2.0, 3.0]))


def test_named_shared_arrays_cross_processes(daemon, client):
    import subprocess, sys, textwrap
    table = onp.arange(6.0).reshape(2, 3)
    adclient.publish("test-table", table)
    client.sync()
    reader = textwrap.dedent(f"""
        import numpy, adclient, adclient.numpy as np
        t = adclient.shared("test-table")
        print(float(np.sum(t * 2.0)))
    """)
    import os
    env = dict(os.environ, ADSERVER_ADDRESS=daemon.address)
    out = subprocess.run([sys.executable, "-c", reader], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) == 30.0
    with pytest.raises(DaemonError, match="no array is published under the name 'nothing'"):
        adclient.shared("nothing").get()


def test_a_published_array_is_read_only_and_dies_with_its_publisher(daemon):
    from adclient.session import Session
    owner, other = Session(daemon.address), Session(daemon.address)
    try:
        adclient.publish("short-lived", onp.ones(2), session=owner)
        owner.sync()
        v = adclient.shared("short-lived", session=other)
        onp.testing.assert_array_equal(v.get(), [1.0, 1.0])
        with pytest.raises(DaemonError, match="already published by another session"):
            adclient.publish("short-lived", onp.zeros(2), session=other).get()
            other.sync()
        owner.close()
        with pytest.raises(DaemonError, match="no array is published"):
            adclient.shared("short-lived", session=other).get()
    finally:
        other.close()


def test_ndarray_methods(client):
    x = adclient.remote(onp.array([[1.0, -2.0], [3.0, 0.5]]))
    onp.testing.assert_allclose(x.sum(axis=0).get(), [4.0, -1.5])
    onp.testing.assert_allclose(x.dot(x).get(), onp.array([[1, -2], [3, .5]]) @
                                onp.array([[1, -2], [3, .5]]))
    onp.testing.assert_allclose(x.T.ravel().get(), [1.0, 3.0, -2.0, 0.5])
    assert x.astype("float32").dtype == onp.float32
    assert x.reshape(4).shape == (4,)
