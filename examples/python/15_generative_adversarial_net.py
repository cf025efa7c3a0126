"""A generative adversarial net on 28x28 images.

A generator turns uniform noise into images (sigmoid of a net's output); a discriminator
gives the log odds that an image is real. The objective is the discriminator's mean log
probability of calling real images real minus its mean log probability of calling fakes
real: the discriminator climbs it and the generator descends it. grad with argnum=(0, 1)
gives both gradients from one pass, and a two-player adam (written here with flatten: the
discriminator's parameters ascend, the generator's descend) takes the steps.

The "real" images are made here: soft blobs at random places on the grid, so nothing is
downloaded.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.flatten import flatten


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1.0)


def logsigmoid(x):
    return x - np.logaddexp(0, x)


def init_random_params(scale, layer_sizes, rs):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """relu between layers; the last layer is linear."""
    for W, b in params[:-1]:
        inputs = relu(np.dot(inputs, W) + b)
    outW, outb = params[-1]
    return np.dot(inputs, outW) + outb


def generate_from_noise(gen_params, num_samples, noise_dim, rs):
    noise = rs.rand(num_samples, noise_dim)
    return sigmoid(neural_net_predict(gen_params, noise))


def gan_objective(dsc_params, gen_params, real_data, num_samples, noise_dim, rs):
    """What the discriminator maximises and the generator minimises."""
    fake_data = generate_from_noise(gen_params, num_samples, noise_dim, rs)
    logprobs_fake = logsigmoid(neural_net_predict(dsc_params, fake_data))
    logprobs_real = logsigmoid(neural_net_predict(dsc_params, real_data))
    return np.mean(logprobs_real) - np.mean(logprobs_fake)


def adam_minimax(grad_both, init_params_max, init_params_min, callback=None, num_iters=100,
                 step_size_max=0.001, step_size_min=0.001, b1=0.9, b2=0.999, eps=1e-8):
    """adam for a two-player game: one set of parameters ascends, the other descends."""
    x_max, unflatten_max = flatten(init_params_max)
    x_min, unflatten_min = flatten(init_params_min)

    m_max, v_max = numpy.zeros(len(x_max)), numpy.zeros(len(x_max))
    m_min, v_min = numpy.zeros(len(x_min)), numpy.zeros(len(x_min))
    for i in range(num_iters):
        g_max_uf, g_min_uf = grad_both(unflatten_max(x_max), unflatten_min(x_min), i)
        g_max, _ = flatten(g_max_uf)
        g_min, _ = flatten(g_min_uf)

        if callback:
            callback(unflatten_max(x_max), unflatten_min(x_min), i,
                     unflatten_max(g_max), unflatten_min(g_min))

        m_max = (1 - b1) * g_max + b1 * m_max      # first moment estimates
        v_max = (1 - b2) * (g_max ** 2) + b2 * v_max
        mhat_max = m_max / (1 - b1 ** (i + 1))     # bias corrections
        vhat_max = v_max / (1 - b2 ** (i + 1))
        x_max = x_max + step_size_max * mhat_max / (np.sqrt(vhat_max) + eps)

        m_min = (1 - b1) * g_min + b1 * m_min
        v_min = (1 - b2) * (g_min ** 2) + b2 * v_min
        mhat_min = m_min / (1 - b1 ** (i + 1))
        vhat_min = v_min / (1 - b2 ** (i + 1))
        x_min = x_min - step_size_min * mhat_min / (np.sqrt(vhat_min) + eps)
    return unflatten_max(x_max), unflatten_min(x_min)


def make_blob_images(num_images, rs, side=28):
    """Rows of 784 pixels in [0, 1]: one soft round blob per image, somewhere central."""
    yy, xx = numpy.mgrid[0:side, 0:side]
    centres = rs.uniform(8, side - 8, size=(num_images, 2))
    images = numpy.exp(-((yy - centres[:, 0, None, None]) ** 2
                         + (xx - centres[:, 1, None, None]) ** 2) / 18.0)
    return images.reshape(num_images, side * side)


def main(num_iters=30, batch_size=20, noise_dim=10):
    rs = npr.RandomState(0)
    train_images = make_blob_images(100, rs)
    D = train_images.shape[1]

    gen_layer_sizes = [noise_dim, 32, 32, D]
    dsc_layer_sizes = [D, 32, 1]
    init_gen_params = init_random_params(0.1, gen_layer_sizes, rs)
    init_dsc_params = init_random_params(0.1, dsc_layer_sizes, rs)
    num_batches = len(train_images) // batch_size

    # One noise stream for the whole run, shared by training and the callback.
    noise_rs = npr.RandomState(1)

    def objective(dsc_params, gen_params, it):
        idx = it % num_batches
        batch = train_images[idx * batch_size:(idx + 1) * batch_size]
        return gan_objective(dsc_params, gen_params, batch, batch_size, noise_dim, noise_rs)

    both_gradients = grad(objective, argnum=(0, 1))
    values = []

    def callback(dsc_params, gen_params, it, dsc_gradient, gen_gradient):
        values.append(objective(dsc_params, gen_params, it))
        if it % 10 == 0:
            print(f"iteration {it}: discriminator's objective {values[-1]:.4f}")

    dsc_params, gen_params = adam_minimax(both_gradients, init_dsc_params, init_gen_params,
                                          num_iters=num_iters, step_size_max=0.01,
                                          step_size_min=0.01, callback=callback)
    fakes = generate_from_noise(gen_params, 4, noise_dim, npr.RandomState(2))
    print(f"after {num_iters} steps each: discriminator's objective {values[-1]:.4f}; "
          f"fake pixels from {fakes.min():.3f} to {fakes.max():.3f}")
    return {"objective": np.array(values), "gen_params": gen_params,
            "dsc_params": dsc_params, "fakes": fakes}


if __name__ == "__main__":
    main()
