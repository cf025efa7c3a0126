"""adam over nested parameters, with flatten_func and a callback.

The parameters of a small model live in a dict holding a list of (W, b) tuples and an
array. flatten_func turns the gradient of any such structure into a function of one flat
vector, which is all adam needs; the callback sees the parameters and the gradient in
their nested form again. The same adam is written out here as in the talk, and checked
against the one in misc.optimizers.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.misc.flatten import flatten, flatten_func
from adclient.misc.optimizers import adam as library_adam


def adam(grad, init_params, callback=None, num_iters=100,
         step_size=0.001, b1=0.9, b2=0.999, eps=10**-8):
    flattened_grad, unflatten, x = flatten_func(grad, init_params)

    m = np.zeros(len(x))
    v = np.zeros(len(x))
    for i in range(num_iters):
        g = flattened_grad(x, i)
        if callback:
            callback(unflatten(x), i, unflatten(g))
        m = (1 - b1) * g + b1 * m                     # first moment estimate
        v = (1 - b2) * (g ** 2) + b2 * v              # second moment estimate
        mhat = m / (1 - b1 ** (i + 1))                # bias corrections
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (np.sqrt(vhat) + eps)
    return unflatten(x)


def make_data(rs, n=64):
    inputs = rs.uniform(-2, 2, size=(n, 2))
    targets = np.sin(inputs[:, 0]) * np.cos(inputs[:, 1]) + 0.3 * inputs[:, 1]
    return inputs, targets


def init_params(rs):
    return {"layers": [(0.5 * rs.randn(2, 8), numpy.zeros(8)),
                       (0.5 * rs.randn(8, 1), numpy.zeros(1))],
            "skip": numpy.zeros(2)}


def predict(params, inputs):
    hidden = inputs
    for W, b in params["layers"][:-1]:
        hidden = np.tanh(np.dot(hidden, W) + b)
    W, b = params["layers"][-1]
    return (np.dot(hidden, W) + b)[:, 0] + np.dot(inputs, params["skip"])


def structure(value):
    """The nesting of a value, with each array replaced by its shape."""
    if isinstance(value, dict):
        return {key: structure(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(structure(item) for item in value)
    return numpy.shape(value)


def main():
    rs = numpy.random.RandomState(0)
    inputs, targets = make_data(rs)
    params0 = init_params(rs)
    batches = [rs.choice(len(inputs), 16, replace=False) for _ in range(100)]

    def objective(params, i):
        """The squared error on the i-th minibatch."""
        idx = batches[i % len(batches)]
        return np.mean((predict(params, inputs[idx]) - targets[idx]) ** 2)

    def full_loss(params):
        return np.mean((predict(params, inputs) - targets) ** 2)

    losses, grad_norms, seen = [], [], []

    def callback(params, i, g):
        seen.append(structure(g) == structure(params) == structure(params0))
        if i % 20 == 0:
            losses.append(full_loss(params))
            grad_norms.append(np.sqrt(np.sum(flatten(g)[0] ** 2)))
            print(f"iteration {i:3d}: loss {losses[-1]:.5f}, |gradient| {grad_norms[-1]:.5f}")

    objective_grad = grad(objective)
    talk_params = adam(objective_grad, params0, callback=callback, num_iters=100, step_size=0.05)
    library_params = library_adam(objective_grad, params0, num_iters=100, step_size=0.05)

    loss_before, loss_after = full_loss(params0), full_loss(talk_params)
    print(f"loss {loss_before:.5f} -> {loss_after:.5f}; misc.optimizers.adam gives "
          f"{full_loss(library_params):.5f}")
    return {"loss_before": loss_before, "loss_after": loss_after,
            "params": talk_params, "library_params": library_params,
            "callback_losses": np.array(losses), "callback_grad_norms": np.array(grad_norms),
            "callback_saw_nested_gradients": all(seen) and len(seen) == 100}


if __name__ == "__main__":
    main()
