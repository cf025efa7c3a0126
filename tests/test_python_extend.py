"""adclient.extend, test_util, misc and builtins, against a real daemon (and autograd)."""
import numpy as onp
import pytest

import autograd
import autograd.numpy as anp
import autograd.misc.optimizers as their_optimizers

import adclient
import adclient.numpy as np
from adclient import grad, make_jvp, checkpoint
from adclient.extend import (primitive, defvjp, defvjp_argnum, defvjp_argnums, defjvp,
                             defjvp_argnum, def_linear, notrace_primitive, Box, vspace)
from adclient.test_util import check_grads, combo_check
from adclient.misc import flatten, flatten_func
from adclient.misc.optimizers import sgd, rmsprop, adam
from adclient.misc.fixed_points import fixed_point

X = onp.array([0.4, -0.3, 1.2])


# --- check_grads on ordinary code, in both modes, to second order -------------------------
@pytest.mark.parametrize("fun", [
    lambda x: np.tanh(x) * np.sin(x) ** 2,
    lambda x: np.sum(np.exp(x) / (1.0 + x ** 2)),
    lambda x: np.dot(x, x) * x,
    lambda x: np.concatenate([x[:2] * x[1:], np.maximum(x, 0.1)]),
], ids=["tanh_sin", "sum_exp", "dot", "concat_max"])
def test_check_grads_order_2_both_modes(client, fun):
    check_grads(fun, modes=["fwd", "rev"], order=2)(X)


def test_check_grads_on_containers(client):
    check_grads(lambda p: np.sum(p["a"] * p["b"][0] ** 2))({"a": X, "b": (X[::-1],)})


def test_check_grads_catches_a_wrong_rule(client):
    @primitive
    def wrong(x):
        return x ** 3
    defvjp(wrong, lambda ans, x: lambda g: g * 3.1 * x ** 2)
    with pytest.raises(AssertionError, match="VJP"):
        check_grads(wrong, modes=["rev"], order=1)(X)


def test_combo_check(client):
    combo_check(lambda x, scale=1.0: np.sin(x) * scale, [0])([X, X[:2]], scale=[1.0, 2.0])


# --- client primitives ---------------------------------------------------------------------
@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: g * 3 * x ** 2)
defjvp(cube, lambda g, ans, x: g * 3 * x ** 2)


def test_primitive_third_order_in_both_modes(client):
    check_grads(cube, modes=["fwd", "rev"], order=3)(X)


@primitive
def weighted(x, w, power=2):
    return w * x ** power


defvjp_argnum(weighted, lambda argnum, ans, args, kwargs: (
    (lambda g: g * args[1] * kwargs.get("power", 2) * args[0] ** (kwargs.get("power", 2) - 1))
    if argnum == 0 else (lambda g: g * args[0] ** kwargs.get("power", 2))))
defjvp_argnum(weighted, lambda argnum, g, ans, args, kwargs: (
    g * args[1] * kwargs.get("power", 2) * args[0] ** (kwargs.get("power", 2) - 1)
    if argnum == 0 else g * args[0] ** kwargs.get("power", 2)))


def test_argnum_rules_and_keyword_arguments(client):
    w = onp.array([2.0, -1.0, 0.5])
    check_grads(lambda x, w: weighted(x, w, power=3), (0, 1), modes=["fwd", "rev"])(X, w)


@primitive
def both(x, y):
    return x * y


defvjp_argnums(both, lambda argnums, ans, args, kwargs: lambda g: tuple(
    g * args[1 - i] for i in argnums))
def_linear(both)


def test_argnums_rules_and_def_linear(client):
    check_grads(both, (0, 1), modes=["fwd", "rev"], order=1)(X, X[::-1])


def test_primitive_with_a_function_argument(client):
    @primitive
    def apply(f, x):
        return f(x)
    defvjp(apply, None, lambda ans, f, x: lambda g: g * 2.0)
    assert grad(lambda x: apply(lambda v: 2 * v, x))(1.5) == 2.0


