"""numpy functions through adclient, each against HIPS autograd running the same code.

Every test writes its function once, taking the numpy module as an argument, and runs it
with ``autograd.numpy`` and with ``adclient.numpy``: the values agree to 1e-7, and so do
the gradients in reverse mode and, where autograd has a forward-mode rule, in forward
mode; where autograd raises, adclient raises the same exception type.
"""
import warnings

import numpy as onp
import pytest

import autograd
import autograd.numpy as anp
from autograd.builtins import SequenceBox

import adclient
import adclient.numpy as np

rng = onp.random.RandomState(12)
X = rng.randn(6)
Y = rng.randn(6)
M = rng.randn(3, 4)
SQUARE = rng.randn(4, 4)
CUBE = rng.randn(2, 3, 4)


def close(ours, theirs):
    """Equal to 1e-7, also inside lists, tuples and dicts, and of the same structure."""
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            close(o, t)
        return
    onp.testing.assert_allclose(onp.asarray(ours), onp.asarray(theirs), rtol=1e-7, atol=1e-7)


def quiet(call, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call(*args)


def same_value(f, *args):
    close(quiet(f, np, *args), quiet(f, anp, *args))


def same_grad(f, *args, argnum=0):
    """grad of scalar-valued f(np, *args): the value of f and its gradient match."""
    ours = quiet(adclient.value_and_grad(lambda *a: f(np, *a), argnum), *args)
    theirs = quiet(autograd.value_and_grad(lambda *a: f(anp, *a), argnum), *args)
    close(ours, theirs)


def same_jvp(f, *args, tangent, argnum=0):
    """Forward mode: (f(x), J v) match."""
    ours = quiet(lambda: adclient.make_jvp(lambda *a: f(np, *a), argnum)(*args)(tangent))
    theirs = quiet(lambda: autograd.make_jvp(lambda *a: f(anp, *a), argnum)(*args)(tangent))
    close(ours, theirs)


def same_jacobian(f, *args):
    ours = quiet(adclient.jacobian(lambda *a: f(np, *a)), *args)
    theirs = quiet(autograd.jacobian(lambda *a: f(anp, *a)), *args)
    close(ours, theirs)


def weighted(np, out):
    """A scalar that depends on every element of ``out`` differently (of every array, for
    a list or tuple of arrays)."""
    if isinstance(out, (list, tuple, SequenceBox)):
        return sum(weighted(np, part) * (k + 1) for k, part in enumerate(out))
    return np.sum(np.sin(out) * np.arange(1.0, 1.0 + np.size(out)).reshape(np.shape(out)))


# --- lists of traced values where numpy takes an array ---------------------------------------
@pytest.mark.parametrize("f", [
    lambda np, x, y: np.mean([x, y]),
    lambda np, x, y: weighted(np, np.mean([x, y], axis=0)),
    lambda np, x, y: np.std([x, y]),
    lambda np, x, y: weighted(np, np.std((x, y), axis=0, ddof=1)),
    lambda np, x, y: weighted(np, np.var([x, y], axis=1)),
    lambda np, x, y: weighted(np, np.append([x, y], x)),
    lambda np, x, y: weighted(np, np.append(x, [y[0], x[1]])),
    lambda np, x, y: np.linalg.norm([x, y]),
    lambda np, x, y: np.linalg.norm([x[0], y[1], 2.0]),
    lambda np, x, y: np.max([x[0], y[1], x[2]]),
], ids=["mean", "mean_axis", "std", "std_tuple_ddof", "var", "append_list", "append_values",
        "norm", "norm_scalars", "max_scalars"])
def test_lists_of_traced_values_are_stacked(client, f):
    same_grad(f, X, Y, argnum=(0, 1))
    same_jvp(f, X, Y, tangent=(Y, X), argnum=(0, 1))


# --- r_ and c_ ---------------------------------------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda np, x, y: weighted(np, np.r_[x, y]),
    lambda np, x, y: weighted(np, np.r_[x[:2], 3.0, y, [1.0, 2.0]]),
    lambda np, x, y: weighted(np, np.r_[x[0], y[1]]),
    lambda np, x, y: weighted(np, np.c_[x, y]),
    lambda np, x, y: weighted(np, np.c_[x.reshape(3, 2), y[:3]]),
], ids=["r_arrays", "r_mixed", "r_scalars", "c_columns", "c_matrix_and_column"])
def test_index_tricks_trace_their_items(client, f):
    same_grad(f, X, Y, argnum=(0, 1))


