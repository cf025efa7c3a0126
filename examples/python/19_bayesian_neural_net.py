"""A Bayesian neural net for 1-d regression, fitted by black-box variational inference.

The posterior over all the net's weights is approximated by a diagonal Gaussian. Its
parameters (a mean and a log standard deviation per weight) are fitted by maximising a
Monte Carlo estimate of the evidence lower bound: the Gaussian's entropy plus the mean
log joint density at weights sampled from it by reparameterisation (mean + std * noise),
so grad goes through the samples. The net is evaluated for all the sampled weight vectors
at once, with einsum over a leading "sample" axis. adam does the optimisation.

The data are noisy samples of a cosine on two intervals with a gap between them, where
the posterior's spread of functions should widen.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import adam


def black_box_variational_inference(logprob, D, num_samples):
    """(objective, its gradient, unpack_params) for a diagonal Gaussian approximation to
    the density exp(logprob) over R^D. The objective is the negative ELBO at step t."""

    def unpack_params(params):
        mean, log_std = params[:D], params[D:]
        return mean, log_std

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    rs = npr.RandomState(0)

    def variational_objective(params, t):
        mean, log_std = unpack_params(params)
        samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples, t))
        return -lower_bound

    return variational_objective, grad(variational_objective), unpack_params


def make_nn_funs(layer_sizes, L2_reg, noise_variance, nonlinearity=np.tanh):
    """(number of weights, predictions, logprob) for a net whose weights arrive as rows of
    a matrix: one row per sampled weight vector."""
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def unpack_layers(weights):
        num_weight_sets = len(weights)
        for m, n in shapes:
            yield weights[:, :m * n].reshape((num_weight_sets, m, n)), \
                weights[:, m * n:m * n + n].reshape((num_weight_sets, 1, n))
            weights = weights[:, (m + 1) * n:]

    def predictions(weights, inputs):
        """(weight sets, data points, outputs): every sampled net on every input."""
        inputs = np.expand_dims(inputs, 0)
        for W, b in unpack_layers(weights):
            outputs = np.einsum('mnd,mdo->mno', inputs, W) + b
            inputs = nonlinearity(outputs)
        return outputs

    def logprob(weights, inputs, targets):
        log_prior = -L2_reg * np.sum(weights ** 2, axis=1)
        preds = predictions(weights, inputs)
        log_lik = -np.sum((preds - targets) ** 2, axis=1)[:, 0] / noise_variance
        return log_prior + log_lik

    return num_weights, predictions, logprob


def build_toy_dataset(n_data=40, noise_std=0.1):
    rs = npr.RandomState(0)
    inputs = numpy.concatenate([numpy.linspace(0, 2, num=n_data // 2),
                                numpy.linspace(6, 8, num=n_data // 2)])
    targets = numpy.cos(inputs) + rs.randn(n_data) * noise_std
    inputs = (inputs - 4.0) / 4.0
    return inputs.reshape(len(inputs), 1), targets.reshape(len(targets), 1)


def main(num_iters=60, num_samples=20):
    # A radial basis function as the nonlinearity: each unit responds to a bump in its
    # input, which suits smooth 1-d regression.
    rbf = lambda x: np.exp(-x ** 2)
    num_weights, predictions, logprob = make_nn_funs(layer_sizes=[1, 10, 10, 1], L2_reg=0.1,
                                                     noise_variance=0.01, nonlinearity=rbf)
    inputs, targets = build_toy_dataset()

    def log_posterior(weights, t):
        return logprob(weights, inputs, targets)

    objective, gradient, unpack_params = \
        black_box_variational_inference(log_posterior, num_weights, num_samples)

    elbos = []

    def callback(params, t, g):
        # (This estimate draws from the same stream as training, so it shifts the noise
        # the next steps see; the twin does the same.)
        elbos.append(-objective(params, t))
        if t % 20 == 0:
            print(f"iteration {t}: lower bound {elbos[-1]:.3f}")

    init_mean = npr.RandomState(1).randn(num_weights)
    init_log_std = -5 * numpy.ones(num_weights)
    init_var_params = numpy.concatenate([init_mean, init_log_std])
    var_params = adam(gradient, init_var_params, step_size=0.1, num_iters=num_iters,
                      callback=callback)

    # Functions drawn from the fitted posterior, on a grid reaching past the data.
    mean, log_std = unpack_params(var_params)
    sample_rs = npr.RandomState(2)
    weights = sample_rs.randn(10, num_weights) * numpy.exp(log_std) + mean
    grid = numpy.linspace(-1.5, 1.5, 30).reshape(30, 1)
    curves = predictions(weights, grid)[:, :, 0]
    print(f"lower bound {elbos[0]:.3f} -> {elbos[-1]:.3f} after {num_iters} steps")
    return {"elbos": np.array(elbos), "var_params": var_params, "grid": grid,
            "curves": curves}


if __name__ == "__main__":
    main()
