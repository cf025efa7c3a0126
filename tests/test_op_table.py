"""The op table's declarations, checked against the ops themselves (issue 11: deny by default).

Every registered op declares what the wire may pass to it (a signature, ops/params.py) and
its answer's size and cost (ops/sizing.py). These tests walk the whole registry, as the
gradient checker does for the VJP rules: on every case of tests/op_cases the signature
admits the call the case makes, the size rule gives the real answer's shape and dtype
(an upper bound where the rule says the shape depends on values), and the cost is a
finite number. A new op without a declaration, or with a rule that disagrees with the
op, does not land.
"""
import inspect
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from adserver.engine import Box  # noqa: E402
from adserver.engine.tracer import Primitive  # noqa: E402
from adserver.ops import OPS, SPECS  # noqa: E402
from adserver.ops import sizing  # noqa: E402
from adserver.ops.params import ParamError, ARRAY  # noqa: E402
from op_cases import CASES  # noqa: E402


def _calls(name):
    """(args, kwargs, answer) of each call the op's cases make, as the session makes it."""
    out = []
    op = OPS[name]

    def recorder(*args, **kwargs):
        answer = op(*args, **kwargs)
        out.append((args, kwargs, answer))
        return answer

    for case in CASES.get(name, []):
        case.call(recorder)
    return out


def _params():
    for name in sorted(OPS):
        yield pytest.param(name, id=name)


def test_every_registered_op_is_declared():
    missing = sorted(set(OPS) - set(SPECS))
    assert not missing, f"ops without a declaration (signature, size, cost): {missing}"


def _raw(v):
    while isinstance(v, Box):
        v = v._value
    return v


def _answers(answer):
    answer = _raw(answer)
    if isinstance(answer, (tuple, list)):
        return [np.asarray(_raw(a)) for a in answer]
    return [np.asarray(answer)]


@pytest.mark.parametrize("name", list(_params()))
def test_declaration_fits_every_case(name):
    spec = SPECS[name]
    calls = _calls(name)
    assert calls, f"{name}: no case calls the op"
    for args, kwargs, answer in calls:
        where = f"{name}({len(args)} args, kwargs {sorted(kwargs)})"
        try:
            spec.sig.check(list(args), kwargs)
        except ParamError as exc:
            pytest.fail(f"{where}: the signature refuses a case: {exc}")
        size = spec.size(list(args), kwargs)
        outs = sizing.outs_of(size)
        real = _answers(answer)
        assert len(outs) == len(real), f"{where}: rule gives {len(outs)} results, op {len(real)}"
        for rule, got in zip(outs, real):
            if rule.bound:
                assert len(rule.shape) == got.ndim and all(
                    r >= g for r, g in zip(rule.shape, got.shape)), \
                    f"{where}: bound {rule.shape} under the answer's shape {got.shape}"
                assert rule.dtype.itemsize >= got.dtype.itemsize, \
                    f"{where}: bound dtype {rule.dtype} smaller than {got.dtype}"
            else:
                assert rule.shape == got.shape, f"{where}: rule says {rule.shape}, op made {got.shape}"
                assert rule.dtype == got.dtype, f"{where}: rule says {rule.dtype}, op made {got.dtype}"
        cost = spec.cost(list(args), kwargs, size)
        assert isinstance(cost, (int, float)) and math.isfinite(cost) and cost >= 0, \
            f"{where}: cost {cost!r}"


# --- deny by default ---------------------------------------------------------------------------
_DANGEROUS = {"out": np.zeros(3), "where": False, "casting": "unsafe", "order": "K",
              "subok": True, "signature": "dd->d", "extobj": [], "like": np.zeros(1)}


@pytest.mark.parametrize("name", list(_params()))
def test_no_op_accepts_numpys_dangerous_keywords(name):
    """out=, where= (on an op whose answer it leaves unwritten), casting=, order=, like=..."""
    spec = SPECS[name]
    calls = _calls(name)
    args, kwargs, _ = calls[0]
    for key, value in _DANGEROUS.items():
        if key == "where" and name in _REDUCTIONS_WITH_WHERE:
            continue
        with pytest.raises(ParamError):
            spec.sig.check(list(args), {**kwargs, key: value})


# Reductions that numpy fills with their identity outside where= (no unwritten memory).
_REDUCTIONS_WITH_WHERE = {"sum", "mean", "var", "std", "prod", "nansum", "nanmean", "nanvar",
                          "nanstd", "nanprod", "count_nonzero"}


@pytest.mark.parametrize("name", list(_params()))
def test_no_op_takes_a_string_or_an_object_where_it_takes_an_array(name):
    spec = SPECS[name]
    for i, p in enumerate(spec.sig.positional):
        if p.kind is ARRAY:
            args, kwargs, _ = _calls(name)[0]
            args = list(args)
            if i < len(args):
                for bad in ("a" * 1000, {"x": 1}, [["a", "b"]], None):
                    args[i] = bad
                    with pytest.raises(ParamError):
                        spec.sig.check(args, kwargs)


def _positional_names(fun):
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):
        return None
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names.append("*")
            break
    return names


@pytest.mark.parametrize("name", list(_params()))
def test_positions_are_the_functions_own(name):
    """A parameter declared at position i is the function's parameter i, so no position
    the table admits can reach a parameter it does not name (such as numpy's out)."""
    op = OPS[name]
    fun = op.fun if isinstance(op, Primitive) else op
    if isinstance(fun, np.ufunc):
        return
    theirs = _positional_names(fun)
    if theirs is None:
        return
    ours = [p.name for p in SPECS[name].sig.positional]
    if "*" in theirs:
        theirs = theirs[:theirs.index("*")]
        ours = ours[:len(theirs)]
    assert len(ours) <= len(theirs) or SPECS[name].sig.star is None, (ours, theirs)
    assert ours == theirs[:len(ours)], \
        f"{name}: declared positions {ours}, the function's {theirs}"


def test_diff_with_a_huge_n_stops_at_the_arrays_length():
    """numpy's diff loops n times even after the answer is empty; ours stops there (were it
    to loop, this test would not finish)."""
    got = OPS["diff"](np.ones((3, 4)), 1 << 40, axis=1)
    assert got.shape == np.diff(np.ones((3, 4)), 5, axis=1).shape == (3, 0)
