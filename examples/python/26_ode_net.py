"""An ODE whose dynamics are a small neural network, fitted to a trajectory.

The trajectory comes from the spiral dy/dt = (y^3) A, integrated by odeint from
y0 = (2, 0). The model's dynamics are a one-hidden-layer tanh network of y; its trajectory
is odeint of the network from the same y0, and the loss is the squared distance between
the two trajectories at the observed times. The gradient with respect to the network's
weights goes back through the integrator by the adjoint method (odeint's VJP integrates
an adjoint ODE backwards in time), and adam takes the steps.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.builtins import tuple
from adclient.misc.flatten import flatten
from adclient.misc.optimizers import adam
from adclient.scipy.integrate import odeint

TRUE_A = numpy.array([[-0.1, 2.0], [-2.0, -0.1]])


def true_dynamics(y, t):
    return numpy.dot(y ** 3, TRUE_A)


def init_net_params(scale, layer_sizes, rs):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def nn_predict(params, y):
    for W, b in params[:-1]:
        y = np.tanh(np.dot(y, W) + b)
    W, b = params[-1]
    return np.dot(y, W) + b


def make_dynamics(unflatten):
    def nn_dynamics(y, t, flat_params):
        # the network sees y^3, as the true dynamics do: it has to learn the matrix
        return nn_predict(unflatten(flat_params), y ** 3)
    return nn_dynamics


def main(num_iters=6):
    rs = numpy.random.RandomState(0)
    y0 = numpy.array([2.0, 0.0])
    t = numpy.linspace(0.0, 0.5, 6)
    target = odeint(true_dynamics, y0, t)

    # odeint differentiates with respect to its extra arguments when they come as a
    # traced tuple (autograd's builtins.tuple); the network's layers travel in it as one
    # flat vector
    init, unflatten = flatten(init_net_params(0.1, [2, 6, 2], rs))
    nn_dynamics = make_dynamics(unflatten)

    def loss(params, i):
        predicted = odeint(nn_dynamics, y0, t, tuple((params,)), rtol=1e-8, atol=1e-8)
        return np.mean((predicted - target) ** 2)

    losses = []
    params = adam(grad(loss), init, step_size=0.05, num_iters=num_iters,
                  callback=lambda p, i, g: losses.append(loss(p, i)))
    final = loss(params, num_iters)
    print(f"trajectory loss {losses[0]:.5f} -> {final:.5f} after {num_iters} adam steps")
    return {"target": target, "losses": numpy.array(losses), "final_loss": final,
            "params": unflatten(params)}


if __name__ == "__main__":
    main()
