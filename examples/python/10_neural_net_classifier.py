"""A multilayer perceptron that classifies 28x28 images into ten classes.

The model and the training are those of a small MNIST classifier: a list of (W, b) layers
with tanh between them, a log-softmax output, a Gaussian prior on the weights (an L2
penalty), and adam over minibatches. The data are made here instead of downloaded: each
class is a random smooth "stroke" pattern, and each image is one pattern, shifted by a
pixel or two and covered in noise. That is enough structure for the net to learn, and it
keeps the script self-contained.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.flatten import flatten
from adclient.misc.optimizers import adam
from adclient.scipy.special import logsumexp

IMAGE_SIDE = 28
NUM_CLASSES = 10


def make_patterns(rs):
    """One 28x28 pattern per class: a few Gaussian blobs at random places."""
    side = IMAGE_SIDE
    yy, xx = numpy.mgrid[0:side, 0:side]
    patterns = numpy.zeros((NUM_CLASSES, side, side))
    for c in range(NUM_CLASSES):
        for cy, cx in rs.uniform(6, side - 6, size=(3, 2)):
            patterns[c] += numpy.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0)
    return patterns


def make_images(patterns, num_images, rs):
    """(images as rows of 784 pixels in [0, 1], one-hot labels)."""
    side = IMAGE_SIDE
    labels = rs.randint(NUM_CLASSES, size=num_images)
    images = numpy.empty((num_images, side, side))
    for i, label in enumerate(labels):
        dy, dx = rs.randint(-2, 3, size=2)
        images[i] = numpy.roll(patterns[label], (dy, dx), axis=(0, 1))
    images = numpy.clip(images + 0.2 * rs.randn(*images.shape), 0.0, 1.0)
    return images.reshape(num_images, side * side), numpy.eye(NUM_CLASSES)[labels]


def init_random_params(scale, layer_sizes, rs):
    """A list of (weights, biases), one pair for each pair of neighbouring layer sizes."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """Log class probabilities, one row per input."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    # Normalise the last layer's outputs (not its tanh) in log space.
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flat, _ = flatten(params)
    return np.dot(flat, flat)


def log_posterior(params, inputs, targets, l2_reg):
    log_prior = -l2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def accuracy(params, inputs, targets):
    predicted = np.argmax(neural_net_predict(params, inputs), axis=1)
    return np.mean(predicted == np.argmax(targets, axis=1))


def main(num_epochs=5, batch_size=50):
    rs = npr.RandomState(0)
    patterns = make_patterns(rs)
    train_images, train_labels = make_images(patterns, 200, rs)
    test_images, test_labels = make_images(patterns, 100, rs)

    layer_sizes = [IMAGE_SIDE * IMAGE_SIDE, 32, 16, NUM_CLASSES]
    init_params = init_random_params(0.1, layer_sizes, rs)
    num_batches = len(train_images) // batch_size

    def objective(params, it):
        # adam counts iterations; the batch is the iteration's slot within an epoch.
        batch = slice((it % num_batches) * batch_size, (it % num_batches + 1) * batch_size)
        return -log_posterior(params, train_images[batch], train_labels[batch], 1.0)

    trace = []

    def report(params, it, gradient):
        if it % num_batches == 0:
            train_acc = accuracy(params, train_images, train_labels)
            test_acc = accuracy(params, test_images, test_labels)
            trace.append((objective(params, it), train_acc, test_acc))
            print(f"epoch {it // num_batches}: train accuracy {train_acc:.3f}, "
                  f"test accuracy {test_acc:.3f}")

    params = adam(grad(objective), init_params, step_size=0.01,
                  num_iters=num_epochs * num_batches, callback=report)

    losses, train_acc, test_acc = (np.array(column) for column in zip(*trace))
    final_train = accuracy(params, train_images, train_labels)
    final_test = accuracy(params, test_images, test_labels)
    print(f"after {num_epochs} epochs: train accuracy {final_train:.3f}, "
          f"test accuracy {final_test:.3f}")
    return {"losses": losses, "train_accuracy": train_acc, "test_accuracy": test_acc,
            "final_train_accuracy": final_train, "final_test_accuracy": final_test,
            "params": params}


if __name__ == "__main__":
    main()
