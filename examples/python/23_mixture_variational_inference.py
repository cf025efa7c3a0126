"""Variational inference with a mixture of Gaussians as the approximating family.

A single Gaussian cannot cover a target with two separated modes; a mixture of K diagonal
Gaussians can. The ELBO of a mixture splits over its components:

    ELBO = sum_k w_k E_{z ~ q_k}[log p(z) - log q(z)],

and each expectation is estimated by reparameterised samples of its own component, so the
estimate is differentiable in the weights, the means and the scales. The parameters live
in a dict, which adam walks as one flat vector (flatten orders a dict by its sorted keys).
"""
import numpy

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.optimizers import adam
from adclient.scipy.special import logsumexp
from adclient.scipy.stats import norm


def diag_gaussian_logpdf(z, mean, log_std):
    return np.sum(norm.logpdf(z, mean, np.exp(log_std)), axis=-1)


def log_target(z):
    """Two well separated modes, at (-2, 0) and (2, 1), with weights 0.3 and 0.7."""
    first = np.log(0.3) + diag_gaussian_logpdf(z, numpy.array([-2.0, 0.0]), numpy.log(0.6))
    second = np.log(0.7) + diag_gaussian_logpdf(z, numpy.array([2.0, 1.0]), numpy.log(0.8))
    return np.logaddexp(first, second)


def mixture_logpdf(z, params):
    """log q(z) for each row of z: a logsumexp over the components."""
    log_weights = params["logits"] - logsumexp(params["logits"])
    per_component = [log_weights[k] + diag_gaussian_logpdf(z, params["means"][k],
                                                            params["log_stds"][k])
                     for k in range(params["means"].shape[0])]
    return logsumexp(np.stack(per_component), axis=0)


def make_elbo(num_samples, seed):
    rs = npr.RandomState(seed)

    def elbo(params):
        weights = np.exp(params["logits"] - logsumexp(params["logits"]))
        K, D = params["means"].shape
        total = 0.0
        for k in range(K):
            eps = rs.randn(num_samples, D)
            z = params["means"][k] + np.exp(params["log_stds"][k]) * eps
            total = total + weights[k] * np.mean(log_target(z) - mixture_logpdf(z, params))
        return total
    return elbo


def main(num_iters=50):
    init = {"means": numpy.array([[-0.5, 0.0], [0.5, 0.0]]),
            "log_stds": numpy.zeros((2, 2)),
            "logits": numpy.zeros(2)}
    elbo = make_elbo(num_samples=40, seed=0)
    elbo_grad = grad(elbo)
    trace = []
    params = adam(lambda p, i: {k: -v for k, v in elbo_grad(p).items()}, init,
                  step_size=0.1, num_iters=num_iters,
                  callback=lambda p, i, g: trace.append(elbo(p)))
    weights = numpy.exp(params["logits"]) / numpy.sum(numpy.exp(params["logits"]))
    print(f"ELBO {trace[0]:.3f} -> {trace[-1]:.3f}; component means "
          f"{numpy.array2string(params['means'], precision=2)}, weights "
          f"{numpy.array2string(weights, precision=2)}")
    return {"params": params, "weights": weights, "elbo_trace": numpy.array(trace)}


if __name__ == "__main__":
    main()
