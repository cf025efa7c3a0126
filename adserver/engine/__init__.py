"""The autodiff core: boxes and nodes, primitives, and the reverse pass.

Nothing here does I/O. A backward pass is a generator so that the session can suspend
it while a client computes a gradient it defined itself.
"""
from .tracer import (Box, Node, ForwardNode, Primitive, getval, getval_all, new_box,
                     trace_level)
from .backward import backward, CallbackRequest, cotangent_dtype, zero_cotangent
from .errors import EngineError, NotDifferentiable

__all__ = [
    "Box", "Node", "ForwardNode", "Primitive", "getval", "getval_all", "new_box", "trace_level",
    "backward", "CallbackRequest", "cotangent_dtype", "zero_cotangent", "EngineError", "NotDifferentiable",
]
