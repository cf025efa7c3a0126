"""A Gaussian mixture model fitted by maximum likelihood with gradients.

The parameters are a dict: unnormalised log mixing proportions, the component means, and
for each component a square matrix L whose L^T L is its covariance (any L gives a valid
covariance, so the optimiser needs no constraints). The log likelihood is a logsumexp
over components of log proportion + multivariate_normal.logpdf. flatten_func turns the
dict-taking objective into a function of one vector for scipy's conjugate gradients.

The data are a "pinwheel": clusters of points stretched along arcs that spiral out from
the origin, made here with a fixed seed.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
import adclient.numpy.random as npr
from adclient import grad
from adclient.misc.flatten import flatten_func
from adclient.scipy.special import logsumexp
import adclient.scipy.stats.multivariate_normal as mvn


def make_pinwheel(radial_std, tangential_std, num_classes, num_per_class, rate, rs):
    """Points in the plane, in num_classes arms: Gaussian blobs stretched along the x axis,
    rotated to each arm's angle, and twisted more the farther they are from the origin."""
    rads = numpy.linspace(0, 2 * numpy.pi, num_classes, endpoint=False)
    features = rs.randn(num_classes * num_per_class, 2) * numpy.array([radial_std,
                                                                        tangential_std])
    features[:, 0] += 1.0
    labels = numpy.repeat(numpy.arange(num_classes), num_per_class)
    angles = rads[labels] + rate * numpy.exp(features[:, 0])
    rotations = numpy.stack([numpy.cos(angles), -numpy.sin(angles),
                             numpy.sin(angles), numpy.cos(angles)])
    rotations = numpy.reshape(rotations.T, (-1, 2, 2))
    return 10 * numpy.einsum('ti,tij->tj', features, rotations)


def init_gmm_params(num_components, D, scale, rs):
    # Broad components (L = 5 I) spread over the data's scale, so that each starts out
    # responsible for some points rather than none.
    return {'log proportions': rs.randn(num_components) * scale,
            'means': rs.randn(num_components, D) * scale,
            'lower triangles': np.zeros((num_components, D, D)) + 5.0 * np.eye(D)}


def log_normalize(x):
    return x - logsumexp(x)


def unpack_gmm_params(params):
    normalized_log_proportions = log_normalize(params['log proportions'])
    return normalized_log_proportions, params['means'], params['lower triangles']


def gmm_log_likelihood(params, data):
    cluster_lls = []
    for log_proportion, mean, cov_sqrt in zip(*unpack_gmm_params(params)):
        cov = np.dot(cov_sqrt.T, cov_sqrt)
        cluster_lls.append(log_proportion + mvn.logpdf(data, mean, cov))
    # Each point's likelihood sums over the components; logsumexp does it in log space.
    return np.sum(logsumexp(np.vstack(cluster_lls), axis=0))


def main(num_components=4, maxiter=30):
    rs = npr.RandomState(0)
    data = make_pinwheel(radial_std=0.3, tangential_std=0.05, num_classes=3,
                         num_per_class=40, rate=0.4, rs=rs)
    init_params = init_gmm_params(num_components, D=2, scale=5.0, rs=rs)

    def objective(params):
        return -gmm_log_likelihood(params, data)

    flattened_obj, unflatten, flattened_init_params = flatten_func(objective, init_params)
    history = []

    def callback(flattened_params):
        # (flattened_obj flattens its answer too: a vector of one number)
        history.append(objective(unflatten(flattened_params)))

    result = minimize(flattened_obj, flattened_init_params, jac=grad(flattened_obj),
                      method='CG', callback=callback, options={'maxiter': maxiter})
    params = unflatten(result.x)
    log_proportions, means, _ = unpack_gmm_params(params)
    print(f"log likelihood {-objective(init_params):.3f} -> {-history[-1]:.3f} "
          f"after {len(history)} iterations of conjugate gradients")
    print("mixing proportions", numpy.round(np.exp(log_proportions), 3))
    return {"initial_log_likelihood": -objective(init_params),
            "log_likelihoods": -np.array(history), "proportions": np.exp(log_proportions),
            "means": means, "params": params}


if __name__ == "__main__":
    main()
