"""Tests for adlua.torchprint: numpy arrays printed as Torch7 prints tensors.

The first three expected strings are known Torch7 outputs.  Every other one
was derived by hand from the rules in Torch7's Tensor.lua; the comment on
each test names the rule it checks.  All strings end with "\n" because
Torch7's tostring(tensor) does (print then adds a second newline).
"""

import sys
from pathlib import Path

import numpy as np

try:
    from adlua import torchprint
except ImportError:  # adlua not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "clients" / "lua"))
    from adlua import torchprint

format_number = torchprint.format_number
format_storage = torchprint.format_storage
format_tensor = torchprint.format_tensor

DOUBLE = "torch.DoubleTensor"


# --- known Torch7 outputs -------------------------------------------------


def test_eye_integer_mode():
    assert format_tensor(np.eye(3), DOUBLE) == (
        " 1  0  0\n"
        " 0  1  0\n"
        " 0  0  1\n"
        "[torch.DoubleTensor of size 3x3]\n"
    )


def test_sin_eye_fixed_point():
    assert format_tensor(np.sin(np.eye(3)), DOUBLE) == (
        " 0.8415  0.0000  0.0000\n"
        " 0.0000  0.8415  0.0000\n"
        " 0.0000  0.0000  0.8415\n"
        "[torch.DoubleTensor of size 3x3]\n"
    )


def test_three_eye_integer_mode():
    assert format_tensor(3 * np.eye(3), DOUBLE) == (
        " 3  0  0\n"
        " 0  3  0\n"
        " 0  0  3\n"
        "[torch.DoubleTensor of size 3x3]\n"
    )


# --- derived from the Tensor.lua rules ------------------------------------


def test_vector_one_value_per_line():
    # Non-integer, max |x| = 10 -> expMax = 2, min 1.5 -> expMin = 1; the
    # spread is <= 4 and 0 <= expMax <= 5, so "%{expMax+6}.4f" = "%8.4f".
    # A 1-D tensor has no separator space between the values and the margin.
    assert format_tensor(np.array([1.5, -2.25, 10.0]), DOUBLE) == (
        "  1.5000\n"
        " -2.2500\n"
        " 10.0000\n"
        "[torch.DoubleTensor of size 3]\n"
    )


def test_matrix_scale_factor():
    # Max |x| = 0.0042 -> expMax = -2 < 0, so "%7.4f" with scale 10^(expMax-1)
    # = 0.001, written with "%g" as "0.001 *".  Under the scale header every
    # row of a matrix gets one extra leading space.
    arr = np.array([[0.001, 0.002], [0.0035, -0.0042]])
    assert format_tensor(arr, DOUBLE) == (
        "0.001 *\n"
        "  1.0000  2.0000\n"
        "  3.5000 -4.2000\n"
        "[torch.DoubleTensor of size 2x2]\n"
    )


def test_vector_large_scale_factor():
    # expMax = 7 > 5 -> scale 10^6, which "%g" writes as "1e+06"; a 1-D
    # tensor does not get the extra space that matrices get under a scale.
    assert format_tensor(np.array([1234567.5, 2345678.25]), DOUBLE) == (
        "1e+06 *\n"
        " 1.2346\n"
        " 2.3457\n"
        "[torch.DoubleTensor of size 2]\n"
    )


def test_scale_threshold_is_exponent_above_five():
    # expMax = 6 > 5 -> scale 10^5, which "%g" writes as "100000" ...
    assert format_tensor(np.array([123456.5, 100000.25]), DOUBLE) == (
        "100000 *\n"
        " 1.2346\n"
        " 1.0000\n"
        "[torch.DoubleTensor of size 2]\n"
    )
    # ... while expMax = 5 stays unscaled with width 5 + 6 = 11.
    assert format_tensor(np.array([12345.5, 10000.25]), DOUBLE) == (
        " 12345.5000\n"
        " 10000.2500\n"
        "[torch.DoubleTensor of size 2]\n"
    )


def test_scientific_notation_for_wide_range():
    # expMax = 6 (2e5), expMin = -2 (1e-3): expMax - expMin = 8 > 4 -> "%11.4e".
    arr = np.array([[1e-3, 1.5], [-100.25, 2e5]])
    assert format_tensor(arr, DOUBLE) == (
        " 1.0000e-03  1.5000e+00\n"
        "-1.0025e+02  2.0000e+05\n"
        "[torch.DoubleTensor of size 2x2]\n"
    )


