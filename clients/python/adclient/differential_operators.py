"""autograd.differential_operators: every operator, with autograd's signatures.

The operators themselves are in differential.py (and checkpoint in extend.py); this module
gathers them under autograd's module name, with the helpers autograd's module offers.
"""
from .builtins import tuple as atuple  # noqa: F401
from .differential import (grad, value_and_grad, grad_and_aux, elementwise_grad,  # noqa: F401
                           holomorphic_grad, make_vjp, make_jvp, deriv, jacobian, hessian,
                           make_hvp, hessian_tensor_product, hessian_vector_product,
                           tensor_jacobian_product, vector_jacobian_product, make_ggnvp,
                           grad_named, multigrad_dict)
from .extend import checkpoint, defvjp_argnum, primitive  # noqa: F401
from .vspace import vspace
from .wrap_util import unary_to_nary


@unary_to_nary
def make_jvp_reversemode(fun, x):
    """Forward-mode products from two reverse passes: the VJP of the VJP (linear in its
    cotangent) is the JVP. ``make_jvp_reversemode(fun)(x)(v)`` is J v."""
    vjp, y = make_vjp(fun)(x)
    vjp_of_vjp, _ = make_vjp(vjp)(vspace(y).zeros())
    return vjp_of_vjp
