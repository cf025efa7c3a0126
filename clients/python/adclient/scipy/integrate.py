"""scipy.integrate.odeint, differentiable by the adjoint method.

The dynamics function is the user's, so it lives here in the client: odeint is a client
primitive. The forward pass is scipy's own integrator, run here on numpy values. The
backward pass integrates the adjoint system backwards in time: the augmented state holds
y, the cotangent of y, and the cotangents of t and of the extra arguments, and its dynamics
take the VJP of the user's function (traced through the daemon) at each evaluation. The
memory cost does not grow with the number of integrator steps. Forward mode integrates
the sensitivity system [y, dy] forwards, with the JVP of the user's function.

As with autograd, the extra arguments must be passed positionally as a tuple, and the
integrator's options (rtol, atol, ...) by keyword: ``odeint(func, y0, t, (theta,))``.
"""
import numpy as onp
import scipy.integrate

from .. import numpy as np
from ..differential import make_vjp, make_jvp
from ..extend import primitive, defvjp_argnums, defjvp_argnums
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


def _odeint_jvp(argnums, tangents, ans, args, kwargs):
    """The tangent of odeint's answer: the sensitivity system integrated forwards.

    y(t_i) moves with y0 and the arguments through the sensitivity equations; moving the
    start time t_0 is moving y0 by -f(y0, t_0) dt_0; moving a later time t_i slides y(t_i)
    along the trajectory by f(y(t_i), t_i) dt_i. The first row is y0 itself.
    """
    func, y0, t, func_args = args
    given = dict(zip(argnums, tangents))
    T, D = ans.shape
    flat_args, unflatten = flatten(func_args)
    d_args = flatten(given[3])[0] if 3 in given else onp.zeros(flat_args.shape[0])
    d_y0 = given.get(1, onp.zeros(D))
    d_t = given.get(2)

    def flat_func(y, t, flat_args):
        return func(y, t, *unflatten(flat_args))

    def sensitivity_dynamics(state, t, flat_args, d_args):
        y, dy = state[:D], state[D:]
        dy_dt, d_dy_dt = make_jvp(flat_func, (0, 2))(y, t, flat_args)((dy, d_args))
        return np.hstack((dy_dt, d_dy_dt))

    start = d_y0 if d_t is None else d_y0 - func(y0, t[0], *func_args) * d_t[0]
    states = odeint(sensitivity_dynamics, np.hstack((y0, start)), t, (flat_args, d_args),
                    **kwargs)
    rows = [d_y0] + [states[i, D:] for i in range(1, T)]
    if d_t is not None:
        rows = [rows[0]] + [rows[i] + func(ans[i, :], t[i], *func_args) * d_t[i]
                            for i in range(1, T)]
    return np.stack(rows)


defjvp_argnums(odeint, _odeint_jvp)


def __getattr__(name):
    return getattr(scipy.integrate, name)
