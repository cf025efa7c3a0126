"""The Python examples 10 to 20 (autograd's examples folder, first half), each against its
autograd twin.

Each example is an ordinary autograd program with adclient imports, run here twice in one
process: with adclient against a real daemon (the `client` fixture: over tcp and over
ipc), and as its autograd twin, the same source with only the import lines rewritten
(tests/example_twins.py). Every number the two main()s return must agree to 1e-7
relative. Then the example's own claims are checked: the loss goes down, the lower bound
goes up, the posterior widens between the data, and so on.
"""
import os
import subprocess
import sys

import numpy
import pytest
from numpy.testing import assert_allclose

from example_twins import EXAMPLES, assert_only_imports_differ, assert_same, run_both

STEMS = ["10_neural_net_classifier", "11_convnet", "12_rnn", "13_lstm",
         "14_variational_autoencoder", "15_generative_adversarial_net",
         "16_gaussian_mixture_model", "17_gplvm", "18_gaussian_process",
         "19_bayesian_neural_net", "20_bayesian_optimization"]


@pytest.mark.parametrize("stem", STEMS)
def test_the_twin_differs_only_in_its_imports(stem):
    assert_only_imports_differ(stem)


def both(stem):
    ours, theirs = run_both(stem)
    assert_same(ours, theirs)
    return ours


# --- 10. a multilayer perceptron classifier -------------------------------------------------
def test_10_neural_net_classifier(client):
    ours = both("10_neural_net_classifier")
    params = ours["params"]
    assert type(params) is list and [W.shape for W, b in params] == \
        [(784, 32), (32, 16), (16, 10)]
    assert all(type(layer) is tuple for layer in params)
    assert ours["losses"][-1] < 0.5 * ours["losses"][0]
    # ten classes: chance is 0.1
    assert ours["final_train_accuracy"] > 0.8 and ours["final_test_accuracy"] > 0.6


# --- 11. the convolutional net --------------------------------------------------------------
def test_11_convnet(client):
    ours = both("11_convnet")
    g = ours["first_gradient"]
    assert g.shape == ours["weights"].shape and numpy.abs(g).max() > 0
    assert ours["losses"][-1] < 0.2 * ours["losses"][0]
    assert ours["test_errors"][-1] <= 0.2


def test_convolve_on_plain_arrays_is_autograds():
    """Outside grad, convolve takes autograd's axes and dot_axes (scipy's does not) and
    gives autograd's numbers."""
    import autograd.scipy.signal
    import adclient.scipy.signal
    rs = numpy.random.RandomState(0)
    A, B = rs.randn(3, 2, 7, 6), rs.randn(2, 4, 3, 3)
    kwargs = dict(axes=([2, 3], [2, 3]), dot_axes=([1], [0]), mode='valid')
    ours = adclient.scipy.signal.convolve(A, B, **kwargs)
    assert type(ours) is numpy.ndarray and ours.shape == (3, 4, 5, 4)
    assert_allclose(ours, autograd.scipy.signal.convolve(A, B, **kwargs), rtol=1e-12)
    assert_allclose(adclient.scipy.signal.convolve(A[0, 0], B[0, 0]),
                    autograd.scipy.signal.convolve(A[0, 0], B[0, 0]), rtol=1e-12)


# --- 12, 13. character-level recurrent nets -------------------------------------------------
@pytest.mark.parametrize("stem", ["12_rnn", "13_lstm"])
def test_recurrent_nets(client, stem):
    ours = both(stem)
    losses = ours["losses"]
    assert losses.shape == (30,) and losses[-1] < losses[0] - 1.0
    sample = ours["sample"]
    assert type(sample) is str and len(sample) == 20


# --- 14. the variational autoencoder --------------------------------------------------------
def test_14_variational_autoencoder(client):
    ours = both("14_variational_autoencoder")
    elbos = ours["elbos"]
    assert elbos[-4:].mean() > elbos[:4].mean() + 100
    assert ours["codes"].shape == (8, 2)
    samples = ours["samples"]
    assert samples.shape == (4, 784) and samples.min() > 0 and samples.max() < 1


# --- 15. the generative adversarial net -----------------------------------------------------
def test_15_generative_adversarial_net(client):
    ours = both("15_generative_adversarial_net")
    objective = ours["objective"]
    assert objective.shape == (30,)
    # The discriminator, which ascends, soon tells the generator's early fakes from blobs.
    assert objective[10:].min() > objective[0] + 1.0
    fakes = ours["fakes"]
    assert fakes.shape == (4, 784) and fakes.min() >= 0 and fakes.max() <= 1


# --- 16. the Gaussian mixture model ---------------------------------------------------------
def test_16_gaussian_mixture_model(client):
    ours = both("16_gaussian_mixture_model")
    lls = ours["log_likelihoods"]
    # conjugate gradients with a line search: every iteration improves the fit
    assert numpy.all(numpy.diff(lls) > 0), lls
    assert lls[-1] > ours["initial_log_likelihood"] + 100
    assert_allclose(ours["proportions"].sum(), 1.0, rtol=1e-12)
    assert ours["means"].shape == (4, 2)


# --- 17. the GPLVM --------------------------------------------------------------------------
def test_17_gplvm(client):
    ours = both("17_gplvm")
    objective = ours["objective"]
    assert numpy.all(numpy.diff(objective) < 0)
    assert objective[-1] < ours["initial_objective"] - 50
    assert ours["latents"].shape == (30, 2) and ours["reconstruction"].shape == (30, 2)


# --- 18. Gaussian process regression --------------------------------------------------------
def test_18_gaussian_process(client):
    ours = both("18_gaussian_process")
    lls = ours["log_likelihoods"]
    assert numpy.all(numpy.diff(lls) > 0) and lls[-1] > ours["initial_log_likelihood"] + 30
    # The data lie in [-2, -0.5] and [1, 2]: the posterior is surer near them than in the
    # gap between, and its mean follows cos(2x + 4) / 2 there.
    x, std = ours["grid"][:, 0], ours["pred_std"]
    near_data = ((x > -1.9) & (x < -0.6)) | ((x > 1.1) & (x < 1.9))
    in_gap = (x > -0.3) & (x < 0.8)
    assert std[in_gap].min() > 2 * std[near_data].max()
    assert numpy.abs(ours["pred_mean"][near_data]
                     - numpy.cos(2 * x[near_data] + 4) / 2).max() < 0.15


# --- 19. the Bayesian neural net ------------------------------------------------------------
def test_19_bayesian_neural_net(client):
    ours = both("19_bayesian_neural_net")
    elbos = ours["elbos"]
    assert elbos.shape == (60,) and elbos[-10:].mean() > elbos[:10].mean() + 1000
    assert ours["curves"].shape == (10, 30)


# --- 20. Bayesian optimisation --------------------------------------------------------------
def test_20_bayesian_optimization(client):
    ours = both("20_bayesian_optimization")
    X, y = ours["X"], ours["y"]
    assert X.shape == (7, 1) and numpy.all((X >= -1.0) & (X <= 1.5))
    # seven evaluations come within 0.01 of the function's maximum on a fine grid
    assert ours["best_y"] > ours["grid_max"] - 0.01
    assert ours["best_y"] == y.max()


# --- as a script ----------------------------------------------------------------------------
def test_an_example_runs_as_a_script_with_its_own_daemon(tmp_path):
    env = dict(os.environ)
    env.pop("ADSERVER_ADDRESS", None)
    r = subprocess.run([sys.executable, str(EXAMPLES / "15_generative_adversarial_net.py")],
                       env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "after 30 steps each: discriminator's objective" in r.stdout
    assert list(tmp_path.iterdir()) == []
