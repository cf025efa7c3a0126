"""The primitive table: stable string names -> Primitive (forward function and rules).

``OPS`` maps every wire name to the callable the session invokes; ``P`` holds the same
ops by Python name, for rules. Importing this package fills both by importing every
family module in it (each holds a family of ops with their VJP and JVP rules); a new
family is a new module here, and its cases a new module in tests/op_cases.
"""
import importlib
import pkgutil

from ..engine.tracer import Primitive
from ..engine.tuples import accumulate
from .registry import OPS, P, SPECS, defop, defcomposite, declare, status_of, has_jvp

# Modules that hold machinery rather than ops.
_NOT_FAMILIES = {"registry", "base", "coverage", "box_operators", "params", "sizing", "elementwise_specs"}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name not in _NOT_FAMILIES:
        importlib.import_module(f"{__name__}.{_info.name}")

from . import box_operators  # noqa: E402,F401  (gives Box its arithmetic operators)
from .elementwise_specs import declare_ufuncs  # noqa: E402

# Ops that are numpy or scipy ufuncs share one declaration: their arrays by position,
# nothing by name (no out=, where=, casting=, dtype=). Every other op declares its own.
declare_ufuncs()

# The engine sums forward-mode tangents with the add op (tuples element by element).
Primitive.add = accumulate(P.add)

__all__ = ["OPS", "P", "SPECS", "defop", "defcomposite", "declare", "status_of", "has_jvp"]
