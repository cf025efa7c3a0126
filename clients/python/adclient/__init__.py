"""adclient: HIPS autograd's API, computed by an adserver daemon.

    import adclient.numpy as np
    from adclient import grad

    grad(lambda x: np.sum(np.tanh(x)))(np.linspace(-1, 1, 5))

With ADSERVER_ADDRESS unset, the first call starts a private daemon for this process.
"""
from .differential import (
    grad, value_and_grad, grad_and_aux, elementwise_grad, holomorphic_grad, make_vjp,
    make_jvp, deriv, jacobian, hessian, make_hvp, hessian_tensor_product,
    hessian_vector_product, tensor_jacobian_product, vector_jacobian_product, make_ggnvp,
    grad_named, multigrad_dict,
)
from .extend import primitive, defvjp, checkpoint
from .builtins import tuple, list, dict, isinstance, type
from .proxy import RemoteArray
from .errors import DaemonError, SessionLost
from .session import get_session
from .remote import remote, publish, shared, unpublish
# autograd's modules, importable as attributes of the package as they are in autograd
from . import core, differential_operators, numpy, tracer, util, wrap_util  # noqa: E402,F401

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "grad_and_aux", "elementwise_grad", "holomorphic_grad",
    "make_vjp", "make_jvp", "deriv", "jacobian", "hessian", "make_hvp",
    "hessian_tensor_product", "hessian_vector_product", "tensor_jacobian_product",
    "vector_jacobian_product", "make_ggnvp", "grad_named", "multigrad_dict",
    "primitive", "defvjp", "checkpoint", "tuple", "list", "dict", "isinstance", "type",
    "RemoteArray", "remote", "publish", "shared", "unpublish", "DaemonError", "SessionLost", "get_session",
]
