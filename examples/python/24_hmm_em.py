"""Expectation-maximisation for a hidden Markov model, with the E step done by grad.

For an HMM with initial distribution pi, transition matrix A and emission matrix B, the
probability of the data is a sum over hidden paths of products of entries of pi, A and B.
Written in the log entries (the natural parameters), log Z is a log-sum-exp of sums, and
its gradient with respect to log A[i, j] is the expected number of i -> j transitions
given the data; likewise for log pi and log B. So value_and_grad of the forward
algorithm's log Z is the whole E step, and the M step normalises those expected counts.
The data are sequences sampled from a known HMM, with fixed seeds.
"""
from functools import partial

import numpy

import adclient.numpy as np
from adclient import value_and_grad
from adclient.scipy.special import logsumexp


def log_partition_function(natural_params, data):
    """log P(data): the forward algorithm, in log space, summed over the sequences."""
    if isinstance(data, list):
        return sum(map(partial(log_partition_function, natural_params), data))
    log_pi, log_A, log_B = natural_params
    log_alpha = log_pi + log_B[:, data[0]]
    for y in data[1:]:
        log_alpha = logsumexp(log_alpha[:, None] + log_A, axis=0) + log_B[:, y]
    return logsumexp(log_alpha)


def normalize(counts):
    """Rows of expected counts as probabilities (the M step)."""
    return counts / numpy.sum(counts, axis=-1, keepdims=True)


def EM(init_params, data, num_iters, callback=None):
    params = init_params
    for _ in range(num_iters):
        natural_params = [numpy.log(p) for p in params]
        loglike, expected_counts = value_and_grad(log_partition_function)(natural_params,
                                                                        data)
        if callback:
            callback(loglike, params)
        params = [normalize(c) for c in expected_counts]
    return params


def sample_hmm(pi, A, B, length, rs):
    state = rs.choice(len(pi), p=pi)
    out = []
    for _ in range(length):
        out.append(rs.choice(B.shape[1], p=B[state]))
        state = rs.choice(len(pi), p=A[state])
    return numpy.array(out)


def random_stochastic(shape, rs):
    return normalize(rs.rand(*shape) + 0.5)


def main(num_iters=8):
    rs = numpy.random.RandomState(0)
    true_pi = numpy.array([0.6, 0.3, 0.1])
    true_A = numpy.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    true_B = numpy.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1],
                          [0.1, 0.1, 0.4, 0.4]])
    data = [sample_hmm(true_pi, true_A, true_B, 30, rs) for _ in range(2)]
    init = [random_stochastic((3,), rs), random_stochastic((3, 3), rs),
            random_stochastic((3, 4), rs)]
    loglikes = []
    pi, A, B = EM(init, data, num_iters, callback=lambda ll, params: loglikes.append(ll))
    print(f"log likelihood {loglikes[0]:.4f} -> {loglikes[-1]:.4f} over {num_iters} EM "
          f"iterations")
    return {"loglikes": numpy.array(loglikes), "pi": pi, "A": A, "B": B}


if __name__ == "__main__":
    main()
