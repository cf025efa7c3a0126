"""The registry itself: a dict from op name to what the session calls."""
from ..engine.tracer import Primitive, DIFFERENTIABLE

#: wire name -> callable(*args, **kwargs); a Primitive, or a plain function built from them
OPS = {}


def defop(name, fun, status=DIFFERENTIABLE):
    """Register ``fun`` under ``name`` as a Primitive and return it (to attach rules)."""
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    prim = Primitive(name, fun, status)
    OPS[name] = prim
    return prim


def defcomposite(name, fun):
    """Register an op that is built from primitives, so it needs no rules of its own."""
    if name in OPS:
        raise ValueError(f"op {name!r} is registered twice")
    OPS[name] = fun
    return fun


def status_of(name):
    """'vjp', 'zero', 'none', or 'composite' for an op built from primitives."""
    op = OPS[name]
    return op.status if isinstance(op, Primitive) else "composite"
