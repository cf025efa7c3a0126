"""Maximum likelihood for the negative binomial distribution.

NB(r, p) counts the failures before the r-th success, for a success probability 1 - p:
log P(x) = log Gamma(x + r) - log Gamma(r) - log Gamma(x + 1) + x log p + r log(1 - p).
For a fixed r the likelihood is maximised by p(r) = sum(x) / sum(x + r); what is left is a
one-dimensional problem in r, solved by Newton's method on the derivative of the profile
log likelihood, with that derivative and its own derivative both from grad.
"""
import numpy

import adclient.numpy as np
from adclient import grad
from adclient.scipy.special import gammaln


def negbin_loglike(r, p, x):
    return (gammaln(x + r) - gammaln(r) - gammaln(x + 1)
            + x * np.log(p) + r * np.log(1 - p))


def fit_maxlike(x, r_guess, iterations=20):
    # The maximum exists only for overdispersed data (variance above the mean).
    assert numpy.var(x) > numpy.mean(x), "likelihood-maximizing parameters don't exist"

    def p_of(r):
        return np.sum(x) / np.sum(r + x)

    def profile(r):
        return np.sum(negbin_loglike(r, p_of(r), x))

    dprofile = grad(profile)
    ddprofile = grad(dprofile)
    r = r_guess
    steps = []
    for _ in range(iterations):
        step = dprofile(r) / ddprofile(r)
        r = r - step
        steps.append(step)
        if abs(step) < 1e-10 * abs(r):
            break
    return r, p_of(r), profile(r), numpy.array(steps)


def main():
    rs = numpy.random.RandomState(0)
    true_r, true_success = 5, 0.3
    data = rs.negative_binomial(true_r, true_success, size=500).astype(float)
    r, p, loglike, steps = fit_maxlike(data, r_guess=1.0)
    print(f"fitted r = {r:.4f}, p = {p:.4f} (data from r = {true_r}, "
          f"p = {1 - true_success}); {len(steps)} Newton steps")
    # The last steps are rounding noise around the optimum; the first ones are the
    # trajectory worth comparing.
    return {"r": numpy.float64(r), "p": numpy.float64(p), "loglike": numpy.float64(loglike),
            "first_steps": steps[:6], "newton_steps": len(steps),
            "mean": data.mean(), "var": data.var()}


if __name__ == "__main__":
    main()