def test_index_tricks_on_plain_values_are_numpy_s():
    close(np.r_[1:4, 7.0], onp.r_[1:4, 7.0])
    close(np.c_[onp.ones(2), onp.zeros(2)], onp.c_[onp.ones(2), onp.zeros(2)])


# --- the split family and row_stack ---------------------------------------------------------------
@pytest.mark.parametrize("f, x", [
    (lambda np, x: np.split(x, 3), X),
    (lambda np, x: np.split(x, [1, 4]), X),
    (lambda np, x: np.array_split(x, 4), X),
    (lambda np, x: np.hsplit(x, 2), M),
    (lambda np, x: np.vsplit(x, [1]), M),
    (lambda np, x: np.dsplit(x, [1, 3]), CUBE),
    (lambda np, x: np.split(x, 2, axis=1), M),
], ids=["split", "split_indices", "array_split", "hsplit", "vsplit", "dsplit", "split_axis"])
def test_split_family_gives_a_list_of_arrays(client, f, x):
    same_value(f, x)
    ours = quiet(lambda: adclient.grad(lambda x: f(np, x)[1].sum())(x))
    assert isinstance(quiet(lambda: f(np, x)), list)
    same_grad(lambda np, x: weighted(np, f(np, x)), x)
    same_jvp(lambda np, x: weighted(np, f(np, x)), x, tangent=onp.cos(x))
    close(ours, autograd.grad(lambda x: f(anp, x)[1].sum())(x))


def test_split_outputs_as_a_list_have_elementwise_gradients(client):
    close(quiet(adclient.elementwise_grad(lambda x: np.split(x, 3)), X),
          quiet(autograd.elementwise_grad(lambda x: anp.split(x, 3)), X))


def test_row_stack(client):
    f = lambda np, x, y: weighted(np, np.row_stack([x, y]))
    same_grad(f, X, Y, argnum=(0, 1))
    same_jvp(f, X, Y, tangent=(Y, X), argnum=(0, 1))


# --- single functions ----------------------------------------------------------------------------
def test_swapaxes_with_keyword_axes(client):
    f = lambda np, x: weighted(np, np.swapaxes(x, axis1=0, axis2=2))
    same_grad(f, CUBE)
    same_jvp(f, CUBE, tangent=onp.cos(CUBE))


@pytest.mark.parametrize("f", [
    lambda np, x, y: weighted(np, x % 0.4),
    lambda np, x, y: weighted(np, 2.5 % (y + 3.0)),
    lambda np, x, y: weighted(np, x % (y + 3.0)),
], ids=["array_number", "number_array", "array_array"])
def test_modulo_operator(client, f):
    same_grad(f, X, Y, argnum=(0, 1))
    same_jvp(f, X, Y, tangent=(Y, X), argnum=(0, 1))


@pytest.mark.parametrize("f", [
    lambda np, x: weighted(np, np.select([x > 0.5, x < -0.5], [x ** 2, x ** 3])),
    lambda np, x: weighted(np, np.select([x > 0], [x], default=-x)),
    lambda np, x: weighted(np, np.select([x > 0, x > 1], [x, 2.0 * x], 1.5)),
], ids=["two_choices", "traced_default", "first_condition_wins"])
def test_select(client, f):
    same_grad(f, X)


