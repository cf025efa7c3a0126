"""A variational autoencoder for binary 28x28 images.

A recognition net maps an image to the mean and log standard deviation of a Gaussian over
a two-dimensional latent code; a generative net maps a code to the logits of the image's
784 pixels. The objective is the evidence lower bound, estimated with one reparameterised
sample per image (a sample of the code written as mean + std * noise, so the gradient
flows through it), and both nets are trained together by adam on minibatches.

The images are made here: each is one of a few binary stroke patterns, with some pixels
flipped, so nothing is downloaded.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import adam
from adclient.scipy.stats import norm


def diag_gaussian_log_density(x, mu, log_std):
    return np.sum(norm.logpdf(x, mu, np.exp(log_std)), axis=-1)


def unpack_gaussian_params(params):
    # The net's outputs: the means first, then the log standard deviations.
    D = np.shape(params)[-1] // 2
    return params[:, :D], params[:, D:]


def sample_diag_gaussian(mean, log_std, rs):
    return rs.randn(*mean.shape) * np.exp(log_std) + mean


def bernoulli_log_density(targets, unnormalized_logprobs):
    """log p(targets) for pixels given as -1 or 1, under sigmoid(logits)."""
    label_probabilities = -np.logaddexp(0, -unnormalized_logprobs * targets)
    return np.sum(label_probabilities, axis=-1)


def relu(x):
    return np.maximum(0, x)


def init_net_params(scale, layer_sizes, rs):
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """relu between layers, nothing after the last."""
    for W, b in params[:-1]:
        inputs = relu(np.dot(inputs, W) + b)
    W, b = params[-1]
    return np.dot(inputs, W) + b


def nn_predict_gaussian(params, inputs):
    return unpack_gaussian_params(neural_net_predict(params, inputs))


def generate_from_prior(gen_params, num_samples, latent_dim, rs):
    latents = rs.randn(num_samples, latent_dim)
    return 1.0 / (1.0 + np.exp(-neural_net_predict(gen_params, latents)))


def p_images_given_latents(gen_params, images, latents):
    pixel_logits = neural_net_predict(gen_params, latents)
    return bernoulli_log_density(images, pixel_logits)


def vae_lower_bound(gen_params, rec_params, data, rs):
    """A one-sample Monte Carlo estimate of the ELBO, averaged over the images."""
    q_means, q_log_stds = nn_predict_gaussian(rec_params, data)
    latents = sample_diag_gaussian(q_means, q_log_stds, rs)
    q_latents = diag_gaussian_log_density(latents, q_means, q_log_stds)
    p_latents = diag_gaussian_log_density(latents, 0, 0)
    likelihood = p_images_given_latents(gen_params, data, latents)
    return np.mean(p_latents + likelihood - q_latents)


def make_binary_images(num_images, rs, side=28, num_patterns=4):
    """Rows of 784 pixels, each -1 or 1: crosses, bars and boxes, 5% of pixels flipped."""
    patterns = numpy.full((num_patterns, side, side), -1.0)
    patterns[0, 12:16, :] = 1.0                                 # a horizontal bar
    patterns[1, :, 12:16] = 1.0                                 # a vertical bar
    patterns[2, 12:16, :] = patterns[2, :, 12:16] = 1.0         # a cross
    patterns[3, 6:22, 6:22] = 1.0                               # a box
    patterns[3, 9:19, 9:19] = -1.0
    images = patterns[rs.randint(num_patterns, size=num_images)].reshape(num_images, -1)
    flips = rs.rand(*images.shape) < 0.05
    return numpy.where(flips, -images, images)


def main(num_iters=24, batch_size=25, latent_dim=2, hidden=64):
    rs = npr.RandomState(0)
    train_images = make_binary_images(100, rs)
    D = train_images.shape[1]

    gen_layer_sizes = [latent_dim, hidden, D]
    rec_layer_sizes = [D, hidden, latent_dim * 2]
    combined_init_params = (init_net_params(0.1, gen_layer_sizes, rs),
                            init_net_params(0.1, rec_layer_sizes, rs))
    num_batches = len(train_images) // batch_size

    # One random stream for the whole run: the estimate's noise differs at every step.
    sample_rs = npr.RandomState(1)

    def objective(combined_params, it):
        gen_params, rec_params = combined_params
        idx = it % num_batches
        batch = train_images[idx * batch_size:(idx + 1) * batch_size]
        return -vae_lower_bound(gen_params, rec_params, batch, sample_rs)

    elbos = []

    def callback(combined_params, it, gradient):
        elbos.append(-objective(combined_params, it))
        if it % 8 == 0:
            print(f"iteration {it}: lower bound {elbos[-1]:.2f}")

    gen_params, rec_params = adam(grad(objective), combined_init_params, step_size=0.01,
                                  num_iters=num_iters, callback=callback)

    codes, _ = nn_predict_gaussian(rec_params, train_images[:8])
    samples = generate_from_prior(gen_params, 4, latent_dim, npr.RandomState(2))
    print(f"lower bound {elbos[0]:.2f} -> {elbos[-1]:.2f} after {num_iters} steps")
    return {"elbos": np.array(elbos), "gen_params": gen_params, "rec_params": rec_params,
            "codes": codes, "samples": samples}


if __name__ == "__main__":
    main()
