"""autograd.tracer's names, for code that extends autograd.

Tracing happens on the daemon (traced arrays are RemoteArrays) and, for values of
registered user types, in the client (user_types.py). What user code touches is here:
``primitive``, ``notrace_primitive``, ``Box`` (with ``register``), ``isbox``, ``getval``,
``new_box`` and ``Node``. autograd's own trace graph is not built in the client, so
``trace`` (which returns the end node of that graph) raises NotImplementedError, and
``register_notrace`` only records its request (see docs/AUTOGRAD.md).
"""
from .boxes import (Box, Node, box_type_mappings, box_types, getval, isbox,  # noqa: F401
                    new_box, notrace_primitives, register_notrace)
from .extend import primitive, notrace_primitive  # noqa: F401
from .util import subvals, toposort  # noqa: F401
from .wrap_util import wraps  # noqa: F401

def trace(start_node, fun, x):
    raise NotImplementedError(
        "adclient records traces on the daemon, not as a graph of Nodes in the client: "
        "use grad, make_vjp or make_jvp (or adclient.misc.const_graph) instead of trace")
