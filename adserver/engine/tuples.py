"""Primitives whose answer is a tuple (eigh, svd, slogdet, ...).

Such an answer is boxed as one value; its elements are taken out with ``tuple_item``,
whose cotangent is a tuple holding the element's cotangent and None for the others. The
tuple-valued op's own rules therefore see a tuple ``g`` (None for outputs nobody used)
in reverse mode, and return a tuple tangent in forward mode.
"""
from .tracer import Primitive, getval_all


def _item(t, i):
    return t[i]


tuple_item = Primitive("tuple_item", _item)
tuple_item.defvjp(lambda g, ans, t, i: tuple(g if j == i else None
                                             for j in range(len(getval_all(t)))))
tuple_item.defjvp(lambda t, ans, value, i: t[i])


def is_tuple_value(x):
    """Whether ``x``, traced or not, holds a tuple-valued answer."""
    return isinstance(getval_all(x), tuple)


def accumulate(add):
    """A sum of cotangents (or tangents) that also sums tuples element by element."""
    def total(a, b):
        if isinstance(a, tuple):
            return tuple(y if x is None else x if y is None else total(x, y)
                         for x, y in zip(a, b))
        return add(a, b)
    return total
