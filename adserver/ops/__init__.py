"""The primitive table: stable string names -> Primitive (forward function and rules).

``OPS`` maps every wire name to the callable the session invokes. Importing this package
fills it; the modules below each hold one family of ops and their rules.
"""
from .registry import OPS, defop, status_of
from . import numpy_ops  # noqa: F401  (registers the numpy family)
from . import box_operators  # noqa: F401  (gives Box its arithmetic operators)

__all__ = ["OPS", "defop", "status_of"]
