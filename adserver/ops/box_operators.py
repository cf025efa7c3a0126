"""Python operators on Box, so that rules read like the math (``g * y``)."""
from ..engine.tracer import Box
from .registry import P


def _r(name):
    return lambda self, other: getattr(P, name)(other, self)


def _f(name):
    return lambda self, other: getattr(P, name)(self, other)


for _dunder, _op in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "divide"), ("pow", "power"), ("matmul", "matmul")]:
    setattr(Box, f"__{_dunder}__", _f(_op))
    setattr(Box, f"__r{_dunder}__", _r(_op))
for _dunder, _op in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal")]:
    setattr(Box, f"__{_dunder}__", _f(_op))
Box.__neg__ = lambda self: P.negative(self)
Box.__abs__ = lambda self: P.absolute(self)
Box.__getitem__ = lambda self, index: P.getitem(self, index)
Box.T = property(lambda self: P.transpose(self))
# numpy must hand mixed expressions (ndarray * Box) to Box's reflected operators rather
# than treat a Box as an opaque object inside an object array.
Box.__array_ufunc__ = None
