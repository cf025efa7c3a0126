"""docs/OPS.md is generated from the registry; it must match what the registry says now."""
from pathlib import Path

from adserver.ops import coverage

DOC = Path(__file__).resolve().parents[1] / "docs" / "OPS.md"


def test_coverage_table_is_current():
    assert DOC.read_text() == coverage.render(), (
        "docs/OPS.md is out of date: run `python -m adserver.ops.coverage > docs/OPS.md`")


def test_every_differentiable_op_has_both_modes():
    missing = [name for name, status, vjp, jvp, _ in coverage.rows()
               if status in ("vjp", "composite") and (vjp != "yes" or jvp != "yes")]
    assert not missing, f"ops without both a VJP and a JVP: {missing}"
