"""Bayesian optimisation: find the maximum of a function that is expensive to evaluate by
modelling it with a Gaussian process and asking the model where to look next.

Each round fits the GP's hyperparameters to the points evaluated so far (maximising their
log marginal likelihood plus a broad prior, by BFGS), then maximises the
expected improvement over the best value seen, a closed form in the GP's predictive mean
and standard deviation built from scipy.stats.norm's cdf and pdf. Both optimisations use
gradients from value_and_grad; the acquisition is maximised by L-BFGS-B within the box,
starting from the best point of a coarse grid. The function is then evaluated there.
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


def expected_improvement(mean, std, best_so_far):
    """E[max(f - best, 0)] for f ~ N(mean, std^2)."""
    z = (mean - best_so_far) / std
    return (mean - best_so_far) * norm.cdf(z) + std * norm.pdf(z)


def bayesian_optimize(func, domain_min, domain_max, num_iters, rs, num_random=2,
                      callback=None):
    """(every point evaluated, their values): num_iters evaluations of func, the first
    num_random at random points and each later one where the expected improvement is
    largest."""
    D = len(domain_min)
    num_params, predict, log_marginal_likelihood = make_gp_funs(rbf_covariance,
                                                                num_cov_params=D + 1)
    model_params = numpy.zeros(num_params)
    bounds = list(zip(domain_min, domain_max))

    def fit_gp_params(init_params, X, y):
        # A broad Gaussian prior keeps the hyperparameters finite with few points.
        def objective(params):
            return -log_marginal_likelihood(params, X, y) - np.sum(norm.logpdf(params, 0, 3))
        # Fitted to convergence: a fit stopped early depends on the optimiser's path,
        # and each round's choice would inherit that, round after round.
        return minimize(value_and_grad(objective), init_params, jac=True, method='BFGS',
                        options={'maxiter': 200, 'gtol': 1e-9}).x

    def choose_next_point(acquisition, grid_size=50):
        # The acquisition's best point on a coarse grid, refined by L-BFGS-B within the
        # box. (Starting from one clear winner, rather than racing several local searches
        # whose optima agree only to the optimiser's tolerance, makes the choice depend on
        # the model and not on rounding.)
        grid = numpy.linspace(domain_min, domain_max, grid_size)
        start = grid[numpy.argmax([acquisition(x) for x in grid])]
        def negative_acquisition(x):
            return -acquisition(x)
        result = minimize(value_and_grad(negative_acquisition), start, jac=True,
                          method='L-BFGS-B', bounds=bounds,
                          options={'maxiter': 50, 'ftol': 0.0, 'gtol': 1e-12})
        return numpy.atleast_2d(result.x)

    X, y = numpy.zeros((0, D)), numpy.zeros(0)
    for i in range(num_iters):
        if i < num_random:
            # A few random points first, so that the first GP fit has something to fit.
            next_point = rs.uniform(domain_min, domain_max, size=(1, D))
        else:
            model_params = fit_gp_params(model_params, X, y)

            def acquisition(xstar, model_params=model_params, X=X, y=y):
                mean, cov = predict(model_params, X, y, np.atleast_2d(xstar))
                std = np.sqrt(np.diag(cov))
                # one point in, one number out (the sum of a single value), for minimize
                return np.sum(expected_improvement(mean, std, numpy.max(y)))

            next_point = choose_next_point(acquisition)
        X = numpy.concatenate([X, next_point])
        y = numpy.concatenate([y, numpy.atleast_1d(func(next_point[0]))])
        if callback:
            callback(X, y, model_params)
    return X, y


def example_function(x):
    """Wiggly, with a few local maxima on [-1, 1.5]."""
    return np.sum(x * np.sin(10.0 * x) + x) - np.sum(x ** 2)


def main(num_iters=7):
    domain_min, domain_max = numpy.array([-1.0]), numpy.array([1.5])
    fitted = []

    def callback(X, y, model_params):
        fitted.append(numpy.array(model_params))
        print(f"evaluation {len(y)}: f({X[-1, 0]:.4f}) = {y[-1]:.4f}, "
              f"best so far {numpy.max(y):.4f}")

    X, y = bayesian_optimize(example_function, domain_min, domain_max, num_iters,
                             npr.RandomState(0), callback=callback)
    grid = numpy.linspace(domain_min[0], domain_max[0], 2001)
    true_max = max(example_function(numpy.array([x])) for x in grid)
    best = int(numpy.argmax(y))
    print(f"best point {X[best, 0]:.4f} with value {y[best]:.4f} "
          f"(the grid's maximum is {true_max:.4f})")
    return {"X": X, "y": y, "best_x": X[best], "best_y": y[best],
            "grid_max": true_max, "model_params": np.array(fitted)}


if __name__ == "__main__":
    main()
