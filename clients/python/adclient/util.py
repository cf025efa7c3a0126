"""autograd.util: small helpers on argument tuples and graphs, and quick_grad_check."""
import operator
import warnings


def subvals(x, ivs):
    """The tuple ``x`` with the values at the given (index, value) pairs replaced."""
    items = list(x)
    for i, v in ivs:
        items[i] = v
    return tuple(items)


def subval(x, i, v):
    return subvals(x, [(i, v)])


def func(f):
    """``f`` itself (autograd uses it to name the function behind a method)."""
    return f


def toposort(end_node, parents=operator.attrgetter("parents")):
    """The nodes reachable from ``end_node``, each after every node that depends on it."""
    pending_children = {}
    stack = [end_node]
    while stack:
        node = stack.pop()
        if node in pending_children:
            pending_children[node] += 1
        else:
            pending_children[node] = 1
            stack.extend(parents(node))
    ready = [end_node]
    while ready:
        node = ready.pop()
        yield node
        for parent in parents(node):
            pending_children[parent] -= 1
            if pending_children[parent] == 0:
                ready.append(parent)


deprecation_msg = ("quick_grad_check is deprecated (as in autograd): use "
                   "adclient.test_util.check_grads")


def quick_grad_check(fun, arg0, extra_args=(), kwargs={}, verbose=True, eps=1e-4,
                     rtol=1e-4, atol=1e-6, rs=None):
    """Reverse-mode first-order check_grads of ``fun`` in its first argument."""
    warnings.warn(deprecation_msg)
    from .test_util import check_grads
    check_grads(lambda x: fun(x, *extra_args, **kwargs), modes=["rev"], order=1)(arg0)
