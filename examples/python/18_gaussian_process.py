"""Gaussian process regression, with the kernel's hyperparameters fitted by gradients.

make_gp_funs builds, from a covariance function, the two things a GP needs: the
predictive mean and covariance at new inputs, and the log marginal likelihood of the
data, which is a multivariate normal log density with the kernel's covariance plus noise.
The hyperparameters (a constant mean, the log noise, the log output scale and log length
scale of a squared-exponential kernel) are fitted by maximising that likelihood with
scipy's conjugate gradients, using value_and_grad for both the value and its gradient.

The data are noisy samples of a cosine on two intervals with a gap between them, so the
posterior's uncertainty grows in the gap.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import value_and_grad
from adclient.numpy.linalg import solve
import adclient.scipy.stats.multivariate_normal as mvn


def make_gp_funs(cov_func, num_cov_params):
    """(number of parameters, predict, log_marginal_likelihood) of a GP with a constant
    mean, Gaussian noise, and the covariance function cov_func."""

    def unpack_kernel_params(params):
        mean = params[0]
        cov_params = params[2:]
        noise_scale = np.exp(params[1]) + 0.0001     # a floor keeps the solves stable
        return mean, cov_params, noise_scale

    def predict(params, x, y, xstar):
        """The posterior's mean and full covariance at the test inputs xstar."""
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
    """Squared-exponential covariance between the rows of x and those of xp, with one
    length scale per input dimension."""
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs ** 2, axis=2))


def build_toy_dataset(n_data=20, noise_std=0.1, rs=None):
    inputs = numpy.concatenate([numpy.linspace(0, 3, num=n_data // 2),
                                numpy.linspace(6, 8, num=n_data // 2)])
    targets = (numpy.cos(inputs) + rs.randn(n_data) * noise_std) / 2.0
    inputs = (inputs - 4.0) / 2.0
    return inputs.reshape(len(inputs), 1), targets


def main(maxiter=12):
    D = 1
    X, y = build_toy_dataset(rs=npr.RandomState(0))
    num_params, predict, log_marginal_likelihood = make_gp_funs(rbf_covariance,
                                                                num_cov_params=D + 1)

    def objective(params):
        return -log_marginal_likelihood(params, X, y)

    init_params = 0.1 * npr.RandomState(0).randn(num_params)
    history = []
    result = minimize(value_and_grad(objective), init_params, jac=True, method='CG',
                      callback=lambda params: history.append(-objective(params)),
                      options={'maxiter': maxiter})
    params = result.x

    # The posterior over a grid, from before the data to after it.
    plot_xs = numpy.reshape(numpy.linspace(-3, 3, 40), (40, D))
    pred_mean, pred_cov = predict(params, X, y, plot_xs)
    marginal_std = np.sqrt(np.diag(pred_cov))
    print(f"log marginal likelihood {-objective(init_params):.4f} -> {history[-1]:.4f}")
    print(f"hyperparameters: mean {params[0]:.3f}, noise {np.exp(params[1]):.4f}, "
          f"output scale {np.exp(params[2]):.3f}, length scale {np.exp(params[3]):.3f}")
    return {"initial_log_likelihood": -objective(init_params),
            "log_likelihoods": np.array(history), "params": params,
            "grid": plot_xs, "pred_mean": pred_mean, "pred_std": marginal_std}


if __name__ == "__main__":
    main()
