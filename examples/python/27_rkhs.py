"""Gradient descent over functions: regression in a reproducing kernel Hilbert space.

A function in the RKHS of a kernel k is a finite sum f(x) = sum_i alpha_i k(x, x_i), kept
as a dict from the points x_i to the weights alpha_i. To differentiate with respect to
such a function, the type gets a Box (what traces it) and a VSpace (how to add and scale
its gradients), both registered with ``.register``. Evaluation f(x) is a primitive whose
VJP with respect to f is g times the representer k(., x): so the gradient of the squared
error is itself a function, and gradient steps f + step * gradient stay in the space.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.extend import primitive, defvjp, Box, VSpace
from adclient.util import func


class RKHSFun:
    def __init__(self, kernel, alphas=None):
        self.kernel = kernel
        self.alphas = dict(alphas or {})

    @primitive
    def __call__(self, x):
        return sum((a * self.kernel(x, x_i) for x_i, a in self.alphas.items()), 0.0)

    def __add__(self, other):
        return RKHSFunVSpace(self).add(self, other)

    def __mul__(self, scale):
        return RKHSFunVSpace(self).scalar_mul(self, scale)


# The cotangent of f from an evaluation at x: g times the representer of x.
defvjp(func(RKHSFun.__call__), lambda ans, f, x: lambda g: RKHSFun(f.kernel, {x: 1.0}) * g)


class RKHSFunBox(Box, RKHSFun):
    @property
    def kernel(self):
        return self._value.kernel


RKHSFunBox.register(RKHSFun)


def add_dicts(d1, d2):
    out = dict(d1)
    for key, value in d2.items():
        out[key] = out.get(key, 0.0) + value
    return out


class RKHSFunVSpace(VSpace):
    def __init__(self, value):
        self.kernel = value.kernel

    def zeros(self):
        return RKHSFun(self.kernel)

    def _add(self, f, g):
        assert f.kernel is g.kernel
        return RKHSFun(f.kernel, add_dicts(f.alphas, g.alphas))

    def _scalar_mul(self, f, a):
        return RKHSFun(f.kernel, {x: a * alpha for x, alpha in f.alphas.items()})

    def _inner_prod(self, f, g):
        return sum(a * b * self.kernel(x, y)
                   for x, a in f.alphas.items() for y, b in g.alphas.items())


RKHSFunVSpace.register(RKHSFun)


def radial_basis(x, y, lengthscale=0.5):
    return numpy.exp(-0.5 * (x - y) ** 2 / lengthscale ** 2)


def squared_error(f, xs, ys):
    return sum((f(x) - y) ** 2 for x, y in zip(xs, ys))


def main(num_iters=25, step_size=0.05):
    rs = numpy.random.RandomState(0)
    xs = [float(x) for x in numpy.linspace(-2.0, 2.0, 10)]
    ys = [float(numpy.sin(2 * x) + 0.05 * rs.randn()) for x in xs]
    f = RKHSFun(radial_basis)
    error_gradient = grad(squared_error)
    errors = []
    for _ in range(num_iters):
        errors.append(squared_error(f, xs, ys))
        f = f + error_gradient(f, xs, ys) * (-step_size)
    errors.append(squared_error(f, xs, ys))
    grid = numpy.linspace(-2.0, 2.0, 9)
    print(f"squared error {errors[0]:.4f} -> {errors[-1]:.4f} after {num_iters} steps "
          f"over functions with {len(f.alphas)} representers")
    return {"errors": numpy.array(errors), "fit_on_grid": numpy.array([f(x) for x in grid]),
            "alphas": numpy.array([f.alphas[x] for x in xs])}


if __name__ == "__main__":
    main()
