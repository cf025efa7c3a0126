"""autograd's examples, second group (examples/python/21_* to 35_*), each against its twin.

Each example runs with adclient on a real daemon (tcp and ipc, the `client` fixture) and
as its autograd twin (example_twins.py); every returned number agrees to 1e-7 relative.
Then the example's own claim is checked. At the end: focused regression tests for the
bugs these examples met (a gradient rule that calls grad, differentiated again; the order
in which flatten walks a dict; the type of an exception raised on the daemon).
"""
import re

import numpy
import pytest
from numpy.testing import assert_allclose

try:
    from example_twins import EXAMPLES, assert_same, autograd_twin, load, run_both
except ImportError:     # the twin machinery as it was, inside test_python_seeds
    from test_python_seeds import EXAMPLES, assert_same, autograd_twin, load, run_both

STEMS = ["21_black_box_svi", "22_natural_gradient_svi", "23_mixture_variational_inference",
         "24_hmm_em", "25_ica", "26_ode_net", "27_rkhs", "28_fixed_points",
         "29_negative_binomial", "30_rosenbrock", "31_sinusoid", "32_logistic_regression",
         "33_define_gradient", "34_print_trace", "35_dot_graph"]


@pytest.mark.parametrize("stem", STEMS)
def test_twin_differs_only_in_its_imports(stem):
    source = (EXAMPLES / f"{stem}.py").read_text()
    twin = autograd_twin(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), twin.splitlines()) if a != b]
    assert changed
    for before, after in changed:
        assert re.match(r"\s*(import|from)\s+adclient\b", before), before
        assert after == before.replace("adclient", "autograd", 1), after


def both(stem, **kwargs):
    ours, theirs = run_both(stem, **kwargs)
    assert_same(ours, theirs)
    return ours


def test_21_black_box_svi(client):
    r = both("21_black_box_svi")
    trace = r["elbo_trace"]
    assert trace.shape == (60,) and trace[-10:].mean() > trace[0] + 5


def test_22_natural_gradient_svi(client):
    r = both("22_natural_gradient_svi")
    assert r["plain_kl"] < 0.01 * r["initial_kl"]
    assert r["natural_kl"] < r["plain_kl"]


def test_23_mixture_variational_inference(client):
    r = both("23_mixture_variational_inference")
    assert r["elbo_trace"][-5:].mean() > r["elbo_trace"][0] + 1
    # one component on each mode, with about the target's weights
    means = r["params"]["means"][numpy.argsort(r["params"]["means"][:, 0])]
    assert_allclose(means, [[-2.0, 0.0], [2.0, 1.0]], atol=0.3)
    assert_allclose(numpy.sort(r["weights"]), [0.3, 0.7], atol=0.1)
    assert list(r["params"]) == ["means", "log_stds", "logits"]   # the caller's order


def test_24_hmm_em(client):
    r = both("24_hmm_em")
    assert numpy.all(numpy.diff(r["loglikes"]) > -1e-9)            # EM never goes down
    for p in (r["pi"], r["A"], r["B"]):
        assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)


def test_24_hmm_em_gradient_is_the_expected_counts(client):
    """The E step: d log Z / d log A sums to the number of transitions."""
    module = load("24_hmm_em", "adclient")
    from adclient import grad
    data = [numpy.array([0, 1, 1, 2, 0]), numpy.array([3, 3, 1])]
    params = [numpy.log(numpy.full(s, 1.0 / s[-1])) for s in [(3,), (3, 3), (3, 4)]]
    pi_counts, A_counts, B_counts = grad(module.log_partition_function)(params, data)
    assert_allclose(pi_counts.sum(), 2.0, rtol=1e-12)
    assert_allclose(A_counts.sum(), 4 + 2, rtol=1e-12)
    assert_allclose(B_counts.sum(), 8.0, rtol=1e-12)


def test_25_ica(client):
    r = both("25_ica")
    assert r["loss"] < 0.7 * r["losses"][0]
    assert numpy.all(r["column_match"] > 0.9)


def test_26_ode_net(client):
    r = both("26_ode_net")
    assert r["final_loss"] < 0.8 * r["losses"][0]


def test_27_rkhs(client):
    r = both("27_rkhs")
    assert r["errors"][-1] < 0.02 * r["errors"][0]
    assert numpy.all(numpy.diff(r["errors"]) < 0)


def test_28_fixed_points(client):
    r = both("28_fixed_points")
    assert_allclose(r["newton_sqrt"], numpy.sqrt(2.0), rtol=1e-12)
    assert_allclose(r["newton_d_sqrt"], 0.5 / numpy.sqrt(2.0), rtol=1e-8)
    assert_allclose(r["descent_d_sqrt"], 0.5 / numpy.sqrt(2.0), rtol=1e-6)
    assert r["cube"] == 8.0 and r["d_cube"] == 12.0 and r["dd_cube"] == 12.0


def test_29_negative_binomial(client):
    r = both("29_negative_binomial")
    # at the optimum the profile likelihood's derivative vanishes, and p = mean / (mean + r)
    assert_allclose(r["p"], r["mean"] / (r["mean"] + r["r"]), rtol=1e-12)
    assert 3.0 < r["r"] < 8.0 and r["newton_steps"] < 20


