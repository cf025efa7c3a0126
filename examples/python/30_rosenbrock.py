"""The Rosenbrock banana, minimised by scipy with autograd's gradient as its Jacobian.

scipy.optimize.minimize takes the objective and, through ``jac``, a function for its
gradient: ``grad(rosenbrock)`` is exactly that. Conjugate gradients from (-1.2, 1) reach
the minimum at (1, 1); ``value_and_grad`` with ``jac=True`` gives the same answer while
computing the objective and gradient in one pass.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
from adclient import grad, value_and_grad


def rosenbrock(x):
    """100 (y - x^2)^2 + (1 - x)^2: a curved valley whose floor is nearly flat."""
    return 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2


def main():
    x0 = numpy.array([-1.2, 1.0])
    with_jac = minimize(rosenbrock, x0, jac=grad(rosenbrock), method="CG")
    # The same minimisation, with the objective and its gradient from one call.
    together = minimize(value_and_grad(rosenbrock), x0, jac=True, method="CG")
    print(f"CG from {x0}: x = {numpy.array2string(with_jac.x, precision=6)} after "
          f"{with_jac.nit} iterations, f = {with_jac.fun:.3e}")
    return {"x": with_jac.x, "fun": with_jac.fun, "nit": with_jac.nit,
            "gradient_at_start": grad(rosenbrock)(x0),
            "x_value_and_grad": together.x, "fun_value_and_grad": together.fun}


if __name__ == "__main__":
    main()
