"""Differentiating through a fixed point, and a gradient rule that itself takes a gradient.

sqrt(a) is the fixed point of two iterations: Newton's x -> (x + a/x) / 2, and plain
gradient descent on (x^2 - a)^2 / 4, x -> x - 0.05 (x^2 - a). ``fixed_point`` iterates
until two steps agree, and its gradient with respect to a comes from the implicit function
theorem, not from unrolling the loop, so both iterations give d sqrt(a)/da = 0.5/sqrt(a)
however many steps they took.

The second part defines cube(x) = x^3 as a primitive whose VJP computes 3x^2 by calling
``grad`` on x -> x^3. Differentiating that rule again (grad(grad(cube))) needs the inner
grad to be traced by the outer one: at 2 the answer is 6 * 2 = 12.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.extend import primitive, defvjp
from adclient.misc.fixed_points import fixed_point


def newton_sqrt_iter(a):
    return lambda x: 0.5 * (x + a / x)


def grad_descent_sqrt_iter(a):
    return lambda x: x - 0.05 * (x ** 2 - a)


def distance(x, y):
    return np.abs(x - y)


def sqrt_by(iteration):
    def sqrt(a, guess=10.0):
        return fixed_point(iteration, a, guess, distance, 1e-8)
    return sqrt


@primitive
def cube(x):
    return x ** 3


defvjp(cube, lambda ans, x: lambda g: g * grad(lambda y: y ** 3)(x))


def main(a=2.0):
    newton_sqrt = sqrt_by(newton_sqrt_iter)
    descent_sqrt = sqrt_by(grad_descent_sqrt_iter)
    results = {
        "newton_sqrt": newton_sqrt(a), "newton_d_sqrt": grad(newton_sqrt)(a),
        "descent_sqrt": descent_sqrt(a), "descent_d_sqrt": grad(descent_sqrt)(a),
        "numpy_d_sqrt": grad(np.sqrt)(a),
        "cube": cube(a), "d_cube": grad(cube)(a), "dd_cube": grad(grad(cube))(a),
    }
    print(f"d sqrt(a)/da at {a}: Newton {results['newton_d_sqrt']:.8f}, gradient descent "
          f"{results['descent_d_sqrt']:.8f}, np.sqrt {results['numpy_d_sqrt']:.8f}")
    print(f"cube: grad {results['d_cube']}, grad(grad) {results['dd_cube']}")
    return {k: numpy.float64(v) for k, v in results.items()}


if __name__ == "__main__":
    main()
