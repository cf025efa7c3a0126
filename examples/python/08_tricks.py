"""The tutorial's advanced tricks, each built from reverse mode and checked.

1. checkpoint(fun): fun's intermediate values are dropped after the forward pass and
   recomputed in the backward pass. The gradient is unchanged; fun simply runs twice.
2. Forward from reverse: the VJP is linear in its cotangent, so the VJP of the VJP is the
   JVP. Two reverse passes give a Jacobian-vector product.
3. make_ggnvp: generalized Gauss-Newton-vector products, J^T H_g J v.
4. make_hvp: Hessian-vector products at one point, from one trace.
5. fixed_point: differentiate through Newton's method for a square root without unrolling
   it. The implicit function theorem gives d/da sqrt(a) = 0.5 / sqrt(a).
"""
import numpy

import adclient.numpy as np
from adclient import checkpoint, grad, jacobian, make_ggnvp, make_hvp, make_jvp, make_vjp
from adclient.misc.fixed_points import fixed_point


# --- 1. checkpointing --------------------------------------------------------------------------
block_calls = [0]


def block(x):
    """One residual block of a deep, narrow network (with its weights fixed)."""
    block_calls[0] += 1
    W = numpy.linspace(-1.0, 1.0, 16).reshape(4, 4)
    return x + 0.5 * np.tanh(np.dot(W, x) + np.sin(x))


checkpointed_block = checkpoint(block)


def deep(x, layer):
    for _ in range(8):
        x = layer(x)
    return np.sum(x ** 2)


# --- 2. forward from reverse -------------------------------------------------------------------
def make_jvp_from_reverse(fun):
    def jvp_maker(x):
        vjp, y = make_vjp(fun)(x)
        vjp_vjp, _ = make_vjp(vjp)(np.zeros_like(y))   # any cotangent: vjp is linear in it
        return vjp_vjp
    return jvp_maker


def vector_fun(x):
    """A function from R^3 to R^4."""
    return np.concatenate([np.sin(x) * x[::-1], np.exp(x[:1] * x[2:]) - x[1:2] ** 3])


# --- 3 and 4. curvature products ---------------------------------------------------------------
def scalar_fun(x):
    return np.sum(np.sin(x) * np.cos(x[::-1])) + np.dot(x, x) ** 1.5


# --- 5. fixed points -----------------------------------------------------------------------------
def newton_sqrt_step(a):
    return lambda x: 0.5 * (x + a / x)


def distance(x, y):
    return np.abs(x - y)


def sqrt(a, guess=10.0):
    return fixed_point(newton_sqrt_step, a, guess, distance, 1e-10)


def main():
    rs = numpy.random.RandomState(0)
    x4 = rs.randn(4)

    block_calls[0] = 0
    plain_grad = grad(lambda x: deep(x, block))(x4)
    plain_calls = block_calls[0]
    block_calls[0] = 0
    checkpointed_grad = grad(lambda x: deep(x, checkpointed_block))(x4)
    checkpointed_calls = block_calls[0]
    print(f"checkpoint: same gradient {numpy.allclose(plain_grad, checkpointed_grad)}, "
          f"block ran {plain_calls} times plain, {checkpointed_calls} times checkpointed")

    x3, v3 = rs.randn(3), rs.randn(3)
    jvp_from_reverse = make_jvp_from_reverse(vector_fun)(x3)(v3)
    _, jvp_forward = make_jvp(vector_fun)(x3)(v3)
    J = jacobian(vector_fun)(x3)
    print("J v, forward from reverse:", numpy.array2string(jvp_from_reverse, precision=6))

    ggnvp = make_ggnvp(vector_fun)(x3)(v3)
    print("Gauss-Newton product J^T J v:", numpy.array2string(ggnvp, precision=6))

    hvp, gradient = make_hvp(scalar_fun)(x4)
    v4 = rs.randn(4)
    H = jacobian(grad(scalar_fun))(x4)
    print("H v from make_hvp:", numpy.array2string(hvp(v4), precision=6))

    a = 2.0
    root = sqrt(a)
    d_root = grad(sqrt)(a)
    print(f"fixed point: sqrt({a}) = {root:.12f}, d/da = {d_root:.12f} "
          f"(0.5/sqrt(a) = {0.5 / numpy.sqrt(a):.12f})")

    return {"x4": x4, "plain_grad": plain_grad, "checkpointed_grad": checkpointed_grad,
            "plain_block_calls": plain_calls, "checkpointed_block_calls": checkpointed_calls,
            "x3": x3, "v3": v3, "jvp_from_reverse": jvp_from_reverse,
            "jvp_forward": jvp_forward, "jacobian": J, "ggnvp": ggnvp,
            "hvp": hvp(v4), "hvp_gradient": gradient, "v4": v4, "hessian": H,
            "a": a, "sqrt": root, "d_sqrt": d_root}


if __name__ == "__main__":
    main()
