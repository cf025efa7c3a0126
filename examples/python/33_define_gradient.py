"""A primitive with a gradient of our own: logsumexp.

``primitive`` hides a function from tracing, so its body may use anything (here plain
numpy, which autograd cannot see into); ``defvjp`` then says how cotangents flow back
through it. The gradient of log(sum(exp(x))) is softmax(x), so the VJP scales the softmax
by the incoming cotangent. check_grads compares it with finite differences, to second
order, and the custom gradient is compared with the one autograd derives from the
textbook formula.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.extend import primitive, defvjp
from adclient.test_util import check_grads


@primitive
def logsumexp(x):
    """log(sum(exp(x))), shifted by max(x) so that exp does not overflow."""
    biggest = numpy.max(x)
    return biggest + numpy.log(numpy.sum(numpy.exp(x - biggest)))


def logsumexp_vjp(ans, x):
    # d/dx logsumexp(x) = exp(x - ans); written with np so that it can be differentiated
    # again (the second-order check below needs that)
    return lambda g: g * np.exp(x - ans)


defvjp(logsumexp, logsumexp_vjp)


def naive_logsumexp(x):
    return np.log(np.sum(np.exp(x)))


def example_fun(x):
    return 2.0 * logsumexp(x) + np.sum(x ** 2)


def main():
    x = numpy.random.RandomState(0).randn(5)
    custom = grad(example_fun)(x)
    derived = grad(lambda x: 2.0 * naive_logsumexp(x) + np.sum(x ** 2))(x)
    check_grads(example_fun, modes=["rev"], order=2)(x)
    second = grad(lambda x: grad(example_fun)(x)[0])(x)     # a row of the Hessian
    print(f"gradient {numpy.array2string(custom, precision=5)}; max difference from the "
          f"derived gradient {numpy.abs(custom - derived).max():.1e}")
    return {"x": x, "value": example_fun(x), "gradient": custom,
            "derived_gradient": derived, "hessian_row": second}


if __name__ == "__main__":
    main()
