"""Random autograd programs, run by adclient and by HIPS autograd: the same answers.

Hypothesis draws a program; it runs once with ``autograd.numpy`` and once with
``adclient.numpy`` (a real daemon), and everything that comes out must agree: values to
1e-7, gradients in reverse mode (grad, elementwise_grad, make_vjp, jacobian) and, where
autograd has the rules, in forward mode (make_jvp); where one side raises, the other raises
the same kind of exception.

A program is a chain of calls of ops that both sides have (tests/op_cases: every op of
``autograd_equivalents()``, with the arguments of one of its cases). The case's arguments
are kept inside the op's domain: each differentiated argument is the case's value plus a
small perturbation, ``EPS * (sin(x_k) + tanh(earlier results))``, where ``x_k`` is one of
the program's inputs, of a shape that broadcasts to the argument's (so the inputs' shapes
are random and broadcasting is exercised in both directions of the gradient). A
perturbation keeps the case's structure: it is symmetric where the case's matrix is, and
zero where the case's argument is zero (triangular and banded matrices).

Drawn on top of the chain:
- how the inputs are passed: one array, a tuple, a list or a dict of arrays, or several
  positional arguments differentiated together (argnum a tuple);
- how the results come out: a scalar (grad), or a tuple, list or dict of every call's
  answer (make_vjp with a cotangent of that structure, make_jvp, elementwise_grad, and
  jacobian of the answers joined into one vector);
- a branch on values (``if np.sum(...) > 0``) that changes the function's formula;
- nested differentiation: grad of a function that calls grad inside itself, on a closure
  over its own traced argument (second order through every op of the chain);
- a fault: an op given shapes that do not fit, or grad of a non-scalar function; both
  sides must then raise, with the same kind of exception.

Left out, on purpose (EXCLUDED below says why, op by op): cases whose call form is written
for the engine's own primitives (eigenvector gauges), complex arguments (the complex
convention has tests of its own), and the cases op_cases marks as not for autograd.

Containers of answers are made with each library's ``builtins.tuple/list/dict``. autograd
traces a container only when those make it: returned as a plain Python tuple, traced values
are a constant to autograd (zero gradients, "Output seems independent of input"), while
adclient differentiates through them. That difference is adclient's on purpose, and the
generator writes the autograd way, which both sides read alike.
"""
import warnings
from dataclasses import dataclass, field

import numpy as onp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd
import autograd.builtins
import autograd.numpy as anp
import autograd.scipy.linalg  # noqa: F401  (autograd_equivalents reads these modules)
import autograd.scipy.signal  # noqa: F401
import autograd.scipy.special  # noqa: F401
import autograd.scipy.stats  # noqa: F401

import adclient
import adclient.builtins
import adclient.numpy as np
import adclient.scipy.linalg  # noqa: F401
import adclient.scipy.signal  # noqa: F401
import adclient.scipy.special  # noqa: F401
import adclient.scipy.stats  # noqa: F401
from adclient.errors import DaemonError

from op_cases import CASES, autograd_equivalents
from op_cases.case import as_list, positional

RTOL = 1e-7
ATOL = 1e-10   # gradients are scaled by EPS: an absolute 1e-7 would hide relative errors
EPS = 0.01   # perturbations stay well inside every case's margin from its domain's edges

# Forms of call that run the same code with adclient's function and with autograd's.
# (linalg's other forms pick gauge-free parts of eig/eigh/svd/qr answers with the engine's
# own primitives; they do not take adclient's functions.)
PORTABLE_FORMS = (positional, as_list)

#: op -> why the generator leaves it out (beyond the per-case filters of usable_case)
EXCLUDED = {
    # autograd's rules for these assume a symmetric (Hermitian) input and differentiate
    # as if the perturbation were symmetric too; only their gauge-fixing forms (written
    # for the engine) compare them, and the engine's gradient checker covers them.
    "linalg.eigh": "eigenvector signs are a gauge; compared only through engine forms",
    "linalg.eig": "eigenvector scales are a gauge; compared only through engine forms",
    "linalg.cholesky": "our rule differentiates the triangle LAPACK reads, autograd's a "
                       "symmetric input: the cases autograd serves symmetrize in an engine form",
    "linalg.slogdet": "the cases autograd serves pick the log-determinant in an engine form",
    "fft.irfft2": "its arguments are complex (outside the generator)",
    "fft.irfftn": "its arguments are complex (outside the generator)",
}

ORACLE = autograd_equivalents()

