"""Reports generated from the registry.

    python -m adserver.ops.coverage > docs/OPS.md                       # the coverage table
    python -m adserver.ops.coverage --vocabulary > protocol/adproto/vocabulary.py

The coverage table lists every registered op with its reverse, forward and second-order
status. The vocabulary is what clients need to know of the op names: which exist, and
which never return traced values.

Second order holds wherever the first-order rules exist, because every rule is written
with registry ops (the gradient checker verifies it op by op). When HIPS autograd is
importable, each row also says whether autograd has the op, and the totals are compared.
"""
import sys
import types

from ..engine.tracer import Primitive
from .registry import OPS, VariadicRules, status_of, has_jvp


def _autograd_tables():
    """(autograd's name -> (vjp, jvp)) for its public numpy and scipy namespaces, or None."""
    try:
        from autograd.core import primitive_vjps, primitive_jvps
        import autograd.numpy as anp
        import autograd.scipy as asp
        for sub in ["numpy.linalg", "numpy.fft", "scipy.special", "scipy.stats",
                    "scipy.signal", "scipy.linalg", "scipy.integrate"]:
            __import__(f"autograd.{sub}")
    except ImportError:
        return None

    def walk(module, prefix, seen, out):
        for key in dir(module):
            if key.startswith("_") or key in ("numpy_wrapper", "numpy_vjps", "numpy_jvps"):
                continue
            try:
                value = getattr(module, key)
            except Exception:
                continue
            if isinstance(value, types.ModuleType):
                if value.__name__.startswith(module.__name__) and value.__name__ not in seen:
                    seen.add(value.__name__)
                    walk(value, f"{prefix}{key}.", seen, out)
                continue
            try:
                has = (value in primitive_vjps, value in primitive_jvps)
            except TypeError:
                continue
            if any(has):
                out[prefix + key] = (*has, id(value))
        return out

    table = walk(anp, "", set(), {})
    table.update(walk(asp, "scipy.", set(), {}))
    return table


def computes(name):
    """What an op computes: its numpy or scipy function, an alias, or 'composite'."""
    op = OPS[name]
    if not isinstance(op, Primitive):
        return "built from other ops"
    if op.name != name:
        return f"same op as `{op.name}`"
    if name.startswith("scipy.") and type(op.fun).__name__ == "ufunc":
        return f"`{name}`"   # scipy.special's functions are numpy ufuncs
    module = getattr(op.fun, "__module__", None) or ""
    fname = getattr(op.fun, "__name__", "")
    if type(op.fun).__name__ == "ufunc":
        return f"`numpy.{fname}`"
    if module.split(".")[0] in ("numpy", "scipy"):
        # numpy.fft.fft lives in numpy.fft._pocketfft: name the public module
        return f"`{module.split('._')[0]}.{fname}`"
    doc = (op.fun.__doc__ or "").strip().splitlines()
    return doc[0] if doc else "see the family module"


def rows():
    """(name, status, vjp, jvp, second order) for every op, sorted by name."""
    out = []
    for name in sorted(OPS):
        status = status_of(name)
        if status == "zero":
            out.append((name, status, "zero", "zero", "zero"))
        elif status == "none":
            out.append((name, status, "no", "no", "no"))
        else:
            op = OPS[name]
            has_rules = not isinstance(op, Primitive) or isinstance(op.vjps, VariadicRules) \
                or op.vjps
            vjp = "yes" if has_rules else "no"
            jvp = "yes" if has_jvp(name) else "no"
            out.append((name, status, vjp, jvp, vjp))
    return out


def render():
    theirs = _autograd_tables()
    table = rows()
    both = [r for r in table if r[2] == "yes" and r[3] == "yes"]
    lines = [
        "# Op coverage",
        "",
        "Generated from the registry by `python -m adserver.ops.coverage`; do not edit.",
        "Every row is checked by tests/test_ops_gradcheck.py: reverse mode (VJP) and forward",
        "mode (JVP) against finite differences and against each other, and second order",
        "through the rules themselves. `zero` marks ops whose gradient is zero everywhere",
        "(their results are never traced); `composite` ops are built from other ops.",
        "",
        "## Totals",
        "",
        "| | adserver |" + (" HIPS autograd (same table, read from its rule registry) |"
                           if theirs else ""),
        "|---|---|" + ("---|" if theirs else ""),
    ]
    ours = {
        "ops with a reverse-mode rule (VJP)": sum(r[2] == "yes" for r in table),
        "ops with a forward-mode rule (JVP)": sum(r[3] == "yes" for r in table),
        "ops with both": len(both),
        "zero-gradient ops": sum(r[1] == "zero" for r in table),
    }
    if theirs:
        # autograd exports some primitives under two names (arccos and acos): count each once.
        unique = {ident: (v, j) for v, j, ident in theirs.values()}.values()
        theirs_counts = {
            "ops with a reverse-mode rule (VJP)": sum(v for v, _ in unique),
            "ops with a forward-mode rule (JVP)": sum(j for _, j in unique),
            "ops with both": sum(v and j for v, j in unique),
            "zero-gradient ops": "",
        }
    for key, value in ours.items():
        lines.append(f"| {key} | {value} |" + (f" {theirs_counts[key]} |" if theirs else ""))
    lines += ["", "## Ops", "",
              "| op | computes | status | VJP | JVP | second order |" +
              (" in autograd |" if theirs else ""),
              "|---|---|---|---|---|---|" + ("---|" if theirs else "")]
    for name, status, vjp, jvp, second in table:
        row = f"| `{name}` | {computes(name)} | {status} | {vjp} | {jvp} | {second} |"
        if theirs:
            v, j, _ = theirs.get(name, (False, False, None))
            row += " " + ("VJP+JVP" if v and j else "VJP" if v else "JVP" if j else "-") + " |"
        lines.append(row)
    lines += signature_lines()
    return "\n".join(lines) + "\n"


def signature_lines():
    """What the wire may pass to each op (its declared signature, ops/params.py)."""
    from .registry import SPECS
    lines = ["", "## What the wire may pass", "",
             "Each op's declared parameters (PROTOCOL.md section 9): anything else is refused",
             "with an `ArgumentError` before the op runs. `= ...` marks an optional parameter",
             "(the function's own default applies); parameters after `*` go by name only.",
             "", "| op | parameters |", "|---|---|"]
    for name in sorted(OPS):
        spec = SPECS.get(name)
        text = spec.sig.describe().replace("|", "\\|") if spec else "(not declared: refused)"
        lines.append(f"| `{name}` | {text} |")
    return lines


def render_vocabulary():
    """Python source for adproto.vocabulary: every op name with its gradient status."""
    lines = [
        '"""The daemon\'s op vocabulary: every op name, with its gradient status.',
        "",
        "Generated from the registry by `python -m adserver.ops.coverage --vocabulary`; do not",
        "edit. Clients build their numpy and scipy wrappers from it, and use the statuses to",
        "know, without asking, that an op's result is never traced ('zero').",
        '"""',
        "",
        "OPS = {",
    ]
    lines += [f"    {name!r}: {status_of(name)!r}," for name in sorted(OPS)]
    lines += ["}", "", "ZERO_GRADIENT = frozenset(name for name, status in OPS.items() "
              "if status == 'zero')", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_vocabulary() if "--vocabulary" in sys.argv[1:] else render())
