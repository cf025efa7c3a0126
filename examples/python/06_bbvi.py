"""Black-box variational inference in a tweet (Ryan Adams, 2015).

    def elbo(p, lp, D, N):
        v = exp(p[D:])
        s = randn(N, D) * sqrt(v) + p[:D]
        return mvn.entropy(0, diag(v)) + mean(lp(s))
    gf = grad(elbo)

p holds the mean and the log variances of a diagonal Gaussian q; the ELBO is q's entropy
plus a Monte Carlo estimate, from N reparameterised samples, of the expected log density.
Its gradient drives adam toward a Gaussian that fits the target. (The tweet's mean of 0
becomes np.zeros(D) below: scipy takes a scalar mean to mean one dimension.)
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.misc.optimizers import adam
from adclient.numpy import exp, sqrt, mean, diag
from adclient.numpy.random import randn
from adclient.scipy.stats import multivariate_normal as mvn


def elbo(p, lp, D, N):
    v = exp(p[D:])
    s = randn(N, D) * sqrt(v) + p[:D]
    return mvn.entropy(np.zeros(D), diag(v)) + mean(lp(s))


gf = grad(elbo)


def log_density(z):
    """An unnormalised, banana-shaped log density on the plane (one value per row of z)."""
    x, y = z[:, 0], z[:, 1]
    return -0.5 * x ** 2 / 4.0 - 0.5 * (y - 0.25 * x ** 2) ** 2 / 0.5


def main():
    D, N = 2, 100
    init_p = numpy.array([1.5, -1.5, -2.0, -2.0])    # means, then log variances

    def estimate(p):
        """The ELBO with many samples, always the same ones: comparable across p."""
        numpy.random.seed(1)
        return elbo(p, log_density, D, 4000)

    elbo_before = estimate(init_p)
    numpy.random.seed(0)
    trace = []
    p = adam(lambda p, i: -gf(p, log_density, D, N), init_p, step_size=0.1, num_iters=60,
             callback=lambda p, i, g: trace.append(elbo(p, log_density, D, N)))
    elbo_after = estimate(p)

    print(f"ELBO {elbo_before:.4f} -> {elbo_after:.4f} after 60 adam steps")
    print(f"q: mean {numpy.array2string(p[:D], precision=3)}, "
          f"variance {numpy.array2string(numpy.exp(p[D:]), precision=3)}")
    return {"elbo_before": elbo_before, "elbo_after": elbo_after, "params": p,
            "elbo_trace": np.array(trace)}


if __name__ == "__main__":
    main()
