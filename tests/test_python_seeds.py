"""The Python seed examples (SEED_EXAMPLES.md, items 1 to 9), each against its autograd twin.

Every example in examples/python is an ordinary autograd program with adclient imports.
Its twin is the same source with only the import lines rewritten (`adclient` becomes
`autograd`, by the one regular expression below); nothing else may name adclient. Both run
here in this process, and every number the two main()s return must agree to 1e-7
relative. Each example's own acceptance checks follow (the loss lowered, the ELBO raised,
hvp equal to hessian @ v, ...).

The adclient side runs on a real daemon, reached over tcp or ipc (the `client` fixture);
the autograd twin runs once per example and is reused for both transports.
"""
import importlib.util
import io
import math
import os
import re
import subprocess
import sys
import tokenize
import types
from pathlib import Path

import numpy
import pytest
from numpy.testing import assert_allclose

from adproto import vocabulary

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "python"

# `import adclient...` and `from adclient... import ...`, at any indentation: the module
# name right after the keyword is the only thing the twin changes.
IMPORT_LINE = re.compile(r"^([ \t]*(?:import|from)[ \t]+)adclient(?=[.\s])", re.MULTILINE)


def autograd_twin(source):
    """``source`` with its adclient imports turned into autograd imports, and nothing else."""
    twin, count = IMPORT_LINE.subn(r"\1autograd", source)
    assert count, "the example imports nothing from adclient"
    names = {tok.string for tok in tokenize.generate_tokens(io.StringIO(twin).readline)
             if tok.type == tokenize.NAME}
    assert "adclient" not in names, "adclient is named outside an import line"
    return twin


def load(stem, flavour):
    """The example as a fresh module: flavour 'adclient' (as written) or 'autograd'."""
    path = EXAMPLES / f"{stem}.py"
    source = path.read_text()
    if flavour == "autograd":
        source = autograd_twin(source)
    module = types.ModuleType(f"seed_{stem}_{flavour}")
    module.__file__ = str(path)
    exec(compile(source, f"{path} ({flavour})", "exec"), module.__dict__)
    return module


_twin_results = {}


def run_both(stem, **kwargs):
    """(adclient's result, the autograd twin's result) of the example's main()."""
    ours = load(stem, "adclient").main(**kwargs)
    if stem not in _twin_results:
        _twin_results[stem] = load(stem, "autograd").main(**kwargs)
    return ours, _twin_results[stem]


def assert_same(ours, theirs, where="result"):
    """Every number in two results (dicts, lists, tuples, arrays, scalars) agrees to 1e-7
    relative, and the containers have the same structure. No example needs an absolute
    tolerance: where a value is near zero, both sides compute it the same way."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]")
        return
    if isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]")
        return
    if isinstance(theirs, (bool, numpy.bool_, str)) or theirs is None:
        assert ours == theirs, where
        return
    assert numpy.shape(ours) == numpy.shape(theirs), where
    assert_allclose(ours, theirs, rtol=1e-7, atol=0, err_msg=where)


def needs(*ops):
    """xfail (strictly) while an op the example uses is missing from the vocabulary."""
    missing = [op for op in ops if op not in vocabulary.OPS]
    return pytest.mark.xfail(bool(missing), strict=True,
                             reason=f"needs op(s) {', '.join(missing)}")


# --- the import rewriting itself ------------------------------------------------------------
def test_every_example_has_a_twin_that_differs_only_in_its_imports():
    stems = sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert len(stems) == 9, stems
    for stem in stems:
        source = (EXAMPLES / f"{stem}.py").read_text()
        twin = autograd_twin(source)
        changed = [(a, b) for a, b in zip(source.splitlines(), twin.splitlines()) if a != b]
        assert changed, stem
        for before, after in changed:
            assert re.match(r"\s*(import|from)\s+adclient\b", before), before
            assert after == before.replace("adclient", "autograd", 1), after


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
