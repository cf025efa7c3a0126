"""numpy, for code that adclient differentiates.

``import adclient.numpy as np`` in place of ``import autograd.numpy as np``. A function
called on plain values runs numpy's own function, here, with no daemon traffic; called
with a RemoteArray among its arguments, it becomes one op on the daemon. Names this
module does not wrap (constants, constructors, ``np.random``, ...) are numpy's own.
"""
import numpy as _np

from ..proxy import RemoteArray, call as _call

wrapped = {}


def _has_remote(args):
    for a in args:
        t = type(a)
        if t is RemoteArray:
            return True
        if (t is list or t is tuple) and _has_remote(a):
            return True
    return False


def _wrap(name, np_name=None):
    local = getattr(_np, np_name or name)

    def f(*args, **kwargs):
        if _has_remote(args) or _has_remote(kwargs.values()):
            return _call(name, args, kwargs or None)
        return local(*args, **kwargs)

    f.__name__ = np_name or name
    f.__qualname__ = f.__name__
    f.__doc__ = f"numpy.{f.__name__}, run on the daemon when an argument is a RemoteArray."
    wrapped[f.__name__] = f
    return f


negative = _wrap("negative")
exp = _wrap("exp")
log = _wrap("log")
sin = _wrap("sin")
cos = _wrap("cos")
tan = _wrap("tan")
sinh = _wrap("sinh")
cosh = _wrap("cosh")
tanh = _wrap("tanh")
sqrt = _wrap("sqrt")
absolute = _wrap("absolute")
abs = _wrap("absolute", "abs")
add = _wrap("add")
subtract = _wrap("subtract")
multiply = _wrap("multiply")
divide = _wrap("divide")
true_divide = _wrap("divide", "true_divide")
power = _wrap("power")
maximum = _wrap("maximum")
minimum = _wrap("minimum")
where = _wrap("where")
floor = _wrap("floor")
ceil = _wrap("ceil")
sign = _wrap("sign")
equal = _wrap("equal")
not_equal = _wrap("not_equal")
less = _wrap("less")
less_equal = _wrap("less_equal")
greater = _wrap("greater")
greater_equal = _wrap("greater_equal")
sum = _wrap("sum")
mean = _wrap("mean")
dot = _wrap("dot")
matmul = _wrap("matmul")
tensordot = _wrap("tensordot")
reshape = _wrap("reshape")
transpose = _wrap("transpose")
swapaxes = _wrap("swapaxes")
broadcast_to = _wrap("broadcast_to")
expand_dims = _wrap("expand_dims")
squeeze = _wrap("squeeze")
concatenate = _wrap("concatenate")
zeros_like = _wrap("zeros_like")
ones_like = _wrap("ones_like")
argmax = _wrap("argmax")
argmin = _wrap("argmin")


def __getattr__(name):
    # Everything not wrapped above is numpy's own: constants, dtypes, constructors,
    # numpy.random (so seeded inputs match plain numpy), numpy.linalg on local arrays.
    return getattr(_np, name)
