"""Example arguments for every op in the registry, for the gradient checker.

``CASES`` maps each op name in ``adserver.ops.OPS`` to a list of ``Case``; each module of
this package holds one family's cases (a ``CASES`` dict, and optionally an ``AUTOGRAD``
function giving autograd's equivalents). The checker fails for any registered op missing
here, so a new op cannot land without a checked rule.
"""
import importlib
import pkgutil
import zlib

import numpy as np

from . import case
from .case import Case

CASES = {}
_ORACLE_TABLES = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name == "case":
        continue
    # Each family draws its inputs from a generator of its own, so adding cases to one
    # family never changes another family's inputs.
    case.rng = np.random.default_rng(zlib.crc32(_info.name.encode()))
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name, _cases in _module.CASES.items():
        if _name in CASES:
            raise ValueError(f"op {_name!r} has cases in two modules of op_cases")
        CASES[_name] = _cases
    if hasattr(_module, "autograd_equivalents"):
        _ORACLE_TABLES.append(_module.autograd_equivalents)


def autograd_equivalents():
    """op name -> the same function in autograd.numpy/scipy, merged over every family."""
    table = {}
    for make in _ORACLE_TABLES:
        table.update(make())
    return table


__all__ = ["CASES", "Case", "autograd_equivalents"]
