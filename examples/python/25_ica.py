"""Independent component analysis as maximum a posteriori estimation.

Heavy-tailed sources (Student t, 1.5 degrees of freedom) are mixed linearly into noisy
observations. The model puts a t prior on each source value and a t likelihood on each
observation around the mixed sources; maximising the joint log density over the mixing
matrix and the sources together, with scipy's L-BFGS-B and gradients from grad, recovers
a mixing matrix whose columns match the true ones up to order, sign and scale.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
from adclient import value_and_grad
from adclient.scipy.stats import t


def make_ica_funs(observed_dimension, latent_dimension, n_samples):
    num_weights = observed_dimension * latent_dimension

    def unpack(params):
        weights = np.reshape(params[:num_weights], (observed_dimension, latent_dimension))
        latents = np.reshape(params[num_weights:], (latent_dimension, n_samples))
        return weights, latents

    def logprob(params, observations, noise_scale):
        weights, latents = unpack(params)
        preds = np.dot(weights, latents)
        log_prior = np.sum(t.logpdf(latents, 1.5))
        log_likelihood = np.sum(t.logpdf(observations, 2.4, preds, noise_scale))
        return log_prior + log_likelihood

    return num_weights + latent_dimension * n_samples, unpack, logprob


def column_match(true_weights, found_weights):
    """|cosine| between each true column and the found column most aligned with it."""
    a = true_weights / numpy.linalg.norm(true_weights, axis=0)
    b = found_weights / numpy.linalg.norm(found_weights, axis=0)
    return numpy.abs(a.T @ b).max(axis=1)


def main(maxiter=25):
    observed, latent, n = 3, 2, 60
    rs = numpy.random.RandomState(0)
    true_weights = rs.randn(observed, latent)
    sources = rs.standard_t(1.5, size=(latent, n))
    noise_scale = 0.1
    observations = true_weights @ sources + noise_scale * rs.randn(observed, n)

    num_params, unpack, logprob = make_ica_funs(observed, latent, n)
    objective = value_and_grad(lambda p: -logprob(p, observations, noise_scale))
    init = 0.1 * rs.randn(num_params)
    losses = []
    result = minimize(objective, init, jac=True, method="L-BFGS-B",
                      options={"maxiter": maxiter},
                      callback=lambda p: losses.append(objective(p)[0]))
    weights, _ = unpack(result.x)
    match = column_match(true_weights, numpy.asarray(weights))
    print(f"-log p {losses[0]:.2f} -> {result.fun:.2f}; |cos| between true and found "
          f"mixing columns: {numpy.array2string(match, precision=3)}")
    return {"losses": numpy.array(losses), "loss": result.fun, "weights": weights,
            "column_match": match}


if __name__ == "__main__":
    main()
