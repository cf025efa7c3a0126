"""Running an example of examples/python against its autograd twin.

Every example is an ordinary autograd program with adclient imports. Its twin is the same
source with only the import lines rewritten (`adclient` becomes `autograd`, by the one
regular expression below); nothing else may name adclient. Both run in the test's process,
and the numbers the two main()s return are compared by ``assert_same``.
"""
import io
import re
import tokenize
import types
from pathlib import Path

import numpy
import pytest
from numpy.testing import assert_allclose

from adproto import vocabulary

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "python"

# `import adclient...` and `from adclient... import ...`, at any indentation: the module
# name right after the keyword is the only thing the twin changes.
IMPORT_LINE = re.compile(r"^([ \t]*(?:import|from)[ \t]+)adclient(?=[.\s])", re.MULTILINE)


def autograd_twin(source):
    """``source`` with its adclient imports turned into autograd imports, and nothing else."""
    twin, count = IMPORT_LINE.subn(r"\1autograd", source)
    assert count, "the example imports nothing from adclient"
    names = {tok.string for tok in tokenize.generate_tokens(io.StringIO(twin).readline)
             if tok.type == tokenize.NAME}
    assert "adclient" not in names, "adclient is named outside an import line"
    return twin


def assert_only_imports_differ(stem):
    """The twin of examples/python/<stem>.py changes import lines, and only them."""
    source = (EXAMPLES / f"{stem}.py").read_text()
    twin = autograd_twin(source)
    changed = [(a, b) for a, b in zip(source.splitlines(), twin.splitlines()) if a != b]
    assert changed, stem
    for before, after in changed:
        assert re.match(r"\s*(import|from)\s+adclient\b", before), before
        assert after == before.replace("adclient", "autograd", 1), after


def load(stem, flavour):
    """The example as a fresh module: flavour 'adclient' (as written) or 'autograd'."""
    path = EXAMPLES / f"{stem}.py"
    source = path.read_text()
    if flavour == "autograd":
        source = autograd_twin(source)
    module = types.ModuleType(f"seed_{stem}_{flavour}")
    module.__file__ = str(path)
    exec(compile(source, f"{path} ({flavour})", "exec"), module.__dict__)
    return module


_twin_results = {}


def run_both(stem, **kwargs):
    """(adclient's result, the autograd twin's result) of the example's main(). The twin
    runs once per example and keyword arguments, and is reused across transports."""
    ours = load(stem, "adclient").main(**kwargs)
    key = (stem, repr(sorted(kwargs.items())))      # (values need not be hashable)
    if key not in _twin_results:
        _twin_results[key] = load(stem, "autograd").main(**kwargs)
    return ours, _twin_results[key]


def assert_same(ours, theirs, where="result", rtol=1e-7, atol=0):
    """Every number in two results (dicts, lists, tuples, arrays, scalars) agrees to
    ``rtol`` relative (plus ``atol`` absolute, for values that are near zero), and the
    containers have the same structure."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(theirs), where
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{where}[{key!r}]", rtol, atol)
        return
    if isinstance(theirs, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, f"{where}[{i}]", rtol, atol)
        return
    if isinstance(theirs, (bool, numpy.bool_, str)) or theirs is None:
        assert ours == theirs, where
        return
    assert numpy.shape(ours) == numpy.shape(theirs), where
    assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=where)


def needs(*ops):
    """xfail (strictly) while an op the example uses is missing from the vocabulary."""
    missing = [op for op in ops if op not in vocabulary.OPS]
    return pytest.mark.xfail(bool(missing), strict=True,
                             reason=f"needs op(s) {', '.join(missing)}")
