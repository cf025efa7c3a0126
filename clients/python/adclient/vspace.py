"""Vector spaces of values (autograd's VSpace), for check_grads and the optimizers.

A value is an array or scalar (real or complex), or a tuple, list or dict of values. The
space knows its shape and provides zeros, ones, random vectors, sums, scaling and the
inner product under which VJPs and JVPs are adjoint. The operations go through
adclient.numpy, so they work on RemoteArrays too.
"""
import numpy as np

from .proxy import RemoteArray


class VSpace:
    """The space of arrays of one shape and dtype; subclasses registered for user types
    (``MyVSpace.register(MyType)``) define zeros, randn, _add, _scalar_mul, _inner_prod."""

    mappings = {}     # value type -> the function that makes its space

    @classmethod
    def register(cls, value_type, vspace_maker=None):
        VSpace.mappings[value_type] = vspace_maker or cls

    def __init__(self, value):
        if type(value) is RemoteArray:
            self.shape, dtype = value.shape, value.dtype
        else:
            arr = np.asarray(value)
            self.shape, dtype = arr.shape, arr.dtype
        self.iscomplex = np.issubdtype(dtype, np.complexfloating)
        self.dtype = np.complex128 if self.iscomplex else np.float64

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ndim(self):
        return len(self.shape)

    def zeros(self):
        return np.zeros(self.shape, self.dtype)

    def ones(self):
        return np.ones(self.shape, self.dtype)

    def randn(self):
        if self.iscomplex:
            return np.random.randn(*self.shape) + 1j * np.random.randn(*self.shape)
        return np.random.randn(*self.shape)

    def standard_basis(self):
        for i in range(self.size):
            v = np.zeros(self.size, self.dtype)
            v[i] = 1
            yield v.reshape(self.shape)

    # The public operations call the underscored ones, which user subclasses override.
    def add(self, x, y):
        return self._add(x, y)

    def scalar_mul(self, x, a):
        return self._scalar_mul(x, a)

    def inner_prod(self, x, y):
        return self._inner_prod(x, y)

    def covector(self, x):
        return self._covector(x)

    def _add(self, x, y):
        return x + y

    def _scalar_mul(self, x, a):
        return x * a

    def _inner_prod(self, x, y):
        from . import numpy as anp
        if self.iscomplex:
            return anp.real(anp.sum(anp.conj(x) * y))
        return anp.sum(x * y)

    def _covector(self, x):
        from . import numpy as anp
        return anp.conj(x) if self.iscomplex else x

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __repr__(self):
        return f"VSpace(shape={self.shape}, complex={self.iscomplex})"


class ContainerVSpace:
    """The product space of a tuple, list or dict of values."""

    def __init__(self, value):
        self.kind = type(value)
        self.keys = list(value) if self.kind is dict else None
        items = value.values() if self.kind is dict else value
        self.spaces = [vspace(v) for v in items]

    def _make(self, parts):
        if self.kind is dict:
            return dict(zip(self.keys, parts))
        return self.kind(parts)

    def _parts(self, value):
        return list(value.values()) if self.kind is dict else list(value)

    @property
    def size(self):
        return sum(s.size for s in self.spaces)

    def zeros(self):
        return self._make([s.zeros() for s in self.spaces])

    def ones(self):
        return self._make([s.ones() for s in self.spaces])

    def randn(self):
        return self._make([s.randn() for s in self.spaces])

    def add(self, x, y):
        return self._make([s.add(a, b) for s, a, b in
                           zip(self.spaces, self._parts(x), self._parts(y))])

    def scalar_mul(self, x, a):
        return self._make([s.scalar_mul(v, a) for s, v in zip(self.spaces, self._parts(x))])

    def inner_prod(self, x, y):
        return sum(s.inner_prod(a, b) for s, a, b in
                   zip(self.spaces, self._parts(x), self._parts(y)))

    def covector(self, x):
        return self._make([s.covector(v) for s, v in zip(self.spaces, self._parts(x))])

    def __eq__(self, other):
        return type(self) is type(other) and self.kind is other.kind and \
            self.keys == other.keys and self.spaces == other.spaces

    def __repr__(self):
        return f"ContainerVSpace({self.kind.__name__}, {self.spaces})"


def vspace(value):
    """The vector space ``value`` belongs to."""
    from .boxes import is_user_box
    if is_user_box(value):
        return vspace(value._value)
    maker = VSpace.mappings.get(type(value))
    if maker is not None:
        return maker(value)
    if isinstance(value, (tuple, list, dict)):
        return ContainerVSpace(value)
    return VSpace(value)
