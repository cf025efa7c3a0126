"""Errors name the shapes, the op and the user's own line, as numpy's and autograd's do."""
import traceback

import numpy as onp
import pytest

import adclient
import adclient.numpy as np
from adclient.errors import DaemonError
from adclient.extend import defvjp, primitive


def numpy_message(call):
    """The message numpy's own function gives for the same mistake."""
    with pytest.raises(Exception) as info:
        call()
    return str(info.value)


def line_of(marker):
    """The line of this file holding ``marker`` (a comment at the end of a line)."""
    with open(__file__) as source:
        for number, text in enumerate(source, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise LookupError(marker)


# --- shape mismatches: numpy's message, the op, the user's line -------------------------------------
@pytest.mark.parametrize("op, a_shape, b_shape", [
    ("dot", (3, 4), (3,)),
    ("dot", (2, 3, 4), (5, 2)),
    ("inner", (3, 4), (3,)),
    ("matmul", (3, 4), (3,)),
    ("matmul", (3,), (4, 2)),
], ids=["dot", "dot_stacks", "inner", "matmul", "matmul_vector_first"])
def test_shape_mismatch_inside_grad_says_what_numpy_says(client, op, a_shape, b_shape):
    a, b = onp.ones(a_shape), onp.ones(b_shape)
    numpys = numpy_message(lambda: getattr(onp, op)(a, b))

    def f(x):
        return np.sum(getattr(np, op)(x, b))  # the failing op

    with pytest.raises(DaemonError) as info:
        adclient.grad(f)(a)
    message = str(info.value)
    assert numpys in message
    assert f"op '{op}'" in message
    assert f"{__file__}:{line_of('the failing op')} in f" in message


def test_tensordot_mismatch_names_the_axes_and_shapes(client):
    a, b = onp.ones((3, 4)), onp.ones((3, 4))
    with pytest.raises(DaemonError) as info:
        adclient.grad(lambda x: np.sum(np.tensordot(x, b, axes=1)))(a)
    message = str(info.value)
    assert numpy_message(lambda: onp.tensordot(a, b, axes=1)) in message   # shape-mismatch
    assert "(3,4)" in message and "length 4" in message and "length 3" in message


# --- an exception in a gradient function of the user's ---------------------------------------------
@primitive
def doubled(x):
    return 2.0 * x


def broken_vjp(ans, x):
    def vjp(g):
        return g * missing_name  # the user's mistake
    return vjp


defvjp(doubled, broken_vjp)


def test_exception_in_a_vjp_points_at_the_user_s_vjp_line(client):
    with pytest.raises(NameError) as info:      # the user's exception, as in autograd
        adclient.grad(lambda x: np.sum(doubled(x)))(onp.ones(3))
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert (last.filename, last.lineno, last.name) == (__file__, line_of("the user's mistake"),
                                                       "vjp")
    assert "missing_name" in str(info.value)
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "'doubled'" in notes and __file__ in notes


def test_exception_in_a_vjp_under_grad_of_grad(client):
    with pytest.raises(NameError) as info:
        adclient.grad(lambda y: np.sum(adclient.grad(lambda x: np.sum(doubled(x) * y))(y)))(
            onp.ones(2))
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert last.lineno == line_of("the user's mistake")


def test_the_session_works_after_a_failed_vjp(client):
    with pytest.raises(NameError):
        adclient.grad(lambda x: np.sum(doubled(x)))(onp.ones(3))
    assert adclient.grad(lambda x: np.sum(x ** 2))(onp.ones(2)).tolist() == [2.0, 2.0]


# --- numpy functions the daemon has no op for ------------------------------------------------------
def test_unique_says_why_and_where_the_ops_are_listed(client):
    with pytest.raises(TypeError) as info:
        adclient.grad(lambda x: np.sum(np.unique(x)))(onp.ones(3))
    message = str(info.value)
    assert "numpy.unique" in message and "docs/OPS.md" in message
    assert "autograd has no gradient for it" in message
    assert "adclient.numpy lists" not in message     # it lists numpy's own unique


def test_a_ufunc_without_an_op_points_at_the_op_list(client):
    with pytest.raises(TypeError) as info:
        adclient.grad(lambda x: np.sum(onp.spacing(x)))(onp.ones(3))
    message = str(info.value)
    assert "numpy.spacing" in message and "docs/OPS.md" in message