def test_30_rosenbrock(client):
    r = both("30_rosenbrock")
    assert_allclose(r["x"], [1.0, 1.0], atol=1e-5)
    assert_allclose(r["x_value_and_grad"], r["x"], rtol=1e-12)
    assert_allclose(r["gradient_at_start"], [-215.6, -88.0], rtol=1e-12)


def test_31_sinusoid(client):
    r = both("31_sinusoid")
    x = r["x"]
    assert_allclose(r["first"], numpy.cos(x), rtol=1e-12, atol=1e-15)
    assert_allclose(r["second"], -numpy.sin(x), rtol=1e-12, atol=1e-15)
    assert_allclose(r["first_elementwise"], r["first"], rtol=1e-12, atol=1e-15)
    assert_allclose(r["third_elementwise"], -numpy.cos(x), rtol=1e-12, atol=1e-15)


def test_32_logistic_regression(client):
    r = both("32_logistic_regression")
    assert r["losses"][-1] < 0.2 * r["losses"][0] and r["accuracy"] >= 0.9


def test_33_define_gradient(client):
    r = both("33_define_gradient")
    assert_allclose(r["gradient"], r["derived_gradient"], rtol=1e-12)


def test_34_print_trace(client, capsys):
    r = both("34_print_trace")
    assert r["tanh_lines"][0] == "x0 = 1.0"
    assert [line.split(" = ")[1].split("(")[0] for line in r["tanh_lines"][1:]] == \
        ["multiply", "exp", "subtract", "add", "divide"]
    assert r["tanh_lines"][-1].endswith(f"{numpy.tanh(1.0):.6f}")
    assert "x4 = sum(x3)" in r["softplus_lines"][-1]


def test_35_dot_graph(client, tmp_path):
    r = both("35_dot_graph", path=str(tmp_path / "graph.dot"))
    dot = (tmp_path / "graph.dot").read_text()
    assert dot == r["dot"] and dot.startswith("digraph G {") and dot.endswith("}\n")
    assert r["primitives"] == ["x", "sin", "exp", "add", "subtract", "multiply"]
    assert "n1 -> n5;" in dot            # y = sin(x) is used twice


# --- regression tests for what the examples found ---------------------------------------------
def test_grad_of_a_gradient_rule_that_calls_grad(client):
    """The daemon runs the user's VJP inside the outer trace's level; the grad inside it
    used to ask for level 1 again ("trace.push expected level 2, the client asked for 1")."""
    from adclient import grad
    from adclient.extend import primitive, defvjp

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda ans, x: lambda g: g * grad(lambda y: y ** 3)(x))
    assert grad(cube)(2.0) == 12.0
    assert grad(grad(cube))(2.0) == 12.0
    assert grad(lambda x: grad(cube)(x) * x)(2.0) == 36.0      # d/dx 3x^3
    assert grad(cube)(3.0) == 27.0                               # the client's level is back


def test_flatten_orders_a_dict_by_its_sorted_keys(client):
    from autograd.misc.flatten import flatten as autograd_flatten
    from adclient.misc.flatten import flatten
    from adclient.misc.optimizers import sgd
    value = {"w": numpy.array([1.0, 2.0]), "b": (3.0, numpy.array([[4.0]])),
             "a": {"z": numpy.array([5.0]), "c": [6.0]}}
    flat, unflatten = flatten(value)
    assert_allclose(flat, autograd_flatten(value)[0], rtol=0)
    assert_allclose(flat, [6.0, 5.0, 3.0, 4.0, 1.0, 2.0], rtol=0)
    back = unflatten(flat)
    assert list(back) == ["w", "b", "a"] and list(back["a"]) == ["z", "c"]
    # what an optimizer's callback sees of the flat gradient
    seen = []
    sgd(lambda x, i: {"w": numpy.ones(2), "b": 2 * numpy.ones(1)},
        {"w": numpy.zeros(2), "b": numpy.zeros(1)}, num_iters=1,
        callback=lambda x, i, g: seen.append(flatten(g)[0]))
    assert_allclose(seen[0], [2.0, 1.0, 1.0], rtol=0)


def test_daemon_errors_keep_the_numpy_exception_type(client):
    import adclient.numpy as np
    from adclient import grad
    from adclient.errors import DaemonError

    def singular(a):
        return np.sum(np.linalg.inv(a * numpy.ones((2, 2))))

    with pytest.raises(numpy.linalg.LinAlgError) as caught:
        grad(singular)(numpy.ones((2, 2)))
    assert isinstance(caught.value, DaemonError) and isinstance(caught.value, ValueError)
    assert "Singular matrix" in str(caught.value)

    with pytest.raises(ValueError) as caught:
        grad(lambda a: np.sum(np.reshape(a, (3, 3))))(numpy.ones(4))
    assert isinstance(caught.value, DaemonError)
    assert not isinstance(caught.value, numpy.linalg.LinAlgError)

    # an error type outside the kept ones is a plain DaemonError
    plain = DaemonError({"type": "OpError", "message": "MemoryError: too big"})
    assert type(plain) is DaemonError
    assert type(DaemonError({"type": "ProtocolError", "message": "ValueError: x"})) \
        is DaemonError
    # a client gradient function's exception comes back with its own type too
    from adclient.extend import primitive, defvjp

    @primitive
    def f(x):
        return x * 2.0

    def bad_vjp(ans, x):
        def vjp(g):
            raise ZeroDivisionError("no gradient here")
        return vjp

    defvjp(f, bad_vjp)
    with pytest.raises(ZeroDivisionError):
        grad(f)(1.0)
