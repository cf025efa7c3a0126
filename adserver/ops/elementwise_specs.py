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
from .sizing import elementwise, numel, per_output, raw

NUMPY_WEIGHT = 2.0      # a numpy ufunc's loop, per element read or written
SCIPY_WEIGHT = 50.0     # scipy.special's functions: series, continued fractions

# Ufuncs whose work per element grows with the value of one argument (its position):
# scipy's yn runs a recurrence of |n| steps (yn(2**31, 1e12) took 14 s for one element).
GROWS_WITH_VALUE = {"scipy.special.yn": 0}
STEP_WORK = 20.0        # one step of such a recurrence


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
        cost = per_output(weight * (ufunc.nin + ufunc.nout))
        if name in GROWS_WITH_VALUE:
            cost = _growing(cost, GROWS_WITH_VALUE[name])
        declare(name, sig, elementwise(ufunc), cost)


def _growing(cost, index):
    """``cost``, plus STEP_WORK per element for each unit of the largest |argument|."""
    def grown(args, kwargs, outs):
        steps = np.abs(np.asarray(raw(args[index]), dtype=float))
        largest = float(np.max(steps)) if steps.size else 0.0   # (nan stays nan: refused)
        return cost(args, kwargs, outs) + STEP_WORK * largest * numel(outs)
    return grown
