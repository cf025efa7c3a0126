"""The fully connected net from the talks: parameters are a list of (W, b) tuples.

grad(logprob) returns its gradient in the same shape as the parameters: a list of
(dW, db) tuples, ready to be zipped with them for a step of gradient descent.
"""
import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad


def init_params(scale, sizes, rs):
    """One (weights, biases) pair per layer."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(sizes[:-1], sizes[1:])]


def predict(params, inputs):
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs


def logprob(params, inputs, targets):
    preds = predict(params, inputs)
    return np.sum((preds - targets) ** 2)


gradient = grad(logprob)


def main():
    rs = npr.RandomState(0)
    inputs = np.linspace(-3, 3, 40).reshape(40, 1)
    targets = np.sin(inputs) + 0.05 * rs.randn(40, 1)
    params = init_params(0.5, [1, 4, 4, 1], rs)

    initial_params = params
    first_gradient = gradient(params, inputs, targets)
    print("the gradient, shaped like the parameters:")
    for layer, (dW, db) in enumerate(first_gradient):
        print(f"  layer {layer}: dW {dW.shape}, db {db.shape}")

    losses = [logprob(params, inputs, targets)]
    step_size = 0.005
    for _ in range(60):
        grads = gradient(params, inputs, targets)
        params = [(W - step_size * dW, b - step_size * db)
                  for (W, b), (dW, db) in zip(params, grads)]
        losses.append(logprob(params, inputs, targets))
    print(f"squared error: {losses[0]:.4f} before, {losses[-1]:.4f} after 60 steps")

    return {"initial_params": initial_params,
            "gradient": first_gradient, "losses": np.array(losses), "params": params}


if __name__ == "__main__":
    main()
