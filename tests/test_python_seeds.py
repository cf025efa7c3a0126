"""The Python seed examples (SEED_EXAMPLES.md, items 1 to 9), each against its autograd twin.

Every example in examples/python is an ordinary autograd program with adclient imports.
Its twin is the same source with only the import lines rewritten (`adclient` becomes
`autograd`, by the one regular expression in example_twins.py); nothing else may name
adclient. Both run here in this process, and every number the two main()s return must
agree to 1e-7 relative. Each example's own acceptance checks follow (the loss lowered, the
ELBO raised, hvp equal to hessian @ v, ...).

The adclient side runs on a real daemon, reached over tcp or ipc (the `client` fixture);
the autograd twin runs once per example and is reused for both transports.
"""
import importlib.util
import math
import os
import subprocess
import sys

import numpy
from numpy.testing import assert_allclose

from example_twins import EXAMPLES, assert_only_imports_differ, assert_same, load, needs, \
    run_both

# The nine seed examples; later numbers (10 on) are tested in test_python_examples_*.py.
SEED_STEMS = sorted(p.stem for p in EXAMPLES.glob("0[1-9]_*.py"))


# --- the import rewriting itself ------------------------------------------------------------
def test_every_example_has_a_twin_that_differs_only_in_its_imports():
    assert len(SEED_STEMS) == 9, SEED_STEMS
    for stem in SEED_STEMS:
        assert_only_imports_differ(stem)


# --- 1. derivatives of tanh -------------------------------------------------------------------
def tanh_derivatives_closed_form(x, count):
    """d^n/dx^n tanh(x) as polynomials in t = tanh(x): P_{n+1}(t) = (1 - t^2) P_n'(t)."""
    P = numpy.polynomial.Polynomial
    t = numpy.tanh(x)
    poly, out = P([0.0, 1.0]), []
    for _ in range(count + 1):
        out.append(poly(t))
        poly = P([1.0, 0.0, -1.0]) * poly.deriv()
    return out


