"""Format numpy arrays exactly as Torch7 prints tensors and storages.

The rules follow Torch7's ``Tensor.lua`` (``Storage__printformat``,
``Tensor__printMatrix``, ``Tensor__printTensor``, ``Tensor.__tostring__`` and
``Storage.__tostring__``, as of the last torch/torch7 release).  The strings
returned here are what Torch7's ``tostring`` returns, so they end with a
newline; ``print`` in Torch7 adds one more, which is why a printed tensor is
followed by a blank line.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

# Element type each Torch class stores.  Values are first held in that type
# (so a LongTensor never holds 1.5), then widened to double for printing,
# as ``__tostring__`` copies the tensor into a DoubleTensor.
_ELEMENT_TYPES = {
    "Byte": np.uint8,
    "Char": np.int8,
    "Short": np.int16,
    "Int": np.int32,
    "Long": np.int64,
    "Float": np.float32,
    "Double": np.float64,
}

# Torch chooses how many columns fit on a line for this terminal width.
_LINE_WIDTH = 80


@dataclass(frozen=True)
class _Format:
    """How every element of one tensor is printed."""

    spec: str  # printf-style conversion, e.g. "%7.4f"
    scale: float  # values are divided by this; 1.0 means no "<scale> *" header
    width: int | None  # column width; None when Torch computes it as NaN


def format_number(x) -> str:
    """A Lua number as LuaJIT's ``tostring`` writes it (``%.14g``).

    NaN is written "nan" whatever its sign bit (LuaJIT may write "-nan").
    """
    return "%.14g" % float(x)


def format_tensor(arr, typename: str) -> str:
    """What Torch7's ``tostring(tensor)`` returns for ``arr`` as ``typename``."""
    values = _torch_values(arr, typename)
    # Torch7 tensors have no zero-sized or zero-dimensional shapes: a tensor
    # without elements has no dimension at all.
    if values.ndim == 0 or values.size == 0:
        return f"[{typename} with no dimension]\n"
    # The format is chosen once, over every element of the tensor.
    fmt = _print_format(values.ravel())
    if values.ndim == 1:
        body = _format_column(values, fmt)
    elif values.ndim == 2:
        body = _format_matrix(values, fmt, indent="")
    else:
        body = _format_slices(values, fmt)
    return body + _size_footer(typename, values.shape)


def format_storage(arr, typename: str) -> str:
    """What Torch7's ``tostring(storage)`` returns for a 1-D ``arr``."""
    values = _torch_values(arr, typename).ravel()
    # An empty storage prints only its footer.
    body = _format_column(values, _print_format(values)) if values.size else ""
    return body + f"[{typename} of size {values.size}]\n"


def _torch_values(arr, typename: str) -> np.ndarray:
    """The float64 values Torch prints for ``arr`` held in ``typename``."""
    values = np.asarray(arr)
    kind = typename.removeprefix("torch.").removesuffix("Tensor").removesuffix("Storage")
    if kind in _ELEMENT_TYPES:
        values = values.astype(_ELEMENT_TYPES[kind])
    return values.astype(np.float64)


def _exponent(magnitude: float) -> float:
    """Number of digits before the decimal point: floor(log10(m)) + 1.

    Torch takes 1 for zero; infinity and NaN pass through log10 and floor
    unchanged, and the format rules below depend on that.
    """
    if magnitude == 0:
        return 1
    if not math.isfinite(magnitude):
        return magnitude
    return math.floor(math.log10(magnitude)) + 1


def _print_format(values: np.ndarray) -> _Format:
    """Torch's choice of conversion, scale and width for non-empty ``values``."""
    # NaN is never equal to its ceiling, so any NaN leaves integer mode;
    # infinities stay integral.
    int_mode = bool(np.all(values == np.ceil(values)))
    magnitudes = np.abs(values)
    # Torch's min and max propagate NaN, so one NaN makes both exponents NaN.
    exp_min = _exponent(float(np.min(magnitudes)))
    exp_max = _exponent(float(np.max(magnitudes)))

    if int_mode:
        if exp_max > 9:
            return _Format("%11.4e", 1.0, 11)
        return _Format(f"%{exp_max + 1}d", 1.0, exp_max + 1)
    if exp_max - exp_min > 4:
        # Three-digit exponents need one more column.
        width = 12 if abs(exp_max) > 99 or abs(exp_min) > 99 else 11
        return _Format(f"%{width}.4e", 1.0, width)
    if exp_max > 5 or exp_max < 0:
        # Values are shown as 1.xxxx-style multiples of a power of ten.
        return _Format("%7.4f", 10.0 ** (exp_max - 1), 7)
    if math.isnan(exp_max):
        # Torch computes the width as NaN, builds the spec "%nan.4f", and
        # falls back to plain "%f"; a NaN width also puts every column on
        # one line.
        return _Format("%f", 1.0, None)
    width = 7 if exp_max == 0 else exp_max + 6
    return _Format(f"%{width}.4f", 1.0, width)


def _format_value(fmt: _Format, x: float) -> str:
    return fmt.spec % (x / fmt.scale)


def _scale_header(scale: float) -> str:
    return "%g *" % scale


def _format_column(values: np.ndarray, fmt: _Format) -> str:
    """A 1-D tensor or a storage: one value per line, no separator space."""
    lines = [_format_value(fmt, x) for x in values]
    if fmt.scale != 1:
        lines.insert(0, _scale_header(fmt.scale))
    return "".join(line + "\n" for line in lines)


def _format_matrix(mat: np.ndarray, fmt: _Format, indent: str) -> str:
    """A 2-D tensor, split into column chunks that fit in 80 characters.

    Reproduces Torch's layout quirks: only the first "Columns" line is
    indented, and under a scale header every row gains one extra space.
    """
    nrows, ncols = mat.shape
    if fmt.width is None:
        per_line = ncols
    else:
        per_line = (_LINE_WIDTH - len(indent)) // (fmt.width + 1)
    row_prefix = indent + " " if fmt.scale != 1 else indent

    parts = [indent]
    for first in range(0, ncols, per_line):
        last = min(first + per_line, ncols)
        if per_line < ncols:
            if first > 0:
                parts.append("\n")
            parts.append(f"Columns {first + 1} to {last}\n{indent}")
        if fmt.scale != 1:
            parts.append(f"{_scale_header(fmt.scale)}\n {indent}")
        rows = [
            " ".join(_format_value(fmt, x) for x in mat[r, first:last])
            for r in range(nrows)
        ]
        parts.append(("\n" + row_prefix).join(rows) + "\n")
    return "".join(parts)


def _format_slices(arr: np.ndarray, fmt: _Format) -> str:
    """A tensor of 3 or more dimensions as a sequence of 2-D slices.

    Torch advances the FIRST leading index fastest, so a 2x2xMxN tensor
    prints (1,1), (2,1), (1,2), (2,2).  Slices are separated by a blank line.
    """
    leading = arr.shape[:-2]
    blocks = []
    for reversed_index in itertools.product(*(range(n) for n in reversed(leading))):
        index = reversed_index[::-1]
        header = "(" + "".join(f"{i + 1}," for i in index) + ".,.) = \n"
        blocks.append(header + _format_matrix(arr[index], fmt, indent=" "))
    return "\n".join(blocks)


def _size_footer(typename: str, shape: tuple[int, ...]) -> str:
    return f"[{typename} of size {'x'.join(str(n) for n in shape)}]\n"
