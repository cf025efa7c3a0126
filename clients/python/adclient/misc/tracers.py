"""autograd.misc.tracers: const_graph (see const_graph.py).

autograd's full_graph, ConstGraphNode and FullGraphNode expose its client-side graph of
primitive calls, which adclient does not build (the daemon holds the trace).
"""
from ..boxes import Node  # noqa: F401
from ..tracer import trace  # noqa: F401
from ..util import subvals, toposort  # noqa: F401
from ..wrap_util import wraps  # noqa: F401
from .const_graph import const_graph, const_graph_unary  # noqa: F401
