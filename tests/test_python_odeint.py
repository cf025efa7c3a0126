"""scipy.integrate.odeint through adclient, differentiated by the adjoint method."""
import numpy as onp

import autograd
import autograd.builtins
import autograd.numpy as anp
from autograd.scipy.integrate import odeint as their_odeint

import adclient
import adclient.numpy as np
from adclient.scipy.integrate import odeint

Y0 = onp.array([1.0, 0.5])
T = onp.linspace(0.0, 1.0, 5)
THETA = onp.array([[-0.4, 1.2], [-1.0, -0.3]])


def dynamics(np):
    def f(y, t, theta):
        return np.tanh(np.dot(theta, y)) + 0.1 * t
    return f


def loss(np, odeint, pack=tuple):
    def L(y0, t, theta):
        return np.sum(odeint(dynamics(np), y0, t, pack((theta,)), rtol=1e-10,
                             atol=1e-10) ** 2)
    return L


def test_odeint_value_and_gradients_match_autograd(client):
    g_y0, g_t, g_theta = adclient.grad(loss(np, odeint), (0, 1, 2))(Y0, T, THETA)
    # autograd's odeint cannot be differentiated with respect to the times (it calls
    # float() on them): those are checked against finite differences instead.
    # autograd sees traced values inside the argument tuple only through its own tuple
    their = autograd.grad(loss(anp, their_odeint, autograd.builtins.tuple), (0, 2))(Y0, T, THETA)
    onp.testing.assert_allclose(g_y0, their[0], rtol=1e-6, atol=1e-9)
    onp.testing.assert_allclose(g_theta, their[1], rtol=1e-6, atol=1e-9)
    L = loss(np, odeint)
    eps = 1e-6
    for i in range(1, len(T)):
        step = onp.zeros_like(T)
        step[i] = eps
        fd = (L(Y0, T + step, THETA) - L(Y0, T - step, THETA)) / (2 * eps)
        onp.testing.assert_allclose(g_t[i], fd, rtol=1e-4, atol=1e-7)
    onp.testing.assert_allclose(loss(np, odeint)(Y0, T, THETA),
                                loss(anp, their_odeint)(Y0, T, THETA), rtol=1e-12)


def test_odeint_gradient_against_finite_differences(client):
    g = adclient.grad(loss(np, odeint), 2)(Y0, T, THETA)
    direction = onp.array([[0.3, -0.1], [0.2, 0.5]])
    eps = 1e-6
    L = loss(np, odeint)
    fd = (L(Y0, T, THETA + eps * direction) - L(Y0, T, THETA - eps * direction)) / (2 * eps)
    onp.testing.assert_allclose(onp.sum(g * direction), fd, rtol=1e-5)


def test_odeint_forward_mode_agrees_with_reverse(client):
    from adclient.test_util import check_grads

    def solution(y0, t, theta):
        return odeint(dynamics(np), y0, t, (theta,), rtol=1e-10, atol=1e-10)

    u = (onp.array([0.2, -0.4]), onp.array([0.0, 0.1, -0.2, 0.3, 0.05]),
         onp.array([[0.5, 0.1], [-0.3, 0.2]]))
    _, forward = adclient.make_jvp(solution, (0, 1, 2))(Y0, T, THETA)(u)
    # <v, J u> from forward mode against <J^T v, u> from reverse mode
    v = onp.random.default_rng(3).standard_normal(forward.shape)
    vjp, _ = adclient.make_vjp(solution, (0, 1, 2))(Y0, T, THETA)
    reverse = sum(onp.sum(a * b) for a, b in zip(vjp(v), u))
    onp.testing.assert_allclose(onp.sum(v * forward), reverse, rtol=1e-6)
    check_grads(lambda theta: solution(Y0, T, theta), modes=["fwd"], order=1)(THETA)
