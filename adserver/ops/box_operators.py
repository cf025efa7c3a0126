"""Python operators on Box, so that rules read like the math (``g * y``)."""
from ..engine.tracer import Box
from . import numpy_ops as P


def _r(f):
    return lambda self, other: f(other, self)


Box.__add__ = lambda self, other: P.add(self, other)
Box.__radd__ = _r(P.add)
Box.__sub__ = lambda self, other: P.subtract(self, other)
Box.__rsub__ = _r(P.subtract)
Box.__mul__ = lambda self, other: P.multiply(self, other)
Box.__rmul__ = _r(P.multiply)
Box.__truediv__ = lambda self, other: P.divide(self, other)
Box.__rtruediv__ = _r(P.divide)
Box.__pow__ = lambda self, other: P.power(self, other)
Box.__rpow__ = _r(P.power)
Box.__matmul__ = lambda self, other: P.matmul(self, other)
Box.__rmatmul__ = _r(P.matmul)
Box.__neg__ = lambda self: P.negative(self)
Box.__abs__ = lambda self: P.absolute(self)
Box.__getitem__ = lambda self, index: P.getitem(self, index)
Box.__lt__ = lambda self, other: P.less(self, other)
Box.__le__ = lambda self, other: P.less_equal(self, other)
Box.__gt__ = lambda self, other: P.greater(self, other)
Box.__ge__ = lambda self, other: P.greater_equal(self, other)
Box.T = property(lambda self: P.transpose(self))