# adclient's counterparts of the autograd functions op_cases spells as lambdas.
_ADCLIENT_SPECIAL = {
    "getitem": lambda x, index: x[index],
    "concatenate_args": lambda axis, *arrays: np.concatenate(arrays, axis=axis),
    "pad": lambda array, pad_width, mode="constant", **kw: np.pad(array, pad_width, mode, **kw),
    "array_from_args": lambda *elements: np.array(list(elements)),
    "scipy.linalg.det": np.linalg.det,
    "scipy.linalg.inv": lambda a, assume_a=None: np.linalg.inv(a),
}


def adclient_function(name):
    """The function adclient offers under op ``name`` (numpy's or scipy's path)."""
    if name in _ADCLIENT_SPECIAL:
        return _ADCLIENT_SPECIAL[name]
    if name.startswith("scipy."):
        owner, path = adclient.scipy, name.split(".")[1:]
    else:
        owner, path = np, name.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner


def usable_case(case):
    """Whether a case can be run through both libraries' public functions."""
    if not case.oracle or case.form not in PORTABLE_FORMS:
        return False
    arrays = [a for a in case.args if isinstance(a, onp.ndarray)]
    return not any(onp.iscomplexobj(a) for a in arrays) and \
        all(onp.asarray(case.args[i]).dtype.kind == "f" for i in case.diff)


CALLS = [(name, case) for name in sorted(ORACLE) if name not in EXCLUDED
         for case in CASES.get(name, []) if usable_case(case)]


# --- the libraries a program runs with -----------------------------------------------------------
class Library:
    """What a program calls: a numpy module, the op functions and the differential operators."""

    def __init__(self, numpy, functions, operators, containers):
        self.np = numpy
        self.functions = functions
        self.ops = operators
        self.containers = containers

    def function(self, name):
        return self.functions(name)


AUTOGRAD = Library(anp, ORACLE.__getitem__, autograd, autograd.builtins)
ADCLIENT = Library(np, adclient_function, adclient, adclient.builtins)


# --- programs ---------------------------------------------------------------------------------------
@dataclass
class Call:
    """One op of the chain: its case, and which input perturbs each differentiated argument."""
    name: str
    case: object
    inputs: dict            # position of a differentiated argument -> input number
    branch: bool = False    # whether the answer's sign picks the formula of its score


@dataclass
class Program:
    calls: list
    input_shapes: list
    packing: str            # "single", "tuple", "list", "dict" or "args"
    output: str             # "scalar", "tuple", "list" or "dict"
    nested: bool = False
    fault: str = None       # None, "broadcast", "dot", "reshape" or "nonscalar_grad"
    seed: int = 0
    inputs: list = field(default_factory=list)

    def __post_init__(self):
        rng = onp.random.RandomState(self.seed)
        self.inputs = [onp.asarray(rng.randn(*shape)) for shape in self.input_shapes]

    def describe(self):
        calls = ", ".join(f"{c.name}[{c.case.ident()}]" + ("?" if c.branch else "")
                          for c in self.calls)
        return (f"Program({calls}; inputs {self.input_shapes} as {self.packing}; output "
                f"{self.output}; nested={self.nested}; fault={self.fault})")

    __repr__ = describe

    # the function, written once for both libraries
    def answers(self, lib, xs):
        """Every call's answer, in order, for the inputs ``xs`` (a list of arrays)."""
        npl = lib.np
        answers, drift = [], 0.0
        for call in self.calls:
            args = list(call.case.args)
            for position, k in call.inputs.items():
                base = onp.asarray(args[position])
                args[position] = base + EPS * _structured(npl, npl.sin(xs[k]) + drift, base)
            out = call.case.call(lib.function(call.name), tuple(args))
            answers.append(out)
            # later calls depend on this one's answer (a composition, not a list)
            drift = npl.tanh(_score(npl, out))
        if self.fault:
            answers.append(_fault(npl, self.fault, xs[0]))
        return answers

    def scalar(self, lib, xs):
        npl = lib.np
        total = 0.0
        for k, (call, out) in enumerate(zip(self.calls, self.answers(lib, xs))):
            score = _score(npl, out)
            if call.branch and npl.sum(npl.real(_first_leaf(out))) > 0:
                score = npl.sin(3.0 * score)       # a formula chosen by the values
            total = total + (k + 1.0) * score
        if self.fault == "nonscalar_grad":
            total = total * npl.ones(3)
        elif self.fault:
            total = total + npl.sum(self.answers(lib, xs)[-1])
        return total

    def nested_scalar(self, lib, xs):
        """A function that differentiates inside itself: the score of grad(self.scalar) at
        xs, where the inner function closes over the outer (traced) inputs."""
        npl = lib.np
        closure = 1.0 + 0.1 * npl.tanh(npl.sum(xs[0]))
        inner = lib.ops.grad(lambda zs: self.scalar(lib, zs) * closure)
        return _score(npl, inner(list(xs)))

    def outputs(self, lib, xs):
        """Every answer, in the container drawn. (autograd traces a container only when
        its own builtins make it: a plain tuple of traced values is a constant to it.)"""
        answers = self.answers(lib, xs)
        if self.output == "dict":
            return lib.containers.dict({f"call{k}": a for k, a in enumerate(answers)})
        return getattr(lib.containers, self.output)(answers)

    # the program as a function of its inputs packed as drawn
    def packed(self, f):
        """(function of the packed inputs, its arguments, argnum)."""
        if self.packing == "single":
            return (lambda x: f([x])), (self.inputs[0],), 0
        if self.packing == "args":
            n = len(self.inputs)
            return (lambda *xs: f(list(xs))), tuple(self.inputs), tuple(range(n))
        if self.packing == "dict":
            names = [f"x{k}" for k in range(len(self.inputs))]
            return (lambda d: f([d[n] for n in names])), \
                (dict(zip(names, self.inputs)),), 0
        kind = tuple if self.packing == "tuple" else list
        return (lambda xs: f(list(xs))), (kind(self.inputs),), 0