def test_scientific_threshold_is_spread_above_four():
    # expMax - expMin = 5 - 0 = 5 > 4 -> scientific ...
    assert format_tensor(np.array([0.5, 12345.25]), DOUBLE) == (
        " 5.0000e-01\n"
        " 1.2345e+04\n"
        "[torch.DoubleTensor of size 2]\n"
    )
    # ... while a spread of exactly 4 stays fixed point, "%{4+6}.4f".
    assert format_tensor(np.array([0.5, 1234.25]), DOUBLE) == (
        "    0.5000\n"
        " 1234.2500\n"
        "[torch.DoubleTensor of size 2]\n"
    )


def test_scientific_three_digit_exponent_widens_column():
    # |expMin| = 119 > 99 -> the scientific width grows from 11 to 12.
    assert format_tensor(np.array([1e-120, 1.5]), DOUBLE) == (
        " 1.0000e-120\n"
        "  1.5000e+00\n"
        "[torch.DoubleTensor of size 2]\n"
    )


def test_large_integers_use_scientific():
    # Integer mode with expMax = 11 > 9 -> "%11.4e" instead of "%d".
    assert format_tensor(np.array([1e10, 1.0]), DOUBLE) == (
        " 1.0000e+10\n"
        " 1.0000e+00\n"
        "[torch.DoubleTensor of size 2]\n"
    )
    # Boundary: 1e9 has expMax = 10 > 9, 999999999 has expMax = 9 -> "%10d".
    assert format_tensor(np.array([1e9]), DOUBLE) == (
        " 1.0000e+09\n[torch.DoubleTensor of size 1]\n"
    )
    assert format_tensor(np.array([999999999.0]), DOUBLE) == (
        " 999999999\n[torch.DoubleTensor of size 1]\n"
    )


def test_negative_integers_width_from_digits():
    # Integer mode: width = digits of max |x| + 1 = 5 ("%5d"), computed from
    # absolute values, so "-4000" fills the column exactly.
    arr = np.array([[-1.0, 20.0], [300.0, -4000.0]])
    assert format_tensor(arr, DOUBLE) == (
        "   -1    20\n"
        "  300 -4000\n"
        "[torch.DoubleTensor of size 2x2]\n"
    )


def test_column_chunks_for_wide_matrix():
    # Width 7 ("%7.4f": max 0.6 -> expMax = 0) -> floor(80 / 8) = 10 columns
    # per chunk; "Columns a to b" headers, a blank line between chunks.
    arr = np.arange(1, 61).reshape(2, 30) / 100
    assert format_tensor(arr, DOUBLE) == (
        "Columns 1 to 10\n"
        " 0.0100  0.0200  0.0300  0.0400  0.0500"
        "  0.0600  0.0700  0.0800  0.0900  0.1000\n"
        " 0.3100  0.3200  0.3300  0.3400  0.3500"
        "  0.3600  0.3700  0.3800  0.3900  0.4000\n"
        "\n"
        "Columns 11 to 20\n"
        " 0.1100  0.1200  0.1300  0.1400  0.1500"
        "  0.1600  0.1700  0.1800  0.1900  0.2000\n"
        " 0.4100  0.4200  0.4300  0.4400  0.4500"
        "  0.4600  0.4700  0.4800  0.4900  0.5000\n"
        "\n"
        "Columns 21 to 30\n"
        " 0.2100  0.2200  0.2300  0.2400  0.2500"
        "  0.2600  0.2700  0.2800  0.2900  0.3000\n"
        " 0.5100  0.5200  0.5300  0.5400  0.5500"
        "  0.5600  0.5700  0.5800  0.5900  0.6000\n"
        "[torch.DoubleTensor of size 2x30]\n"
    )


def test_column_chunks_inside_slice():
    # Slices are printed with indent " ": floor(79 / 8) = 9 columns per chunk.
    # Only the first "Columns" line carries the indent (Torch's layout).
    arr = np.full((1, 1, 10), 0.5)
    assert format_tensor(arr, "torch.FloatTensor") == (
        "(1,.,.) = \n"
        " Columns 1 to 9\n"
        "  0.5000  0.5000  0.5000  0.5000  0.5000"
        "  0.5000  0.5000  0.5000  0.5000\n"
        "\n"
        "Columns 10 to 10\n"
        "  0.5000\n"
        "[torch.FloatTensor of size 1x1x10]\n"
    )


def test_three_dim_slices():
    # "(k,.,.) = " headers (trailing space), matrices indented by one space,
    # a blank line between slices, none before the footer.
    arr = np.arange(1.0, 9.0).reshape(2, 2, 2)
    assert format_tensor(arr, DOUBLE) == (
        "(1,.,.) = \n"
        "  1  2\n"
        "  3  4\n"
        "\n"
        "(2,.,.) = \n"
        "  5  6\n"
        "  7  8\n"
        "[torch.DoubleTensor of size 2x2x2]\n"
    )


