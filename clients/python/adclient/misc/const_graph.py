"""const_graph: autograd's cache of a function's graph of primitive calls.

autograd records the primitives ``fun`` calls on its first call and replays that record
afterwards. adclient's function runs ``fun`` on every call, so it gives the same answers
whenever the control flow does not depend on the arguments (the case const_graph is
meant for); where it does, adclient follows the new branches while autograd would replay
the first call's. To record once and replay on the daemon, use
``grad(fun, optimize=True)``.
"""
from functools import partial

from ..wrap_util import wraps


def const_graph_unary(fun):
    """``fun`` of one argument, for the same use."""
    return fun


def const_graph(fun, *args, **kwargs):
    """``fun`` with ``args`` and ``kwargs`` bound first, as a function of the rest."""
    bound = partial(fun, *args, **kwargs)

    @wraps(fun)
    def graph_fun(*rest):
        return bound(*rest)
    return graph_fun
