"""autograd.misc: flattening nested values, optimizers, fixed points, and const_graph."""
from .flatten import flatten, flatten_func  # noqa: F401
from .tracers import const_graph  # noqa: F401
from . import optimizers, fixed_points, tracers  # noqa: F401