@pytest.mark.parametrize("f, x", [
    (lambda np, x: np.gradient(x), X),
    (lambda np, x: np.gradient(x, axis=1), SQUARE),
    (lambda np, x: np.gradient(x), SQUARE),
    (lambda np, x: np.gradient(x, axis=(0, 1)), SQUARE),
], ids=["vector", "axis", "matrix_all_axes", "axis_tuple"])
def test_gradient(client, f, x):
    same_value(f, x)
    same_grad(lambda np, x: weighted(np, f(np, x)), x)
    same_jvp(f, x, tangent=onp.cos(x))


def test_gradient_of_several_axes_is_a_tuple(client):
    parts = quiet(lambda: adclient.grad(lambda x: np.sum(np.gradient(x)[1] ** 2))(SQUARE))
    close(parts, autograd.grad(lambda x: anp.sum(anp.gradient(x)[1] ** 2))(SQUARE))
    ours = adclient.make_jvp(lambda x: np.gradient(x))(SQUARE)(SQUARE)[0]
    assert isinstance(ours, tuple) and len(ours) == 2


@pytest.mark.parametrize("x", [SQUARE, M, M.T, CUBE], ids=["square", "wide", "tall", "stack"])
def test_pinv(client, x):
    same_grad(lambda np, x: weighted(np, np.linalg.pinv(x)), x)
    same_jacobian(lambda np, x: np.linalg.pinv(x), x)


def test_make_diagonal(client):
    f = lambda np, x: weighted(np, np.make_diagonal(x, axis1=-1, axis2=-2))
    same_value(lambda np, x: np.make_diagonal(x, axis1=-1, axis2=-2), M)
    same_grad(f, M)
    same_jvp(f, M, tangent=onp.cos(M))
    for np_ in (np, anp):
        with pytest.raises(NotImplementedError):
            np_.make_diagonal(M)


@pytest.mark.parametrize("f", [
    lambda np, x: weighted(np, np.diagonal(x, axis1=-1, axis2=-2)),
    lambda np, x: weighted(np, np.diagonal(x, 0, -1, -2)),
    lambda np, x: weighted(np, x.diagonal(axis1=-1, axis2=-2)),
], ids=["keywords", "positional", "method"])
def test_diagonal_of_the_last_two_axes(client, f):
    x = rng.randn(2, 3, 3)
    same_grad(f, x)
    same_jvp(f, x, tangent=onp.cos(x))


@pytest.mark.parametrize("f, x", [
    (lambda np, x: np.max(x), onp.array([1.0, 3.0, 3.0, 3.0, 0.0])),
    (lambda np, x: np.min(x), onp.array([2.0, -1.0, -1.0, 5.0, -1.0])),
    (lambda np, x: weighted(np, np.max(x, axis=0)), onp.ones((3, 2))),
    (lambda np, x: weighted(np, np.min(x, axis=1, keepdims=True)), onp.ones((2, 3))),
    (lambda np, x: x.max(), onp.full(3, 2.0)),
    (lambda np, x: np.amin(x), onp.full(3, 2.0)),
], ids=["max", "min", "max_axis", "min_keepdims", "method", "amin"])
def test_three_way_ties_split_the_gradient_equally(client, f, x):
    same_grad(f, x)
    same_jvp(f, x, tangent=onp.arange(1.0, 1.0 + x.size).reshape(x.shape))


# --- forward mode for einsum; std's gradient ----------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda np, x, y: weighted(np, np.einsum("ij,kj->ik", x, y)),
    lambda np, x, y: np.einsum("ij,ij", x, y),
    lambda np, x, y: weighted(np, np.einsum(x, [0, 1], y, [2, 1], [0, 2])),
    lambda np, x, y: weighted(np, np.einsum(x, [Ellipsis, 1], y, [Ellipsis, 1], [Ellipsis])),
], ids=["explicit", "implicit", "sublists", "sublists_ellipsis"])
def test_einsum_both_modes(client, f):
    y = rng.randn(3, 4)
    same_grad(f, M, y, argnum=(0, 1))
    same_jvp(f, M, y, tangent=(onp.cos(M), onp.sin(y)), argnum=(0, 1))
    same_jvp(f, M, y, tangent=onp.cos(y), argnum=1)


