"""scipy.signal.convolve, generalized as in HIPS autograd.

``convolve(A, B, axes=None, dot_axes=((), ()), mode="full")`` convolves A's axes axes[0]
with B's axes axes[1] (pairwise), sums over the paired dot_axes, and takes an outer
product over every other axis. The answer's axes are A's other axes, then B's other axes
(each in increasing order), then the convolved ones (in the order of the pairs).

axes=None pairs every axis of A with the same axis of B (further axes of B are free).
With that, dot_axes left empty and A and B of the same dimension, it is
scipy.signal.convolve(A, B, mode): full, same (A's shape, centred in the full answer as
scipy centres it) and valid (only where one array covers the other, which must be at
least as large along every convolved axis).
It always sums directly, never by FFT (scipy's ``method`` is not taken), so it can differ
from scipy's "auto" choice by rounding. mode is a keyword: the third position is axes.

The answer is bilinear in A and B. Along one convolved axis the full answer is
out[k] = sum_j A[j] B[k - j], which makes A's cotangent sum_k g[k] B[k - j]: the valid
convolution of g, zero-padded to the full length, with B reversed (and B's likewise).
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import sizing
from .base import shape_of, unbroadcast
from .params import Signature, ARRAY, AXIS1, Choice, ListOf, optional
from .registry import defop, declare, P
from .sizing import Out, shape, dtype, arg


class _Axes:
    """Which axes of A and B are convolved, summed over (dot) and kept (free)."""

    def __init__(self, a_ndim, b_ndim, axes, dot_axes):
        if axes is None:
            axes = (range(a_ndim), range(a_ndim))
        self.conv = [[i % a_ndim for i in axes[0]], [i % b_ndim for i in axes[1]]]
        self.dot = [[i % a_ndim for i in dot_axes[0]], [i % b_ndim for i in dot_axes[1]]]
        if len(self.conv[0]) != len(self.conv[1]) or len(self.dot[0]) != len(self.dot[1]):
            raise ValueError("convolve: axes and dot_axes must pair up the axes of A and B")
        self.free = [[i for i in range(nd) if i not in self.conv[k] + self.dot[k]]
                     for k, nd in enumerate((a_ndim, b_ndim))]

    def out_free(self, k):
        """The positions of A's (k = 0) or B's (k = 1) free axes in the answer."""
        first = 0 if k == 0 else len(self.free[0])
        return list(range(first, first + len(self.free[k])))

    def out_conv(self):
        """The positions of the convolved axes in the answer."""
        first = len(self.free[0]) + len(self.free[1])
        return list(range(first, first + len(self.conv[0])))


def _window(na, nb, mode):
    """Where the answer starts in the full convolution, and its length, along one axis."""
    if mode == "full":
        return 0, na + nb - 1
    if mode == "same":
        return (nb - 1) // 2, na
    if mode == "valid":
        return min(na, nb) - 1, abs(na - nb) + 1
    raise ValueError(f"convolve: mode must be 'full', 'same' or 'valid', not {mode!r}")


def _sizes(A, B, spec):
    """The lengths of A's and of B's convolved axes."""
    return ([shape_of(A)[i] for i in spec.conv[0]], [shape_of(B)[i] for i in spec.conv[1]])


def _reversing(ndim, axes):
    """An index that reverses an array of ``ndim`` dimensions along ``axes``."""
    return tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(ndim))


def _convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """scipy.signal.convolve over chosen axes, as autograd.scipy.signal.convolve"""
    A, B = np.asarray(A), np.asarray(B)
    spec = _Axes(A.ndim, B.ndim, axes, dot_axes)
    na, nb = _sizes(A, B, spec)
    if mode == "valid" and not (all(m >= n for m, n in zip(na, nb))
                                or all(m <= n for m, n in zip(na, nb))):
        raise ValueError("convolve: in valid mode one array must be at least as large as "
                         "the other along every convolved axis")
    # out[k] = sum_j A[j] B[k - j] = sum_w A[m - 1 - w] Bpad[k + w], with B zero-padded by
    # m - 1 = len(A) - 1 on each side: windows of Bpad against A reversed.
    pad, keep = [(0, 0)] * B.ndim, [slice(None)] * B.ndim
    for b_ax, m, n in zip(spec.conv[1], na, nb):
        start, length = _window(m, n, mode)
        pad[b_ax] = (m - 1, m - 1)
        keep[b_ax] = slice(start, start + length + m - 1)
    if na:  # (np.pad refuses a 0-d B, which has no axis to convolve anyway)
        B = np.pad(B, pad)[tuple(keep)]
    windows = sliding_window_view(B, na, axis=spec.conv[1])
    # einsum labels: A's free axes, B's free axes, the answer's convolved axes, then the
    # window offsets and the dot axes, which are summed.
    n_free_a, n_free_b, n_conv = len(spec.free[0]), len(spec.free[1]), len(na)
    out = list(range(n_free_a + n_free_b + n_conv))
    conv_out, offset = out[n_free_a + n_free_b:], len(out)
    a_labels, b_labels = [0] * A.ndim, [0] * windows.ndim
    for k, ax in enumerate(spec.free[0]):
        a_labels[ax] = k
    for k, ax in enumerate(spec.free[1]):
        b_labels[ax] = n_free_a + k
    for k, (a_ax, b_ax) in enumerate(zip(*spec.conv)):
        a_labels[a_ax] = b_labels[B.ndim + k] = offset + k
        b_labels[b_ax] = conv_out[k]
    for k, (a_ax, b_ax) in enumerate(zip(*spec.dot)):
        a_labels[a_ax] = b_labels[b_ax] = offset + n_conv + k
    return np.einsum(A[_reversing(A.ndim, spec.conv[0])], a_labels, windows, b_labels, out)


def _convolve_vjp(argnum):
    """The cotangent of A (argnum 0) or B (1): g against the other operand, reversed."""
    def rule(g, ans, A, B, axes=None, dot_axes=((), ()), mode="full"):
        spec = _Axes(len(shape_of(A)), len(shape_of(B)), axes, dot_axes)
        na, nb = _sizes(A, B, spec)
        # g, zero-padded from its window to the full convolution's length
        full_shape, index = list(shape_of(g)), [slice(None)] * len(shape_of(g))
        for ax, m, n in zip(spec.out_conv(), na, nb):
            start, length = _window(m, n, mode)
            full_shape[ax], index[ax] = m + n - 1, slice(start, start + length)
        g_full = P.untake(g, tuple(index), tuple(full_shape))
        this, other = (A, B) if argnum == 0 else (B, A)
        k = 1 - argnum  # the other operand's index in spec
        reversed_other = P.getitem(other, _reversing(len(shape_of(other)), spec.conv[k]))
        # g's axes for the other operand's free axes are summed against them.
        out = P.scipy_signal_convolve(g_full, reversed_other, mode="valid",
                                      axes=(spec.out_conv(), spec.conv[k]),
                                      dot_axes=(spec.out_free(k), spec.free[k]))
        # out's axes: this operand's free axes, then the other's dot axes (increasing),
        # standing for the dot axes of this one they pair with, then the convolved ones.
        paired = [spec.dot[argnum][spec.dot[k].index(ax)] for ax in sorted(spec.dot[k])]
        order = spec.free[argnum] + paired + spec.conv[argnum]
        # unbroadcast only takes the real part, for a real operand against a complex one
        return unbroadcast(this, P.transpose(out, tuple(np.argsort(order))))
    return rule


convolve = defop("scipy.signal.convolve", _convolve).def_linear(0, 1)
convolve.defvjp(_convolve_vjp(0), _convolve_vjp(1))


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------
def _layout(args, kwargs):
    """(A, B, the axes' roles, A's and B's convolved lengths), checked as _convolve checks
    them, before anything is allocated."""
    A, B = arg(args, kwargs, 0, "A"), arg(args, kwargs, 1, "B")
    a, b = shape(A), shape(B)
    axes, dot_axes = arg(args, kwargs, 2, "axes"), arg(args, kwargs, 3, "dot_axes", ((), ()))
    for pair in (axes, dot_axes):
        if pair is not None and (len(pair) != 2 or len(pair[0]) != len(pair[1])):
            raise ValueError("convolve: axes and dot_axes must pair up the axes of A and B")
    if axes is None and len(b) < len(a):
        raise ValueError("convolve: B has fewer axes than A (axes=None pairs them all)")
    conv = axes if axes is not None else (range(len(a)), range(len(a)))
    for nd, picked in ((len(a), [*conv[0], *dot_axes[0]]), (len(b), [*conv[1], *dot_axes[1]])):
        if any(not -nd <= i < nd for i in picked) or \
                len({i % nd for i in picked}) < len(picked):
            raise ValueError("convolve: axes out of range or repeated")
    spec = _Axes(len(a), len(b), axes, dot_axes)
    na, nb = [a[i] for i in spec.conv[0]], [b[i] for i in spec.conv[1]]
    if any(a[i] != b[j] for i, j in zip(*spec.dot)):
        raise ValueError("convolve: the dot_axes of A and B differ in length")
    return A, B, spec, na, nb


def _convolve_size(args, kwargs):
    A, B, spec, na, nb = _layout(args, kwargs)
    mode = arg(args, kwargs, 4, "mode", "full")
    if mode == "valid" and not (all(m >= n for m, n in zip(na, nb))
                                or all(m <= n for m, n in zip(na, nb))):
        raise ValueError("convolve: in valid mode one array must be at least as large as "
                         "the other along every convolved axis")
    a, b = shape(A), shape(B)
    out = [a[i] for i in spec.free[0]] + [b[i] for i in spec.free[1]] + \
        [_window(m, n, mode)[1] for m, n in zip(na, nb)]
    return Out(out, np.result_type(dtype(A), dtype(B)))


def _convolve_cost(args, kwargs, outs):
    """A direct sum (an einsum of A against B's windows): every answer element sums the
    products of A's convolved window and its dot axes."""
    A, B, spec, na, nb = _layout(args, kwargs)
    dot = math.prod(shape(A)[i] for i in spec.dot[0])
    padded = list(shape(B))     # B is zero-padded by len(A) - 1 on both sides first
    for i, m in zip(spec.conv[1], na):
        padded[i] += 2 * (m - 1)
    return 2.0 * sizing.numel(outs) * math.prod(na) * dot + math.prod(padded) + \
        math.prod(shape(A))


_PAIRS = optional(ListOf(ListOf(AXIS1), most=2))

declare("scipy.signal.convolve",
        Signature(("A", ARRAY), ("B", ARRAY), ("axes", _PAIRS, None),
                  ("dot_axes", ListOf(ListOf(AXIS1), most=2), ((), ())),
                  ("mode", Choice("full", "same", "valid"), "full")),
        _convolve_size, _convolve_cost)