def test_01_tanh(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TANH_PNG", raising=False)
    ours, theirs = run_both("01_tanh", plot_path=str(tmp_path / "tanh.png"))
    assert_same(ours, theirs)
    x = ours["x"]
    assert x.shape == (200,) and x[0] == -7 and x[-1] == 7
    for order, expected in enumerate(tanh_derivatives_closed_form(x, 6)):
        # High derivatives are tiny at |x| = 7; an absolute floor for those points.
        assert_allclose(ours[f"d{order}"], expected, rtol=1e-9, atol=1e-12, err_msg=order)
    if importlib.util.find_spec("matplotlib") is None:
        assert not (tmp_path / "tanh.png").exists()
    else:
        assert (tmp_path / "tanh.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_01_tanh_without_matplotlib(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TANH_PNG", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)     # import matplotlib fails
    result = load("01_tanh", "adclient").main()
    assert sorted(result) == ["d0", "d1", "d2", "d3", "d4", "d5", "d6", "x"]
    assert list(tmp_path.iterdir()) == []


def test_01_tanh_runs_as_a_script_with_its_own_daemon(tmp_path):
    env = dict(os.environ)
    env.pop("ADSERVER_ADDRESS", None)
    plot = tmp_path / "plot.png"
    r = subprocess.run([sys.executable, str(EXAMPLES / "01_tanh.py"), str(plot)], env=env,
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "derivative 6" in r.stdout
    has_matplotlib = importlib.util.find_spec("matplotlib") is not None
    assert plot.exists() == has_matplotlib
    assert sorted(p.name for p in tmp_path.iterdir()) == (["plot.png"] if has_matplotlib
                                                           else [])


# --- 2. Taylor series of sin, with a data-dependent break -----------------------------------
def test_02_taylor_sin(client):
    ours, theirs = run_both("02_taylor_sin")
    assert_same(ours, theirs)
    # The series stops after a number of terms that depends on x; for that number of terms
    # n, the function is the polynomial sum_k (-1)^k x^(2k+1) / (2k+1)!, whose derivatives
    # are known exactly.
    for x, value, first, second in zip(ours["x"], ours["value"], ours["first"], ours["second"]):
        term, n = x, 0
        while True:
            term = -term * x ** 2 / ((2 * n + 3) * (2 * n + 2))
            n += 1
            if abs(term) < 0.2 or n == 1000:
                break
        powers = [(-1) ** k * x ** (2 * k) / math.factorial(2 * k) for k in range(n + 1)]
        expected_first = sum(powers)
        expected_second = sum((-1) ** k * x ** (2 * k - 1) / math.factorial(2 * k - 1)
                              for k in range(1, n + 1))
        # The sums cancel (terms in the thousands at |x| = 10, sums of order 1): their rounding error scales with
        # the largest term, hence an absolute tolerance relative to it.
        assert_allclose(first, expected_first, rtol=1e-9, atol=1e-9 * max(map(abs, powers)))
        assert_allclose(second, expected_second, rtol=1e-9,
                        atol=1e-9 * max(map(abs, powers)) * max(abs(x), 1))
        assert abs(value - math.sin(x)) < 0.2 and abs(first - math.cos(x)) < 0.5


# --- 3. the fully connected net -------------------------------------------------------------
def test_03_neural_net(client):
    ours, theirs = run_both("03_neural_net")
    assert_same(ours, theirs)
    params, gradient = ours["initial_params"], ours["gradient"]
    assert type(gradient) is list and len(gradient) == len(params) == 3
    for (W, b), layer in zip(params, gradient):
        assert type(layer) is tuple and len(layer) == 2
        assert layer[0].shape == W.shape and layer[1].shape == b.shape
    losses = ours["losses"]
    assert losses[-1] < 0.2 * losses[0]


# --- 4. Hessian-vector products -------------------------------------------------------------
def test_04_hessian_vector_products(client):
    ours, theirs = run_both("04_hessian_vector_products")
    assert_same(ours, theirs)
    H = ours["hessian"]
    assert H.shape == (6, 6)
    assert_allclose(H, H.T, rtol=1e-12, atol=1e-12)
    assert_allclose(ours["hvp"], H @ ours["v"], rtol=1e-10)


# --- 5. the fluid simulation ----------------------------------------------------------------
@needs("roll", "mod", "floor", "astype", "reshape", "getitem", "mean")
def test_05_fluidsim(client):
    ours, theirs = run_both("05_fluidsim")
    assert_same(ours, theirs)
    assert ours["grad_before"].shape == (2 * 16 * 16,)
    assert numpy.abs(ours["grad_before"]).max() > 0
    assert ours["loss_after"] < 0.5 * ours["loss_before"]


# --- 6. black-box variational inference -----------------------------------------------------
@needs("diag", "scipy.stats.multivariate_normal.entropy", "exp", "sqrt", "mean")
def test_06_bbvi(client):
    ours, theirs = run_both("06_bbvi")
    assert_same(ours, theirs)
    assert ours["elbo_after"] > ours["elbo_before"] + 1.0
    assert ours["elbo_trace"].shape == (60,)


# --- 7. adam over nested parameters ---------------------------------------------------------
def test_07_adam_nested(client):
    ours, theirs = run_both("07_adam_nested")
    assert_same(ours, theirs)
    assert ours["callback_saw_nested_gradients"] is True
    assert ours["loss_after"] < 0.1 * ours["loss_before"]
    # The talk's adam and the library's are the same algorithm on the same gradients.
    assert_same(ours["params"], ours["library_params"])
    layers = ours["params"]["layers"]
    assert type(layers) is list and all(type(layer) is tuple for layer in layers)


# --- 8. the tutorial's advanced tricks ------------------------------------------------------
def test_08_tricks(client):
    ours, theirs = run_both("08_tricks")
    assert_same(ours, theirs)
    # checkpoint: the same gradient, with each block run again in the backward pass.
    assert_allclose(ours["checkpointed_grad"], ours["plain_grad"], rtol=1e-12)
    assert ours["plain_block_calls"] == 8 and ours["checkpointed_block_calls"] == 16
    # forward from reverse: J v, as forward mode and the Jacobian give it.
    J, v3 = ours["jacobian"], ours["v3"]
    assert J.shape == (4, 3)
    assert_allclose(ours["jvp_from_reverse"], J @ v3, rtol=1e-10)
    assert_allclose(ours["jvp_forward"], J @ v3, rtol=1e-10)
    # Gauss-Newton with g = |y|^2 / 2, whose Hessian is the identity: J^T J v.
    assert_allclose(ours["ggnvp"], J.T @ (J @ v3), rtol=1e-10)
    H = ours["hessian"]
    assert_allclose(ours["hvp"], H @ ours["v4"], rtol=1e-10)
    # The fixed point of Newton's iteration, and its derivative by the implicit function
    # theorem: d/da sqrt(a) = 0.5 / sqrt(a).
    a = ours["a"]
    assert_allclose(ours["sqrt"], math.sqrt(a), rtol=1e-12)
    assert_allclose(ours["d_sqrt"], 0.5 / math.sqrt(a), rtol=1e-9)


# --- 9. optimising optimisation -------------------------------------------------------------
def test_09_optimizing_optimization(client):
    ours, theirs = run_both("09_optimizing_optimization")
    assert_same(ours, theirs)
    assert ours["hypergradient"].shape == (100,)
    assert_allclose(ours["directional_derivative"], ours["finite_difference"], rtol=1e-5)
    history = ours["valid_history"]
    assert numpy.all(numpy.diff(history) < 0), history
