"""A nested value (arrays in tuples, lists and dicts) as one flat vector, and back."""
import numpy as np

from .. import numpy as anp
from .. import tree
from ..proxy import RemoteArray


def _shape(x):
    return x.shape if type(x) is RemoteArray else np.shape(x)


def flatten(value):
    """(flat vector, unflatten): ``unflatten(flat)`` rebuilds a value shaped like ``value``.

    Works on traced values too, so it can be used inside differentiated code. As in
    autograd, a dict contributes its entries in the order of its sorted keys.
    """
    leaves, rebuild = tree.flatten(value, sort_keys=True)
    shapes = [_shape(leaf) for leaf in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    if leaves:
        flat = anp.concatenate([anp.reshape(leaf, (-1,)) if type(leaf) is RemoteArray
                                else np.ravel(leaf) for leaf in leaves])
    else:
        flat = np.zeros(0)

    def unflatten(vector):
        parts, start = [], 0
        for shape, size in zip(shapes, sizes):
            parts.append(anp.reshape(vector[start:start + size], shape))
            start += size
        return rebuild(parts)

    return flat, unflatten


def flatten_func(func, example):
    """``func`` of a nested value as a function of its flat vector: (flat_func, unflatten,
    flat example)."""
    flat_example, unflatten = flatten(example)

    def flat_func(flat, *args):
        return flatten(func(unflatten(flat), *args))[0]

    return flat_func, unflatten, flat_example
