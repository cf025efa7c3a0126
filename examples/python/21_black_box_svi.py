"""Black-box stochastic variational inference with the reparameterisation trick.

q is a diagonal Gaussian with parameters (mean, log standard deviation). The ELBO,
E_q[log p(z)] + H[q], is estimated from samples z = mean + exp(log_std) * eps with eps
standard normal, so its gradient flows through the samples to the parameters. Nothing
about the target is needed beyond its log density: here a funnel-shaped 2-D density built
from scipy.stats' normal log density.
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import adam
import adclient.scipy.stats.norm as norm


def black_box_variational_inference(logprob, D, num_samples):
    """(objective, its gradient, unpack_params) for a diagonal Gaussian q in D dimensions."""

    def unpack_params(params):
        return params[:D], params[D:]

    def gaussian_entropy(log_std):
        return 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)

    rs = npr.RandomState(0)

    def variational_objective(params, t):
        """Minus the ELBO, estimated with fresh samples at every call."""
        mean, log_std = unpack_params(params)
        samples = rs.randn(num_samples, D) * np.exp(log_std) + mean
        lower_bound = gaussian_entropy(log_std) + np.mean(logprob(samples, t))
        return -lower_bound

    return variational_objective, grad(variational_objective), unpack_params


def log_density(x, t):
    """A funnel: the spread of the first coordinate depends on the second."""
    mu, log_sigma = x[:, 0], x[:, 1]
    sigma_density = norm.logpdf(log_sigma, 0, 1.35)
    mu_density = norm.logpdf(mu, 0, np.exp(log_sigma))
    return sigma_density + mu_density


def main(num_iters=60):
    D = 2
    objective, gradient, unpack_params = black_box_variational_inference(
        log_density, D, num_samples=200)
    init_params = numpy.concatenate([numpy.array([-1.0, -1.0]), -3.0 * numpy.ones(D)])
    trace = []

    def callback(params, t, g):
        trace.append(-objective(params, t))

    params = adam(gradient, init_params, step_size=0.1, num_iters=num_iters,
                  callback=callback)
    mean, log_std = unpack_params(params)
    print(f"ELBO {trace[0]:.3f} -> {trace[-1]:.3f}; q mean {mean}, std {numpy.exp(log_std)}")
    return {"params": params, "elbo_trace": numpy.array(trace)}


if __name__ == "__main__":
    main()
