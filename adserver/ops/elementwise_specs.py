"""The one declaration every ufunc op shares (params.py, sizing.py).

A numpy or scipy.special ufunc takes its ``nin`` arrays by position and nothing else
from the wire: ``out=`` would write into memory the op did not allocate for this answer,
and ``where=False`` would answer memory nobody wrote, so no keyword is accepted at all.
The answer is the broadcast shape, with numpy's own type resolution for the dtype.
"""
import numpy as np

from ..engine.tracer import Primitive
from .params import Signature, ARRAY
from .registry import OPS, SPECS, declare
from .sizing import Out, elementwise, numel, raw

NUMPY_WEIGHT = 2.0      # a numpy ufunc's loop, per element read or written
SCIPY_WEIGHT = 50.0     # scipy.special's functions: series, continued fractions

# Ufuncs whose work per element grows with the values of some arguments (their
# positions, and how): scipy's yn runs a recurrence of |n| steps (yn(2**31, 1e12) took
# 14 s for one element); betainc's continued fraction takes about sqrt(max(a, b)) steps
# (a = b = 1e10: 80 us an element).
GROWS_WITH_VALUE = {"scipy.special.yn": ((0,), abs),
                    "scipy.special.betainc": ((0, 1), np.sqrt),
                    "scipy.special.betaincc": ((0, 1), np.sqrt)}
STEP_WORK = 20.0        # one step of such a recurrence

# numpy's transcendental ufuncs cost several times an arithmetic one per element, and on
# complex numbers (or integer powers, a loop of multiplications) tens of times more:
# arcsinh of complex64 ran 85x its arithmetic estimate, an int64 power 21x.
TRANSCENDENTAL = frozenset({
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "sinh",
    "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "asin",
    "acos", "atan", "asinh", "acosh", "atanh", "arctan2", "atan2", "power", "pow",
    "float_power", "sqrt", "cbrt", "hypot", "logaddexp", "logaddexp2", "sinc", "reciprocal"})
TRANSCENDENTAL_FACTOR = 4.0
HEAVY_DTYPE_FACTOR = 25.0   # complex answers; integer powers


def declare_ufuncs():
    for name, op in OPS.items():
        if name in SPECS or not isinstance(op, Primitive) or not isinstance(op.fun, np.ufunc):
            continue
        if op.fun.signature is not None:
            continue    # a generalized ufunc (matmul) has a size rule of its own
        ufunc = op.fun
        sig = Signature(*[(f"x{i + 1}", ARRAY) for i in range(ufunc.nin)])
        weight = SCIPY_WEIGHT if name.startswith("scipy.") else NUMPY_WEIGHT
        # (per element of the answer: each input is read once per element at most)
        if name in TRANSCENDENTAL:
            weight *= TRANSCENDENTAL_FACTOR
        cost = _by_answer_dtype(weight * (ufunc.nin + ufunc.nout),
                                integer_heavy=name in ("power", "pow"))
        if name in GROWS_WITH_VALUE:
            cost = _growing(cost, GROWS_WITH_VALUE[name])
        declare(name, sig, elementwise(ufunc), cost)


def _by_answer_dtype(weight, integer_heavy):
    """``weight`` per element of the answer, HEAVY_DTYPE_FACTOR times more for a complex
    answer (or an integer one, for a power)."""
    heavy = "ciu" if integer_heavy else "c"

    def cost(args, kwargs, outs):
        first = outs if type(outs) is Out else outs[0]
        if first.dtype.kind in heavy:
            return weight * HEAVY_DTYPE_FACTOR * numel(outs)
        return weight * numel(outs)
    return cost


def _growing(cost, how):
    """``cost``, plus STEP_WORK per element for each step the largest of the arguments at
    ``indices`` takes (``steps`` of its magnitude)."""
    indices, steps = how

    def grown(args, kwargs, outs):
        return cost(args, kwargs, outs) + STEP_WORK * most_steps(args, indices, steps) * \
            numel(outs)
    return grown


def most_steps(args, indices, steps):
    """The most steps any element of the arguments at ``indices`` asks for (nan: nan,
    which the session refuses)."""
    largest = 0.0
    for i in indices:
        values = np.abs(np.asarray(raw(args[i]), dtype=float))
        if values.size:
            top = float(np.max(values))
            if top != top:
                return top          # nan
            largest = max(largest, top)
    return float(steps(largest))