def _structured(npl, perturbation, base):
    """``perturbation`` (broadcast to base's shape) with base's structure: symmetric where
    base is, zero where base is zero, of zero sum along the last axis where base's sums
    there are 1 (points of a simplex, as dirichlet's)."""
    perturbation = perturbation + onp.zeros(base.shape)
    if base.ndim >= 1 and base.shape[-1] > 1 and onp.allclose(base.sum(axis=-1), 1.0):
        perturbation = perturbation - npl.mean(perturbation, axis=-1, keepdims=True)
    if base.ndim >= 2 and base.shape[-1] == base.shape[-2] and base.shape[-1] > 1 and \
            onp.allclose(base, onp.swapaxes(base, -1, -2)):
        perturbation = (perturbation + npl.swapaxes(perturbation, -1, -2)) / 2.0
    if base.size > 1 and not onp.all(base):
        perturbation = perturbation * (base != 0)
    return perturbation


def _leaves(out):
    if isinstance(out, dict):
        return [leaf for key in sorted(out) for leaf in _leaves(out[key])]
    if isinstance(out, (list, tuple)) or type(out).__name__ == "SequenceBox":
        return [leaf for part in out for leaf in _leaves(part)]
    return [out]


def _first_leaf(out):
    return _leaves(out)[0]


def _score(npl, out):
    """A scalar that depends on every element of every array in ``out``, each differently."""
    total = 0.0
    for k, leaf in enumerate(_leaves(out)):
        shape = npl.shape(leaf)
        weights = onp.cos(onp.arange(int(onp.prod(shape))) + k).reshape(shape)
        total = total + npl.sum(npl.sin(npl.real(leaf)) * weights)
    return total


def _fault(npl, fault, x):
    """An op given arguments that do not fit (numpy refuses them)."""
    n = npl.size(x)
    if fault == "broadcast":     # (lengths 2n and 2n + 1: neither is 1)
        return npl.concatenate([npl.ravel(x), npl.ravel(x)]) + npl.ones(2 * n + 1)
    if fault == "dot":
        return npl.dot(npl.reshape(x, (1, n)), npl.ones(n + 2))
    if fault == "reshape":
        return npl.reshape(x, (n + 1,))
    return npl.ravel(x)     # nonscalar_grad: the fault is in scalar()


# --- drawing programs ---------------------------------------------------------------------------------
def _shape_broadcasting_to(draw, shape):
    """A shape that broadcasts to ``shape``: some axes 1, some leading axes dropped."""
    kept = tuple(n if draw(st.booleans()) else 1 for n in shape)
    return kept[draw(st.integers(0, len(kept))):]


def _broadcasts_to(small, big):
    try:
        return onp.broadcast_shapes(small, big) == tuple(big)
    except ValueError:
        return False


