"""Nested tuples, lists and dicts of arrays: flatten to leaves and rebuild."""


def flatten(x):
    """(leaves, rebuild): ``rebuild(new_leaves)`` makes a container shaped like ``x``."""
    leaves = []
    spec = _spec(x, leaves)
    return leaves, lambda new: _build(spec, iter(new))


def _spec(x, leaves):
    t = type(x)
    if t is tuple or t is list:
        return (t, [_spec(v, leaves) for v in x])
    if t is dict:
        return (dict, [(k, _spec(v, leaves)) for k, v in x.items()])
    leaves.append(x)
    return None


def _build(spec, it):
    if spec is None:
        return next(it)
    t, items = spec
    if t is dict:
        return {k: _build(s, it) for k, s in items}
    return t(_build(s, it) for s in items)
