"""Hessian-vector products without forming the Hessian.

hvp(f)(x, v) is the gradient, with respect to x, of the dot product of v with the gradient
of f: one reverse pass through another, at a cost of a few gradients whatever the size of x.
The full Hessian (the Jacobian of the Jacobian) is built here only to check it.
"""
import numpy

import adclient.numpy as np
from adclient import grad, jacobian


def hvp(fun):
    def vector_dot_grad(arg, vector):
        return np.dot(vector, grad(fun)(arg))
    return grad(vector_dot_grad)


def hessian(fun):
    return jacobian(jacobian(fun))


def f(x):
    """A smooth function of a vector, with every pair of coordinates coupled."""
    return np.sum(np.tanh(x) * x ** 2) + 0.25 * np.dot(x, x) ** 2 + np.sum(np.sin(x[:-1] * x[1:]))


def main():
    rs = numpy.random.RandomState(0)
    x = rs.randn(6)
    v = rs.randn(6)

    product = hvp(f)(x, v)
    H = hessian(f)(x)
    print("hvp(f)(x, v):  ", numpy.array2string(product, precision=6))
    print("hessian(f)(x)@v:", numpy.array2string(H @ v, precision=6))
    return {"x": x, "v": v, "hvp": product, "hessian": H, "hessian_dot_v": H @ v}


if __name__ == "__main__":
    main()
