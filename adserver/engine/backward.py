"""The reverse pass, as a generator that a session can suspend.

``backward`` yields a CallbackRequest whenever it meets a node made by a primitive whose
rules live in a client, and expects the list of cotangents (one per parent) to be sent
back in. Nothing else suspends it, so a pass over built-in ops runs straight through.
"""

class CallbackRequest:
    """Ask the client that owns ``node.prim`` for the cotangents of ``node``'s parents."""

    __slots__ = ("node", "g")

    def __init__(self, node, g):
        self.node = node
        self.g = g


def toposort(end):
    """Nodes reachable from ``end``, each after every node that consumes it."""
    child_counts = {}
    stack = [end]
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(node.parents)
    child_counts[end] -= 1
    ready = [end]
    while ready:
        node = ready.pop()
        yield node
        for parent in node.parents:
            if child_counts[parent] == 1:
                ready.append(parent)
            else:
                child_counts[parent] -= 1


def backward(end_node, g, start_nodes, add, check=None):
    """Generator: cotangents of ``start_nodes`` given cotangent ``g`` of ``end_node``.

    ``add`` sums two cotangents (a primitive, so that sums are traced when an outer level
    is active). ``check``, if given, is called before each node, and may stop the pass by
    raising (a daemon uses it for time limits and cancellation). A start node the end does
    not depend on gets None; the caller fills zeros. Returns (via StopIteration) the list
    of cotangents in the order of ``start_nodes``.
    """
    wanted = {node: i for i, node in enumerate(start_nodes)}
    results = [None] * len(start_nodes)
    outgrads = {end_node: g}
    for node in toposort(end_node):
        og = outgrads.pop(node, None)
        if og is None:
            continue
        if check is not None:
            check()
        i = wanted.get(node)
        if i is not None:
            results[i] = og
        if not node.parents:
            continue
        prim = node.prim
        if prim.client is not None:
            ingrads = yield CallbackRequest(node, og)
        else:
            ingrads = [prim.vjp(argnum, og, node) for argnum in node.argnums]
        for parent, ingrad in zip(node.parents, ingrads):
            if ingrad is None:
                continue
            prev = outgrads.get(parent)
            outgrads[parent] = ingrad if prev is None else add(prev, ingrad)
    # Start nodes have no parents, so each one's cotangent was complete when it was popped.
    return results