def test_notrace_primitive_gives_untraced_values(client):
    seen = []

    @notrace_primitive
    def peek(x):
        seen.append(type(x))
        return float(onp.sum(x))

    g = grad(lambda x: np.sum(x ** 2) * peek(x))(X)
    onp.testing.assert_allclose(g, 2 * X * onp.sum(X))
    assert seen == [onp.ndarray]


def test_box_and_vspace(client):
    def f(x):
        assert isinstance(x, Box)
        assert vspace(x).shape == (3,)
        return np.sum(x)
    grad(f)(X)
    assert vspace({"a": X, "b": (1.0,)}).size == 4


# --- checkpoint, fixed points, flatten, optimizers, builtins --------------------------------
def test_checkpoint_gives_the_same_gradient(client):
    def block(x):
        for _ in range(5):
            x = np.sin(x) * 1.1
        return x
    plain = grad(lambda x: np.sum(block(block(x))))(X)
    checked = grad(lambda x: np.sum(checkpoint(block)(checkpoint(block)(x))))(X)
    onp.testing.assert_allclose(checked, plain, rtol=1e-12)


def test_fixed_point_uses_the_implicit_gradient(client):
    def newton_sqrt_iter(a):
        return lambda x: 0.5 * (x + a / x)

    def distance(x, y):
        return np.abs(x - y)

    d = grad(lambda a: fixed_point(newton_sqrt_iter, a, 1.0, distance, 1e-10))(2.0)
    assert d == pytest.approx(0.5 / onp.sqrt(2.0), rel=1e-9)


def test_flatten_and_flatten_func(client):
    value = {"w": onp.ones((2, 2)), "b": (onp.arange(3.0), 4.0)}
    flat, unflatten = flatten(value)
    assert flat.shape == (8,)
    back = unflatten(flat)
    onp.testing.assert_array_equal(back["w"], value["w"])
    onp.testing.assert_array_equal(back["b"][0], value["b"][0])
    f, unflatten, x0 = flatten_func(lambda p: {"s": np.sum(p["w"]) * p["b"][1]}, value)
    onp.testing.assert_allclose(f(x0), [16.0])


@pytest.mark.parametrize("name,kwargs", [("sgd", {"num_iters": 30}),
                                         ("rmsprop", {"num_iters": 30}),
                                         ("adam", {"num_iters": 30, "step_size": 0.05})])
def test_optimizers_match_autograd(client, name, kwargs):
    target = onp.array([1.0, -2.0])

    def loss(np, p):
        return np.sum((p["w"] - target) ** 2) + (p["b"][0] - 0.5) ** 2

    start = {"w": onp.zeros(2), "b": (0.0,)}
    ours = getattr(adclient.misc.optimizers, name)(
        lambda p, i: grad(lambda p: loss(np, p))(p), start, **kwargs)
    theirs = getattr(their_optimizers, name)(
        lambda p, i: autograd.grad(lambda p: loss(anp, p))(p), start, **kwargs)
    onp.testing.assert_allclose(ours["w"], theirs["w"], rtol=1e-10)
    onp.testing.assert_allclose(ours["b"][0], theirs["b"][0], rtol=1e-10)


def test_callback_sees_nested_values(client):
    seen = []
    sgd(lambda p, i: {"a": 2 * p["a"]}, {"a": onp.ones(2)}, num_iters=3,
        callback=lambda p, i, g: seen.append((i, set(p), set(g))))
    assert seen == [(i, {"a"}, {"a"}) for i in range(3)]


def test_builtins_see_traced_values_as_arrays(client):
    def f(x):
        assert adclient.isinstance(x, onp.ndarray)
        assert adclient.type(x) is onp.ndarray
        return np.sum(x)
    grad(f)(X)
    assert adclient.isinstance(X, onp.ndarray) and not adclient.isinstance(X, float)
    assert adclient.tuple is tuple and adclient.dict is dict
