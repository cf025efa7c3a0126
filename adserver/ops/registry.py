"""The registry itself: a dict from op name to what the session calls.

Rules refer to other ops through the namespace ``P`` (``P.cos(x)``), looked up when a rule
runs, so each family module can use any other family's ops without import cycles. An op
named "linalg.solve" is ``P.linalg_solve``.
"""
from types import SimpleNamespace

from ..engine.tracer import Primitive, DIFFERENTIABLE

#: wire name -> callable(*args, **kwargs); a Primitive, or a plain function built from them
OPS = {}

#: every registered op by its Python name, for rules to call
P = SimpleNamespace()

#: wire name -> Spec: what the wire may pass to the op, and its answer's size and cost
SPECS = {}


class Spec:
    """What an op accepts from the wire (a params.Signature), and its size and cost rules
    (sizing.py). The session checks all three before the op runs; an op without a Spec
    is refused (deny by default)."""

    __slots__ = ("sig", "size", "cost")

    def __init__(self, sig, size, cost):
        self.sig, self.size, self.cost = sig, size, cost


def declare(names, sig, size, cost):
    """Declare the Spec of the op(s) ``names`` (a name, or several sharing one Spec)."""
    for name in [names] if isinstance(names, str) else names:
        if name not in OPS:
            raise ValueError(f"declare: no op named {name!r}")
        if name in SPECS:
            raise ValueError(f"op {name!r} is declared twice")
        SPECS[name] = Spec(sig, size, cost)


def _pyname(name):
    return name.replace(".", "_")


def _register(name, op):
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    OPS[name] = op
    setattr(P, _pyname(name), op)
    return op


def defop(name, fun, status=DIFFERENTIABLE):
    """Register ``fun`` under ``name`` as a Primitive and return it (to attach rules)."""
    return _register(name, Primitive(name, fun, status))


def defcomposite(name, fun):
    """Register an op built from primitives: its derivatives come from theirs."""
    return _register(name, fun)


def status_of(name):
    """'vjp', 'zero', 'none', or 'composite' for an op built from primitives."""
    op = OPS[name]
    return op.status if isinstance(op, Primitive) else "composite"


class VariadicRules(dict):
    """Rules for an op with any number of array arguments: ``make(argnum)`` builds each."""

    def __init__(self, make, first=0):
        super().__init__()
        self.make = make
        self.first = first

    def get(self, argnum, default=None):
        return self.make(argnum) if argnum >= self.first else default


def has_jvp(name):
    """Whether forward mode covers every argument the op differentiates in reverse mode."""
    op = OPS[name]
    if not isinstance(op, Primitive):
        return True
    if isinstance(op.vjps, VariadicRules):
        return isinstance(op.jvps, VariadicRules)
    return set(op.vjps) <= set(op.jvps)
