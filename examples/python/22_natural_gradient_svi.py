"""Natural-gradient variational inference, against the plain gradient.

The variational family is a diagonal Gaussian with parameters (mean, log_std). Its Fisher
information is diagonal in those coordinates: 1/sigma^2 for each mean and 2 for each
log_std. Dividing the ELBO's gradient by it gives the natural gradient, which measures a
step by how much it changes the distribution rather than the parameters.

The target's two coordinates have standard deviations 0.1 and 3. Plain gradient ascent is
held back by the sharp one: above a step of about 0.02 it diverges. The natural gradient
rescales each mean's step by q's own variance, so it takes a larger step (0.03) and, in
the same 60 steps, gets closer to the target (the KL divergence printed at the end).
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import sgd
from adclient.scipy.stats import norm

TARGET_MEAN = numpy.array([1.0, -2.0])
TARGET_STD = numpy.array([0.1, 3.0])      # two very different scales


def log_target(z):
    return np.sum(norm.logpdf(z, TARGET_MEAN, TARGET_STD), axis=1)


def make_elbo(D, num_samples, seed):
    rs = npr.RandomState(seed)

    def elbo(params, t):
        mean, log_std = params[:D], params[D:]
        eps = rs.randn(num_samples, D)
        z = mean + np.exp(log_std) * eps
        entropy = np.sum(log_std) + 0.5 * D * (1.0 + np.log(2 * np.pi))
        return entropy + np.mean(log_target(z))
    return elbo


def fisher_diagonal(params, D):
    log_std = params[D:]
    return numpy.concatenate([numpy.exp(-2.0 * numpy.asarray(log_std)), 2.0 * numpy.ones(D)])


def fit(natural, num_iters, step_size, D=2):
    elbo = make_elbo(D, num_samples=20, seed=1)
    elbo_grad = grad(elbo)

    def descent_direction(params, t):
        g = -elbo_grad(params, t)       # sgd minimises, so it gets minus the ELBO's gradient
        return g / fisher_diagonal(params, D) if natural else g

    params = sgd(descent_direction, numpy.zeros(2 * D), step_size=step_size,
                 num_iters=num_iters, mass=0.0)
    return params


def kl_to_target(params, D=2):
    """KL(q || target), exact for two diagonal Gaussians."""
    mean, std = params[:D], numpy.exp(params[D:])
    return numpy.sum(numpy.log(TARGET_STD / std)
                     + (std ** 2 + (mean - TARGET_MEAN) ** 2) / (2 * TARGET_STD ** 2) - 0.5)


def main(num_iters=60, plain_step=0.015, natural_step=0.03):
    plain = fit(False, num_iters, plain_step)
    natural = fit(True, num_iters, natural_step)
    print(f"after {num_iters} steps: KL(q || p) {kl_to_target(plain):.3f} with the plain "
          f"gradient, {kl_to_target(natural):.3f} with the natural gradient")
    return {"plain_params": plain, "natural_params": natural, "initial_kl":
            kl_to_target(numpy.zeros(4)), "plain_kl": kl_to_target(plain),
            "natural_kl": kl_to_target(natural)}


if __name__ == "__main__":
    main()
