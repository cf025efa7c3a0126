"""A convolutional net (LeNet's layout) trained on 28x28 images, as in the MNIST convnet.

All the weights live in one flat vector; a WeightsParser knows where each layer's slice of
it starts and what shape it has. A convolution layer is one call to

    convolve(inputs, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode='valid')

which slides every filter over the two image axes of every input and sums over the input
channels (the `dot_axes`), giving an (images, filters, height, width) block. Max pooling
is a reshape and two `max`es. Training is plain minibatch SGD with momentum.

The images are made here: each of the ten classes is a different bar pattern, shifted and
covered in noise, so that the net has something spatial to find.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.scipy.signal import convolve
from adclient.scipy.special import logsumexp


class WeightsParser:
    """Named, shaped slices of one flat parameter vector."""

    def __init__(self):
        self.idxs_and_shapes = {}
        self.N = 0

    def add_weights(self, name, shape):
        start = self.N
        self.N += int(numpy.prod(shape))
        self.idxs_and_shapes[name] = (slice(start, self.N), shape)

    def get(self, vect, name):
        idxs, shape = self.idxs_and_shapes[name]
        return np.reshape(vect[idxs], shape)


class conv_layer:
    def __init__(self, kernel_shape, num_filters):
        self.kernel_shape = kernel_shape
        self.num_filters = num_filters

    def build_weights_dict(self, input_shape):
        # input_shape is (channels, height, width); each filter spans all the channels.
        self.parser = WeightsParser()
        self.parser.add_weights('params', (input_shape[0], self.num_filters)
                                + self.kernel_shape)
        self.parser.add_weights('biases', (1, self.num_filters, 1, 1))
        output_shape = (self.num_filters,) + tuple(
            size - kernel + 1 for size, kernel in zip(input_shape[1:], self.kernel_shape))
        return self.parser.N, output_shape

    def forward_pass(self, inputs, param_vector):
        filters = self.parser.get(param_vector, 'params')
        biases = self.parser.get(param_vector, 'biases')
        # inputs (images, channels, y, x) with filters (channels, filters, ky, kx):
        # slide over y and x, contract the channels.
        conv = convolve(inputs, filters, axes=([2, 3], [2, 3]), dot_axes=([1], [0]),
                        mode='valid')
        return conv + biases


class maxpool_layer:
    def __init__(self, pool_shape):
        self.pool_shape = pool_shape

    def build_weights_dict(self, input_shape):
        output_shape = list(input_shape)
        for i in (0, 1):
            assert input_shape[i + 1] % self.pool_shape[i] == 0, "pool must tile the image"
            output_shape[i + 1] = input_shape[i + 1] // self.pool_shape[i]
        return 0, tuple(output_shape)

    def forward_pass(self, inputs, param_vector):
        # Split each image axis into (blocks, within a block) and take the max within.
        new_shape = inputs.shape[:2]
        for i in (0, 1):
            pool = self.pool_shape[i]
            new_shape += (inputs.shape[i + 2] // pool, pool)
        blocks = np.reshape(inputs, new_shape)
        return np.max(np.max(blocks, axis=3), axis=4)


class full_layer:
    def __init__(self, size):
        self.size = size

    def build_weights_dict(self, input_shape):
        input_size = int(numpy.prod(input_shape))
        self.parser = WeightsParser()
        self.parser.add_weights('params', (input_size, self.size))
        self.parser.add_weights('biases', (self.size,))
        return self.parser.N, (self.size,)

    def forward_pass(self, inputs, param_vector):
        W = self.parser.get(param_vector, 'params')
        b = self.parser.get(param_vector, 'biases')
        if inputs.ndim > 2:
            inputs = np.reshape(inputs, (inputs.shape[0], -1))
        return self.nonlinearity(np.dot(inputs, W) + b)


class tanh_layer(full_layer):
    def nonlinearity(self, x):
        return np.tanh(x)


class softmax_layer(full_layer):
    def nonlinearity(self, x):
        return x - logsumexp(x, axis=1, keepdims=True)


def make_nn_funs(input_shape, layer_specs, l2_reg):
    """(parser, loss, predictions, error rate) for a stack of layers."""
    parser = WeightsParser()
    cur_shape = input_shape
    for num, layer in enumerate(layer_specs):
        N_weights, cur_shape = layer.build_weights_dict(cur_shape)
        parser.add_weights(num, (N_weights,))

    def predictions(W_vect, inputs):
        cur_units = inputs
        for num, layer in enumerate(layer_specs):
            cur_weights = parser.get(W_vect, num)
            cur_units = layer.forward_pass(cur_units, cur_weights)
        return cur_units

    def loss(W_vect, X, T):
        log_prior = -l2_reg * np.dot(W_vect, W_vect)
        log_lik = np.sum(predictions(W_vect, X) * T)
        return -log_prior - log_lik

    def frac_err(W_vect, X, T):
        return np.mean(np.argmax(T, axis=1) != np.argmax(predictions(W_vect, X), axis=1))

    return parser.N, predictions, loss, frac_err


def make_images(num_images, rs, side=28, num_classes=10):
    """(images of shape (num_images, 1, side, side), one-hot labels). Class c is a bar two
    pixels thick, horizontal for even c and vertical for odd c, at one of five places
    (moved by up to a pixel), under noise."""
    labels = rs.randint(num_classes, size=num_images)
    images = numpy.zeros((num_images, 1, side, side))
    for i, c in enumerate(labels):
        start = 3 + 5 * (c // 2) + rs.randint(-1, 2)
        if c % 2 == 0:
            images[i, 0, start:start + 2, :] = 1.0
        else:
            images[i, 0, :, start:start + 2] = 1.0
    images += 0.3 * rs.randn(*images.shape)
    return images, numpy.eye(num_classes)[labels]


def main(num_epochs=4, batch_size=20):
    rs = npr.RandomState(0)
    train_images, train_labels = make_images(100, rs)
    test_images, test_labels = make_images(40, rs)

    input_shape = (1, 28, 28)
    layer_specs = [conv_layer((5, 5), 4),
                   maxpool_layer((2, 2)),
                   conv_layer((5, 5), 6),
                   maxpool_layer((2, 2)),
                   tanh_layer(32),
                   softmax_layer(10)]
    N_weights, pred_fun, loss_fun, frac_err = make_nn_funs(input_shape, layer_specs, 0.01)
    loss_grad = grad(loss_fun)

    learning_rate, momentum = 0.05, 0.9
    W = 0.1 * rs.randn(N_weights)
    velocity = numpy.zeros(N_weights)
    print(f"{N_weights} weights")

    first_gradient = loss_grad(W, train_images[:batch_size], train_labels[:batch_size])
    losses, test_errors = [], []
    for epoch in range(num_epochs):
        for start in range(0, len(train_images), batch_size):
            batch = slice(start, start + batch_size)
            g = loss_grad(W, train_images[batch], train_labels[batch])
            velocity = momentum * velocity - (1.0 - momentum) * g
            W = W + learning_rate * velocity
        losses.append(loss_fun(W, train_images, train_labels))
        test_errors.append(frac_err(W, test_images, test_labels))
        print(f"epoch {epoch}: training loss {losses[-1]:.3f}, "
              f"test error {test_errors[-1]:.3f}")

    return {"first_gradient": first_gradient, "losses": np.array(losses),
            "test_errors": np.array(test_errors), "weights": W}


if __name__ == "__main__":
    main()