@st.composite
def programs(draw, output=None, nested=None, faults=False):
    n_calls = draw(st.integers(1, 3))
    shapes, calls = [], []
    for _ in range(n_calls):
        name, case = draw(st.sampled_from(CALLS if not nested else SECOND_ORDER_CALLS))
        inputs = {}
        for position in case.diff:
            target = onp.shape(case.args[position])
            fits = [k for k, s in enumerate(shapes) if _broadcasts_to(s, target)]
            if fits and draw(st.booleans()):
                inputs[position] = draw(st.sampled_from(fits))     # an input shared
            else:
                shapes.append(_shape_broadcasting_to(draw, target))
                inputs[position] = len(shapes) - 1
        calls.append(Call(name, case, inputs, branch=draw(st.booleans())))
    packings = ["tuple", "list", "dict", "args"] + (["single"] if len(shapes) == 1 else [])
    return Program(
        calls, shapes, packing=draw(st.sampled_from(packings)),
        output=output or draw(st.sampled_from(["tuple", "list", "dict"])),
        nested=bool(nested),
        fault=draw(st.sampled_from([None, "broadcast", "dot", "reshape", "nonscalar_grad"]))
        if faults else None,
        seed=draw(st.integers(0, 2 ** 16)))


SECOND_ORDER_CALLS = [(name, case) for name, case in CALLS if case.second_order]


# --- running both sides and comparing ----------------------------------------------------------
def outcome(run):
    """(answer, None) or (None, exception) of ``run()``, warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return run(), None
        except Exception as exc:    # noqa: BLE001  (compared with the other side's)
            return None, exc


def exception_names(exc):
    """The names of the kinds of exception ``exc`` is: its classes, and for an error the
    daemon reported, the numpy exception named in its message."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, DaemonError):
        reported = str(exc).split("failed: ", 1)[-1].split(":", 1)[0].strip()
        names.add(reported)
        if reported in ("LinAlgError", "AxisError"):
            names.add("ValueError")
    return names


def same(ours, theirs, what):
    """Both answers equal (to 1e-7), or both raised the same kind of exception."""
    (ours, our_error), (theirs, their_error) = ours, theirs
    if their_error is not None or our_error is not None:
        assert their_error is not None, f"{what}: adclient raised {our_error!r}, autograd " \
                                        f"returned {theirs!r}"
        assert our_error is not None, f"{what}: autograd raised {their_error!r}, adclient " \
                                      f"returned {ours!r}"
        assert type(their_error).__name__ in exception_names(our_error), \
            f"{what}: autograd raised {their_error!r}, adclient {our_error!r}"
        return
    close(ours, theirs, what)


def close(ours, theirs, what):
    """Equal to 1e-7, of the same structure (tuples, lists and dicts alike)."""
    if isinstance(theirs, (tuple, list, dict)):
        assert type(ours) is type(theirs), f"{what}: {type(ours)} for {type(theirs)}"
        keys = sorted(theirs) if isinstance(theirs, dict) else range(len(theirs))
        assert len(ours) == len(theirs), f"{what}: {len(ours)} items for {len(theirs)}"
        for key in keys:
            close(ours[key], theirs[key], f"{what}[{key!r}]")
        return
    onp.testing.assert_allclose(onp.asarray(ours), onp.asarray(theirs), rtol=RTOL, atol=ATOL,
                                err_msg=what)


def both(program, run):
    """``run(lib)`` with autograd and with adclient: (adclient's outcome, autograd's)."""
    return outcome(lambda: run(ADCLIENT)), outcome(lambda: run(AUTOGRAD))


def tangents_like(program):
    rng = onp.random.RandomState(program.seed + 1)
    return [rng.randn(*onp.shape(x)) for x in program.inputs]


def packed_like(program, parts):
    _, args, _ = program.packed(lambda xs: None)
    if program.packing in ("single", "args"):
        return parts[0] if program.packing == "single" else tuple(parts)
    value = args[0]
    if isinstance(value, dict):
        return dict(zip(sorted(value), parts))
    return type(value)(parts)


def cotangent_like(answer, seed):
    """A cotangent of the structure and dtypes of ``answer``."""
    rng = onp.random.RandomState(seed)

    def like(x):
        if isinstance(x, dict):
            return {k: like(v) for k, v in x.items()}
        if isinstance(x, (tuple, list)):
            return type(x)(like(v) for v in x)
        value = onp.asarray(rng.randn(*onp.shape(x)))
        return value.astype(onp.result_type(onp.asarray(x).dtype, onp.float64))
    return like(answer)


