"""Nested tuples, lists and dicts of arrays: flatten to leaves and rebuild."""


def flatten(x, sort_keys=False):
    """(leaves, rebuild): ``rebuild(new_leaves)`` makes a container shaped like ``x``.

    With ``sort_keys`` a dict's leaves come in the order of its sorted keys, as in
    autograd's misc.flatten (the flat vectors optimizers walk); the rebuilt dict keeps the
    original order of its keys either way.
    """
    leaves = []
    spec = _spec(x, leaves, sort_keys)
    return leaves, lambda new: _build(spec, iter(new))


def _spec(x, leaves, sort_keys):
    t = type(x)
    if t is tuple or t is list:
        return (t, [_spec(v, leaves, sort_keys) for v in x])
    if t is dict:
        keys = sorted(x) if sort_keys else list(x)
        return (dict, list(x), [(k, _spec(x[k], leaves, sort_keys)) for k in keys])
    leaves.append(x)
    return None


def _build(spec, it):
    if spec is None:
        return next(it)
    if spec[0] is dict:
        _, order, items = spec
        built = {k: _build(s, it) for k, s in items}
        return {k: built[k] for k in order}
    t, items = spec
    return t(_build(s, it) for s in items)