@pytest.mark.parametrize("kwargs", [
    {}, {"axis": 0}, {"axis": 1, "ddof": 1}, {"ddof": 2}, {"axis": (0, 2), "keepdims": True},
    {"axis": -1, "ddof": 1, "keepdims": True},
], ids=str)
def test_std_gradient(client, kwargs):
    f = lambda np, x: weighted(np, np.std(x, **kwargs))
    same_grad(f, CUBE)
    same_jvp(f, CUBE, tangent=onp.cos(CUBE))


def test_std_over_one_element_has_zero_gradient(client):
    x = rng.randn(3, 1)
    same_grad(lambda np, x: weighted(np, np.std(x, axis=1)), x)
    same_grad(lambda np, x: np.std(x[0]), x)


# --- what grad returns and raises -------------------------------------------------------------------
@pytest.mark.parametrize("f", [
    lambda np, x: np.sum(x) * 1j,
    lambda np, x: np.sum(np.exp(1j * x)),
], ids=["times_i", "exp"])
def test_grad_of_complex_output_is_a_type_error(client, f):
    with pytest.raises(TypeError):
        autograd.grad(lambda x: f(anp, x))(X)
    with pytest.raises(TypeError):
        quiet(adclient.grad(lambda x: f(np, x)), X)
    with pytest.raises(TypeError):
        quiet(adclient.value_and_grad(lambda x: f(np, x)), X)


def test_grad_of_non_scalar_output_is_a_type_error(client):
    with pytest.raises(TypeError):
        autograd.grad(lambda x: anp.sin(x))(X)
    with pytest.raises(TypeError):
        adclient.grad(lambda x: np.sin(x))(X)


@pytest.mark.parametrize("args", [
    (1.5, 2.0), (onp.float64(1.5), onp.float64(2.0)), (onp.float32(1.5), onp.float32(2.0)),
    (onp.array(1.5), 2.0),
], ids=["float", "float64", "float32", "array0d"])
def test_gradient_types_of_several_arguments_are_autograd_s(client, args):
    f = lambda x, y: x * y ** 2
    ours = adclient.grad(f, (0, 1))(*args)
    theirs = autograd.grad(f, (0, 1))(*args)
    assert type(ours) is type(theirs)
    for o, t in zip(ours, theirs):
        assert type(o) is type(t) and o.dtype == t.dtype and onp.shape(o) == onp.shape(t)
        close(o, t)
    _, ours = adclient.value_and_grad(f, (0, 1))(*args)
    assert [type(o) for o in ours] == [type(t) for t in theirs]


@pytest.mark.parametrize("f, arg", [
    (lambda d: d["a"] * d["b"], {"a": onp.float64(1.5), "b": 2.0}),
    (lambda d: d[0] * d[1], [onp.float64(1.5), 2.0]),
], ids=["dict", "list"])
def test_gradient_types_in_containers_are_autograd_s(client, f, arg):
    ours, theirs = adclient.grad(f)(arg), autograd.grad(f)(arg)
    assert type(ours) is type(theirs)
    for key in (ours if isinstance(ours, dict) else range(len(ours))):
        assert type(ours[key]) is type(theirs[key])
        close(ours[key], theirs[key])


@pytest.mark.parametrize("x", [1.5, onp.float64(1.5), onp.float32(1.5)],
                         ids=["float", "float64", "float32"])
def test_gradient_type_of_one_number_is_autograd_s(client, x):
    ours, theirs = adclient.grad(np.sin)(x), autograd.grad(anp.sin)(x)
    assert type(ours) is type(theirs)
    close(ours, theirs)
