"""autograd.misc: flattening nested values, optimizers, and fixed points."""
from .flatten import flatten, flatten_func  # noqa: F401
from . import optimizers, fixed_points  # noqa: F401
