"""Logistic regression by gradient descent on the training loss.

The model predicts P(label = 1 | x) = sigmoid(x . w); the loss is the negative log
likelihood of the labels. grad(training_loss) is the whole gradient computation.
"""
import numpy

import adclient.numpy as np
from adclient import grad


def sigmoid(z):
    # written with tanh: sigmoid(z) = (tanh(z/2) + 1) / 2, which does not overflow
    return 0.5 * (np.tanh(z / 2.0) + 1.0)


def predictions(weights, inputs):
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights, inputs, targets):
    p = predictions(weights, inputs)
    label_probabilities = p * targets + (1 - p) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def main(steps=100, step_size=0.05):
    rs = numpy.random.RandomState(0)
    inputs = rs.randn(20, 3)
    true_weights = numpy.array([1.5, -2.0, 0.5])
    targets = (rs.rand(20) < 1.0 / (1.0 + numpy.exp(-inputs @ true_weights))).astype(float)

    training_gradient = grad(training_loss)
    weights = numpy.zeros(3)
    losses = [training_loss(weights, inputs, targets)]
    for _ in range(steps):
        weights = weights - step_size * training_gradient(weights, inputs, targets)
        losses.append(training_loss(weights, inputs, targets))
    accuracy = numpy.mean((predictions(weights, inputs) > 0.5) == (targets > 0.5))
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; weights {weights}; "
          f"training accuracy {accuracy:.2f}")
    return {"weights": weights, "losses": numpy.array(losses), "accuracy": float(accuracy),
            "initial_gradient": training_gradient(numpy.zeros(3), inputs, targets)}


if __name__ == "__main__":
    main()
