"""Derivatives of sin, three ways: grad mapped over points, grad of grad, elementwise_grad.

grad takes a scalar function to its derivative, so grad(grad(np.sin)) is -sin. Mapped over
points one call at a time, or applied to a whole array at once by elementwise_grad, the
answers are the same.
"""
import numpy

import adclient.numpy as np
from adclient import grad, elementwise_grad


def fun(x):
    return np.sin(x)


def main(points=25):
    x = numpy.linspace(-7.0, 7.0, points)
    d_fun = grad(fun)
    dd_fun = grad(d_fun)
    first = numpy.array([d_fun(xi) for xi in x])
    second = numpy.array([dd_fun(xi) for xi in x])
    # the same derivatives over the whole array at once
    first_elementwise = elementwise_grad(fun)(x)
    third_elementwise = elementwise_grad(elementwise_grad(elementwise_grad(fun)))(x)
    print(f"max |d sin - cos| = {numpy.abs(first - numpy.cos(x)).max():.2e}, "
          f"max |d2 sin + sin| = {numpy.abs(second + numpy.sin(x)).max():.2e}")
    return {"x": x, "value": fun(x), "first": first, "second": second,
            "first_elementwise": first_elementwise, "third_elementwise": third_elementwise}


if __name__ == "__main__":
    main()
