"""A Gaussian process latent variable model: find low-dimensional positions for data
points such that a Gaussian process from those positions explains the data well.

Each output dimension of the data is modelled as an independent GP over shared latent
positions, with one squared-exponential kernel. The positions and the kernel's
hyperparameters are fitted together, by maximising the sum of the GPs' log marginal
likelihoods plus a standard normal prior on the positions (which pins down their scale),
with value_and_grad and scipy's conjugate gradients.

The data are a small pinwheel (points along three spiral arms), made here.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import value_and_grad
from adclient.numpy.linalg import solve
from adclient.scipy.stats import norm
import adclient.scipy.stats.multivariate_normal as mvn


def make_gp_funs(cov_func, num_cov_params):
    """(number of parameters, predict, log_marginal_likelihood) of a GP with a constant
    mean and Gaussian noise; as in 18_gaussian_process.py."""

    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001
        return mean, cov_params, noise_scale

    def predict(params, x, y, xstar):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_f_f = cov_func(cov_params, xstar, xstar)
        cov_y_f = cov_func(cov_params, x, xstar)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        pred_mean = mean + np.dot(solve(cov_y_y, cov_y_f).T, y - mean)
        pred_cov = cov_f_f - np.dot(solve(cov_y_y, cov_y_f).T, cov_y_f)
        return pred_mean, pred_cov

    def log_marginal_likelihood(params, x, y):
        mean, cov_params, noise_scale = unpack_kernel_params(params)
        cov_y_y = cov_func(cov_params, x, x) + noise_scale * np.eye(len(y))
        prior_mean = mean * np.ones(len(y))
        return mvn.logpdf(y, prior_mean, cov_y_y)

    return num_cov_params + 2, predict, log_marginal_likelihood


def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def make_pinwheel(radial_std, tangential_std, num_classes, num_per_class, rate, rs):
    """Points along num_classes spiral arms (see 16_gaussian_mixture_model.py)."""
    rads = numpy.linspace(0, 2 * numpy.pi, num_classes, endpoint=False)
    features = rs.randn(num_classes * num_per_class, 2) * numpy.array([radial_std,
                                                                        tangential_std])
    features[:, 0] += 1.0
    labels = numpy.repeat(numpy.arange(num_classes), num_per_class)
    angles = rads[labels] + rate * numpy.exp(features[:, 0])
    rotations = numpy.stack([numpy.cos(angles), -numpy.sin(angles),
                             numpy.sin(angles), numpy.cos(angles)])
    rotations = numpy.reshape(rotations.T, (-1, 2, 2))
    return numpy.einsum('ti,tij->tj', features, rotations)


def main(num_per_class=10, maxiter=15):
    latent_dim = 2
    rs = npr.RandomState(0)
    data = make_pinwheel(radial_std=0.3, tangential_std=0.05, num_classes=3,
                         num_per_class=num_per_class, rate=0.4, rs=rs)
    num_observations, data_dimension = data.shape

    # One kernel (and its length scale per latent dimension) shared by every output.
    num_params, predict, log_marginal_likelihood = \
        make_gp_funs(rbf_covariance, num_cov_params=latent_dim + 1)

    def unpack_params(params):
        kernel_params = params[:num_params]
        latents = np.reshape(params[num_params:], (num_observations, latent_dim))
        return kernel_params, latents

    def objective(params):
        kernel_params, latents = unpack_params(params)
        datalik = sum(log_marginal_likelihood(kernel_params, latents, data[:, i])
                      for i in range(data_dimension))
        prior = np.sum(norm.logpdf(latents))
        return -datalik - prior

    init_params = rs.randn(num_params + num_observations * latent_dim)
    history = []
    result = minimize(value_and_grad(objective), init_params, jac=True, method='CG',
                      callback=lambda params: history.append(objective(params)),
                      options={'maxiter': maxiter})
    kernel_params, latents = unpack_params(result.x)

    # How well the fitted model reconstructs the data from its latent positions.
    reconstruction = np.stack([predict(kernel_params, latents, data[:, i], latents)[0]
                               for i in range(data_dimension)], axis=1)
    print(f"negative log joint {objective(init_params):.3f} -> {history[-1]:.3f} after "
          f"{len(history)} iterations")
    print(f"reconstruction error {np.sqrt(np.mean((reconstruction - data) ** 2)):.4f}")
    return {"initial_objective": objective(init_params), "objective": np.array(history),
            "kernel_params": kernel_params, "latents": latents,
            "reconstruction": reconstruction}


if __name__ == "__main__":
    main()
