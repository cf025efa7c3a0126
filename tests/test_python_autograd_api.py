"""adclient has every public name of HIPS autograd's API, and code that inspects traced
values the way autograd programs do keeps working."""
import numpy as onp
import pytest

import autograd
import autograd.extend
import autograd.misc
import autograd.misc.optimizers
import autograd.test_util

import adclient
import adclient.extend
import adclient.misc
import adclient.misc.optimizers
import adclient.test_util
import adclient.numpy as np
import adclient.scipy.special
from adclient.test_util import check_grads

# autograd's modules and the names a program written for it may import from them
API = {
    (autograd, adclient): [
        "grad", "elementwise_grad", "value_and_grad", "grad_and_aux", "jacobian",
        "hessian", "make_vjp", "make_jvp", "deriv", "make_hvp", "hessian_tensor_product",
        "hessian_vector_product", "tensor_jacobian_product", "vector_jacobian_product",
        "make_ggnvp", "holomorphic_grad", "grad_named", "multigrad_dict", "checkpoint",
        "primitive", "tuple", "list", "dict", "isinstance", "type"],
    (autograd.extend, adclient.extend): [
        "primitive", "notrace_primitive", "defvjp", "defvjp_argnum", "defvjp_argnums",
        "defjvp", "defjvp_argnum", "defjvp_argnums", "def_linear", "Box", "VSpace",
        "vspace"],
    (autograd.misc.optimizers, adclient.misc.optimizers): ["sgd", "rmsprop", "adam"],
    (autograd.test_util, adclient.test_util): [
        "check_grads", "combo_check", "check_vjp", "check_jvp"],
}


@pytest.mark.parametrize("theirs,ours,name", [
    pytest.param(theirs, ours, name, id=f"{theirs.__name__}.{name}")
    for (theirs, ours), names in API.items() for name in names])
def test_every_autograd_name_exists(theirs, ours, name):
    assert hasattr(theirs, name), f"{theirs.__name__}.{name} is not autograd's"
    assert hasattr(ours, name), f"adclient lacks {theirs.__name__}.{name}"


def test_misc_flatten_and_fixed_point():
    from adclient.misc import flatten, flatten_func  # noqa: F401
    from adclient.misc.fixed_points import fixed_point  # noqa: F401


def test_inspection_inside_traced_code(client):
    def f(x):
        assert not np.iscomplexobj(x)
        assert np.allclose(x, [0.5, 1.5])
        assert onp.allclose(x, [0.5, 1.5])           # plain numpy on a traced value
        assert onp.shape(x) == (2,) and onp.ndim(x) == 1
        return np.sum(x ** 2)
    onp.testing.assert_allclose(adclient.grad(f)(onp.array([0.5, 1.5])), [1.0, 3.0])


def test_unsupported_numpy_call_on_traced_value_is_an_error(client):
    with pytest.raises(TypeError, match="numpy.unwrap is not supported on a RemoteArray"):
        adclient.grad(lambda x: np.sum(onp.unwrap(x)))(onp.ones(3))


def test_repr_shows_value_shape_and_trace_level(client):
    seen = []
    adclient.grad(lambda x: (seen.append(repr(x)), np.sum(x))[1])(onp.ones(2))
    assert "shape=(2,)" in seen[0] and "trace_level=1" in seen[0] and "1." in seen[0]


@pytest.mark.parametrize("fun", [
    lambda x: np.linalg.det(x @ x.T + np.eye(2)),
    lambda x: np.sum(np.fft.fft(x[0]) * np.conj(np.fft.fft(x[1]))).real,
    lambda x: np.sum(adclient.scipy.special.gammaln(x ** 2 + 1.0)),
    lambda x: np.sum(np.sort(x, axis=1) * np.cumsum(x, axis=0)),
], ids=["det", "fft", "gammaln", "sort_cumsum"])
def test_check_grads_order_2_both_modes_across_families(client, fun):
    check_grads(fun, modes=["fwd", "rev"], order=2)(onp.array([[0.3, -0.8], [1.1, 0.4]]))