def test_four_dim_first_index_varies_fastest():
    # Torch's slice counter advances the first index first:
    # (1,1), (2,1), (1,2), (2,2), (1,3), (2,3).
    arr = np.arange(1.0, 7.0).reshape(2, 3, 1, 1)
    assert format_tensor(arr, DOUBLE) == (
        "(1,1,.,.) = \n"
        "  1\n"
        "\n"
        "(2,1,.,.) = \n"
        "  4\n"
        "\n"
        "(1,2,.,.) = \n"
        "  2\n"
        "\n"
        "(2,2,.,.) = \n"
        "  5\n"
        "\n"
        "(1,3,.,.) = \n"
        "  3\n"
        "\n"
        "(2,3,.,.) = \n"
        "  6\n"
        "[torch.DoubleTensor of size 2x3x1x1]\n"
    )


def test_slice_scale_comes_from_whole_tensor():
    # The format is chosen over all elements (max 0.05 -> expMax = -1 ->
    # scale 0.01), not per slice; each slice repeats the scale header after
    # its indent, and rows get indent plus the extra scale space.
    arr = np.array([0.001, 0.05]).reshape(2, 1, 1)
    assert format_tensor(arr, DOUBLE) == (
        "(1,.,.) = \n"
        " 0.01 *\n"
        "   0.1000\n"
        "\n"
        "(2,.,.) = \n"
        " 0.01 *\n"
        "   5.0000\n"
        "[torch.DoubleTensor of size 2x1x1]\n"
    )


def test_long_tensor_integer_mode():
    # Integer values, max 40 -> expMax = 2 -> "%3d".
    arr = np.array([[1, 2], [3, 40]], dtype=np.int64)
    assert format_tensor(arr, "torch.LongTensor") == (
        "  1   2\n"
        "  3  40\n"
        "[torch.LongTensor of size 2x2]\n"
    )


def test_integer_type_truncates_like_torch_storage():
    # An IntTensor stores C ints, so 1.7 and -2.2 are held as 1 and -2 and
    # print in integer mode.
    assert format_tensor(np.array([1.7, -2.2]), "torch.IntTensor") == (
        " 1\n"
        "-2\n"
        "[torch.IntTensor of size 2]\n"
    )


def test_empty_tensor_has_no_dimension():
    for shape in [(0,), (3, 0)]:
        assert format_tensor(np.zeros(shape), DOUBLE) == (
            "[torch.DoubleTensor with no dimension]\n"
        )


def test_nan_falls_back_to_plain_f():
    # NaN makes expMax NaN, so Torch's width is NaN, its spec "%nan.4f" is
    # replaced by "%f", and every column goes on one line.
    arr = np.array([[1.5, np.nan], [np.inf, 2.0]])
    assert format_tensor(arr, DOUBLE) == (
        "1.500000 nan\n"
        "inf 2.000000\n"
        "[torch.DoubleTensor of size 2x2]\n"
    )


def test_infinity_stays_in_integer_mode():
    # inf equals its ceiling (integer mode) and its exponent is inf > 9,
    # so "%11.4e".
    assert format_tensor(np.array([np.inf, 1.0]), DOUBLE) == (
        "        inf\n"
        " 1.0000e+00\n"
        "[torch.DoubleTensor of size 2]\n"
    )


def test_long_storage():
    # Storages print like a 1-D tensor; max 10000 -> expMax = 5 -> "%6d".
    assert format_storage(np.array([2, 10000]), "torch.LongStorage") == (
        "     2\n"
        " 10000\n"
        "[torch.LongStorage of size 2]\n"
    )


def test_double_storage_with_scale():
    # Max 0.05 -> expMax = -1 -> scale 0.01, header without extra row space.
    assert format_storage(np.array([0.05, 0.01]), "torch.DoubleStorage") == (
        "0.01 *\n"
        " 5.0000\n"
        " 1.0000\n"
        "[torch.DoubleStorage of size 2]\n"
    )


def test_empty_storage():
    assert format_storage(np.array([]), "torch.LongStorage") == (
        "[torch.LongStorage of size 0]\n"
    )


def test_format_number():
    # LuaJIT's tostring is "%.14g".
    cases = {
        1.0: "1",
        5.81: "5.81",
        0.86320936664887: "0.86320936664887",
        1 / 3: "0.33333333333333",
        2.0**53: "9.007199254741e+15",
        1e13: "10000000000000",
        1e14: "1e+14",
        1e15: "1e+15",
        -0.0: "-0",
        float("inf"): "inf",
        float("-inf"): "-inf",
        float("nan"): "nan",
    }
    for value, expected in cases.items():
        assert format_number(value) == expected, value