def check_scalar(program, scalar_of):
    """grad and value_and_grad of a scalar program; forward mode on the same function."""
    def with_grad(lib):
        f, args, argnum = program.packed(lambda xs: scalar_of(program, lib, xs))
        return lib.ops.value_and_grad(f, argnum)(*args)
    ours, theirs = both(program, with_grad)
    runs_in_autograd(program, theirs)
    same(ours, theirs, f"value_and_grad of {program}")

    def with_jvp(lib):
        f, args, argnum = program.packed(lambda xs: scalar_of(program, lib, xs))
        return lib.ops.make_jvp(f, argnum)(*args)(packed_like(program, tangents_like(program)))
    check_forward(program, with_jvp)


def runs_in_autograd(program, outcome_there):
    """A program without a fault runs in autograd (else the generator is at fault, and
    a comparison of two errors would prove nothing); a program with one raises there."""
    error = outcome_there[1]
    if program.fault:
        assert error is not None, f"autograd did not refuse the fault of {program}"
    else:
        assert error is None, f"autograd cannot run {program}: {error!r}"


def check_forward(program, with_jvp):
    ours, theirs = both(program, with_jvp)
    if isinstance(theirs[1], NotImplementedError):
        return      # autograd has no forward-mode rule for one of the ops
    same(ours, theirs, f"make_jvp of {program}")


def check_outputs(program):
    """A program with several answers: values, make_vjp, elementwise_grad, make_jvp and,
    for one input, the Jacobian of the answers joined into one vector."""
    def values(lib):
        f, args, _ = program.packed(lambda xs: program.outputs(lib, xs))
        return f(*args)
    ours, theirs = both(program, values)
    runs_in_autograd(program, theirs)
    same(ours, theirs, f"values of {program}")
    if theirs[1] is not None:
        return
    g = cotangent_like(theirs[0], program.seed + 2)

    def vjp(lib):
        f, args, argnum = program.packed(lambda xs: program.outputs(lib, xs))
        back, _ = lib.ops.make_vjp(f, argnum)(*args)
        return back(g)
    same(*both(program, vjp), f"make_vjp of {program}")

    def elementwise(lib):
        f, args, argnum = program.packed(lambda xs: program.outputs(lib, xs))
        return lib.ops.elementwise_grad(f, argnum)(*args)
    same(*both(program, elementwise), f"elementwise_grad of {program}")

    def with_jvp(lib):
        f, args, argnum = program.packed(lambda xs: program.outputs(lib, xs))
        return lib.ops.make_jvp(f, argnum)(*args)(packed_like(program, tangents_like(program)))
    check_forward(program, with_jvp)

    if program.packing == "single":
        def jacobian(lib):
            def joined(x):
                leaves = _leaves(program.answers(lib, [x]))
                return lib.np.concatenate([lib.np.ravel(lib.np.real(a)) for a in leaves])
            return lib.ops.jacobian(joined)(program.inputs[0])
        same(*both(program, jacobian), f"jacobian of {program}")


# --- the tests ------------------------------------------------------------------------------------
@pytest.fixture
def daemon(tcp_daemon):
    """One transport is enough here: the programs test the answers, not the wire (the
    ``client`` fixture otherwise runs every test over TCP and over ipc)."""
    return tcp_daemon


SETTINGS = dict(derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@settings(max_examples=400, **SETTINGS)
@given(program=programs(output="scalar"))
def test_scalar_programs(client, program):
    check_scalar(program, Program.scalar)


@settings(max_examples=250, **SETTINGS)
@given(program=programs())
def test_programs_with_several_answers(client, program):
    check_outputs(program)


@settings(max_examples=200, **SETTINGS)
@given(program=programs(output="scalar", nested=True))
def test_grad_inside_the_differentiated_function(client, program):
    def with_grad(lib):
        f, args, argnum = program.packed(lambda xs: program.nested_scalar(lib, xs))
        return lib.ops.value_and_grad(f, argnum)(*args)
    ours, theirs = both(program, with_grad)
    runs_in_autograd(program, theirs)
    same(ours, theirs, f"grad of grad of {program}")


@settings(max_examples=120, **SETTINGS)
@given(program=programs(output="scalar", faults=True))
def test_faulty_programs_raise_alike(client, program):
    check_scalar(program, Program.scalar)


def test_every_op_autograd_has_is_drawn_or_excluded():
    drawn = {name for name, _ in CALLS}
    missing = set(ORACLE) - drawn - set(EXCLUDED)
    assert not missing, f"ops with no usable case and no reason given: {sorted(missing)}"
