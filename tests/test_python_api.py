"""autograd's differential operators through adclient, each against HIPS autograd."""
import warnings

import numpy as onp
import pytest

import autograd
import autograd.numpy as anp

import adclient
import adclient.numpy as np

X = onp.array([0.3, -0.7, 1.1])
V = onp.array([1.0, 0.5, -2.0])


def f(x, np=np):
    return np.sum(np.sin(x) * np.dot(x, x))


def vector_f(x, np=np):
    return np.sin(x) * x + np.tanh(x[::-1])


def close(a, b):
    onp.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["jacobian", "elementwise_grad"])
def test_vector_operators(client, name):
    ours = getattr(adclient, name)(vector_f)(X)
    theirs = getattr(autograd, name)(lambda x: vector_f(x, anp))(X)
    close(ours, theirs)


@pytest.mark.parametrize("name", ["grad", "hessian", "deriv"])
def test_scalar_operators(client, name):
    ours = getattr(adclient, name)(f)(X)
    theirs = getattr(autograd, name)(lambda x: f(x, anp))(X)
    close(ours, theirs)


def test_make_jvp_is_forward_mode(client):
    value, tangent = adclient.make_jvp(vector_f)(X)(V)
    their_value, their_tangent = autograd.make_jvp(lambda x: vector_f(x, anp))(X)(V)
    close(value, their_value)
    close(tangent, their_tangent)


def test_hessian_products(client):
    af = lambda x: f(x, anp)
    close(adclient.hessian_vector_product(f)(X, V), autograd.hessian_vector_product(af)(X, V))
    close(adclient.hessian_tensor_product(f)(X, V), autograd.hessian_tensor_product(af)(X, V))
    hvp, g = adclient.make_hvp(f)(X)
    their_hvp, their_g = autograd.make_hvp(af)(X)
    close(hvp(V), their_hvp(V))
    close(g, their_g)


def test_jacobian_products(client):
    av = lambda x: vector_f(x, anp)
    close(adclient.vector_jacobian_product(vector_f)(X, V),
          autograd.vector_jacobian_product(av)(X, V))
    close(adclient.tensor_jacobian_product(vector_f)(X, V),
          autograd.tensor_jacobian_product(av)(X, V))
    close(adclient.make_ggnvp(vector_f)(X)(V), autograd.make_ggnvp(av)(X)(V))


def test_argnum_tuple_and_names(client):
    g = lambda a, b: np.sum(a * b ** 2)
    ga, gb = adclient.grad(g, (0, 1))(X, V)
    close(ga, V ** 2)
    close(gb, 2 * X * V)
    close(adclient.grad_named(g, "b")(X, V), 2 * X * V)
    with pytest.raises(ValueError, match="no argument named 'c'"):
        adclient.grad_named(g, "c")


def test_multigrad_dict_gives_every_argument(client):
    def h(a, b, scale=2.0):
        return np.sum(a * b) * scale

    grads = adclient.multigrad_dict(h)(X, V)
    assert set(grads) == {"a", "b", "scale"}
    close(grads["a"], 2.0 * V)
    close(grads["b"], 2.0 * X)
    close(grads["scale"], onp.sum(X * V))


def test_grad_and_aux_and_holomorphic(client):
    g, aux = adclient.grad_and_aux(lambda x: (np.sum(x ** 2), "aux"))(X)
    close(g, 2 * X)
    assert aux == "aux"
    z = 1.0 + 1.0j
    close(adclient.holomorphic_grad(np.sin)(z), onp.cos(z))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adclient.holomorphic_grad(np.sin)(1.0)
    assert any("not complex" in str(w.message) for w in caught)


def test_jacobian_sends_all_rows_in_one_round_trip(client):
    adclient.jacobian(vector_f)(X)
    before = client.round_trips
    adclient.jacobian(vector_f)(X)
    # one for the output's shape, one for all the rows
    assert client.round_trips - before == 2
