"""Comparing a script's output with a seed's .expected file, as SEED_EXAMPLES.md says.

Lines are compared after dropping trailing white space on each line and blank lines at
the end; `<any number>` in the expected text matches one number as Lua prints it.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LUA_SEEDS = ROOT / "examples" / "lua"
# The specification the examples were copied from, beside the checkout when it is there.
SPEC_LUA = ROOT.parent / "shared" / "spec" / "lua"
_NUMBER = r"[-+]?(?:nan|inf|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"


def _lines(text):
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(expected, actual):
    """(True, None) or (False, a message naming the first line that differs)."""
    want, got = _lines(expected), _lines(actual)
    if len(want) != len(got):
        return False, f"expected {len(want)} lines, got {len(got)}:\n{actual}"
    for i, (w, g) in enumerate(zip(want, got), 1):
        pattern = "^" + _NUMBER.join(re.escape(part) for part in w.split("<any number>")) + "$"
        if not re.match(pattern, g):
            return False, f"line {i}: expected {w!r}, got {g!r}"
    return True, None
