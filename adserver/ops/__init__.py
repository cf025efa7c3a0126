"""The primitive table: stable string names -> Primitive (forward function and rules).

``OPS`` maps every wire name to the callable the session invokes; ``P`` holds the same
ops by Python name, for rules. Importing this package fills both, one family module at a
time; each module holds a family of ops and their VJP (reverse) and JVP (forward) rules.
"""
from ..engine.tracer import Primitive
from .registry import OPS, P, defop, defcomposite, status_of, has_jvp
from . import elementwise, reductions, shape, contractions  # noqa: F401  (register)
from . import box_operators  # noqa: F401  (gives Box its arithmetic operators)

# The engine sums forward-mode tangents with the add op.
Primitive.add = P.add

__all__ = ["OPS", "P", "defop", "defcomposite", "status_of", "has_jvp"]
