"""Optimising optimisation: the gradient of a validation loss with respect to a whole
learning-rate schedule, through 100 steps of SGD unrolled.

Training is an ordinary Python loop; each step takes a gradient of the training loss.
Differentiating the validation loss after training, with respect to the 100 learning
rates, runs reverse mode through every step, including through the inner gradients
(second derivatives of the training loss). Four steps of gradient descent on the
schedule itself then lower the validation loss.
"""
import numpy

import adclient.numpy as np
from adclient import grad, value_and_grad

STEPS = 100
META_RATE = 20.0     # the step size for gradient descent on the schedule


def predict(weights, inputs):
    """Logistic regression."""
    return 1.0 / (1.0 + np.exp(-np.dot(inputs, weights)))


def loss(weights, inputs, targets):
    p = predict(weights, inputs)
    return -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)) \
        + 0.01 * np.sum(weights ** 2)


def make_problem(rs, n_train=40, n_valid=40, dims=5):
    true_weights = rs.randn(dims)

    def sample(n):
        inputs = rs.randn(n, dims)
        targets = (rs.rand(n) < 1.0 / (1.0 + numpy.exp(-inputs @ true_weights))) * 1.0
        return inputs, targets
    return sample(n_train), sample(n_valid)


def main():
    rs = numpy.random.RandomState(0)
    (train_x, train_y), (valid_x, valid_y) = make_problem(rs)
    batches = [rs.choice(len(train_x), 10, replace=False) for _ in range(STEPS)]
    init_weights = numpy.zeros(train_x.shape[1])
    training_gradient = grad(loss)

    def train(learning_rates):
        weights = init_weights
        for t in range(STEPS):
            idx = batches[t]
            weights = weights - learning_rates[t] * training_gradient(weights, train_x[idx],
                                                                      train_y[idx])
        return weights

    def validation_loss(learning_rates):
        return loss(train(learning_rates), valid_x, valid_y)

    hypergradient_of = value_and_grad(validation_loss)

    schedule = numpy.full(STEPS, 0.1)
    history = []
    for meta_step in range(4):
        value, g = hypergradient_of(schedule)
        if meta_step == 0:
            initial_schedule, hypergradient = schedule, g
        history.append(value)
        schedule = schedule - META_RATE * g
    history.append(validation_loss(schedule))
    valid_before = history[0]

    # The hypergradient along one random direction, against a central finite difference.
    direction = rs.randn(STEPS)
    eps = 1e-5
    finite_difference = (validation_loss(initial_schedule + eps * direction)
                         - validation_loss(initial_schedule - eps * direction)) / (2 * eps)

    print(f"validation loss after {STEPS} SGD steps at a constant rate: {valid_before:.6f}")
    print("d(validation loss)/d(learning rate), steps 0, 25, 50, 75, 99:",
          numpy.array2string(hypergradient[[0, 25, 50, 75, 99]], precision=6))
    print(f"along a random direction: {hypergradient @ direction:.8f} "
          f"(finite difference {finite_difference:.8f})")
    print("over 4 steps on the schedule:", " -> ".join(f"{v:.6f}" for v in history))
    return {"initial_schedule": initial_schedule, "valid_before": valid_before,
            "hypergradient": hypergradient, "direction": direction,
            "directional_derivative": hypergradient @ direction,
            "finite_difference": finite_difference,
            "schedule": schedule, "valid_history": numpy.array(history)}


if __name__ == "__main__":
    main()
