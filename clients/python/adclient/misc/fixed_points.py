"""Fixed points of iterations, differentiated by the implicit function theorem.

``fixed_point(f, a, x0, distance, tol)`` iterates ``x = f(a)(x)`` from x0 until two steps
are within ``tol``. Its gradient with respect to ``a`` does not unroll the iterations: at
the fixed point x* = f(a)(x*), the VJP solves another fixed-point iteration, run with the
VJPs of f at x* (so memory stays constant however many steps the forward pass took).
"""
from ..differential import make_vjp
from ..extend import primitive, defvjp
from ..vspace import vspace


@primitive
def fixed_point(f, a, x0, distance, tol):
    step = f(a)
    x, x_prev = step(x0), x0
    while distance(x, x_prev) > tol:
        x, x_prev = step(x), x
    return x


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    def reverse_step(params):
        a, x_star, x_star_bar = params
        vjp_x, _ = make_vjp(f(a))(x_star)
        vs = vspace(x_star)
        return lambda g: vs.add(vjp_x(g), x_star_bar)

    vjp_a, _ = make_vjp(lambda a, x: f(a)(x))(a, ans)
    return lambda g: vjp_a(fixed_point(reverse_step, (a, ans, g), vspace(x0).zeros(),
                                       distance, tol))


defvjp(fixed_point, None, _fixed_point_vjp, None)
