"""scipy.integrate.odeint, differentiable by the adjoint method.

The dynamics function is the user's, so it lives here in the client: odeint is a client
primitive. The forward pass is scipy's own integrator, run here on numpy values. The
backward pass integrates the adjoint system backwards in time: the augmented state holds
y, the cotangent of y, and the cotangents of t and of the extra arguments, and its dynamics
take the VJP of the user's function (traced through the daemon) at each evaluation. The
memory cost does not grow with the number of integrator steps.

As with autograd, the extra arguments must be passed positionally as a tuple, and the
integrator's options (rtol, atol, ...) by keyword: ``odeint(func, y0, t, (theta,))``.
"""
import numpy as onp
import scipy.integrate

from .. import numpy as np
from ..differential import make_vjp
from ..extend import primitive, defvjp_argnums
from ..misc.flatten import flatten

odeint = primitive(scipy.integrate.odeint)


def _grad_odeint(yt, func, y0, t, func_args, **kwargs):
    """The VJP of odeint's answer ``yt`` (T x D) with respect to y0, t and func_args."""
    T, D = yt.shape
    flat_args, unflatten = flatten(func_args)
    n_args = flat_args.shape[0]

    def flat_func(y, t, flat_args):
        return func(y, t, *unflatten(flat_args))

    def unpack(state):
        return state[0:D], state[D:2 * D], state[2 * D], state[2 * D + 1:]

    def augmented_dynamics(state, t, flat_args):
        y, y_bar, _, _ = unpack(state)
        vjp_all, dy_dt = make_vjp(flat_func, (0, 1, 2))(y, t, flat_args)
        dy_bar, dt_bar, dargs_bar = vjp_all(-y_bar)
        return np.hstack((dy_dt, dy_bar, dt_bar, dargs_bar))

    def vjp_all(g):
        y_bar = g[-1, :]
        t0_bar = 0.0
        t_bars = []
        args_bar = onp.zeros(n_args)
        for i in range(T - 1, 0, -1):
            # the answer's own dependence on the time t[i]
            t_bar = np.dot(func(yt[i, :], t[i], *func_args), g[i, :])
            t_bars.append(t_bar)
            t0_bar = t0_bar - t_bar
            state = np.hstack((yt[i, :], y_bar, t0_bar, args_bar))
            states = odeint(augmented_dynamics, state, np.array([t[i], t[i - 1]]),
                            (flat_args,), **kwargs)
            _, y_bar, t0_bar, args_bar = unpack(states[1])
            y_bar = y_bar + g[i - 1, :]
        t_bars.append(t0_bar)
        times_bar = np.hstack(t_bars)[::-1]
        return None, y_bar, times_bar, unflatten(args_bar)

    return vjp_all


def _odeint_vjp(argnums, ans, args, kwargs):
    vjp = _grad_odeint(ans, *args, **kwargs)
    return lambda g: [vjp(g)[argnum] for argnum in argnums]


defvjp_argnums(odeint, _odeint_vjp)


def __getattr__(name):
    return getattr(scipy.integrate, name)
