"""numpy.fft: the discrete Fourier transforms and the frequency shifts.

numpy computes every transform as a sequence of one-dimensional ones, each along one axis
and each cropping or zero-padding its input to its length n first (fftn, rfftn, irfftn
loop over their axes; hfft and ihfft are irfft and rfft with a conjugation). The rules
follow the same sequence: a plan lists the steps as numpy takes them, and the reverse rule
runs each step's adjoint in the opposite order, so any s, axes (even repeated ones), n
and norm are handled the way numpy handles them. Every transform is linear over the reals,
so its forward rule is the transform of the tangent.

Adjoints under autograd's convention (a holomorphic f has VJP g * f'(z), no conjugation):
  * fft and ifft are symmetric matrices (for every norm), so each is its own adjoint;
  * rfft keeps the first n//2 + 1 outputs of fft of a real input: its adjoint is the real
    part of fft of g zero-padded to n (numpy's n does the padding); ihfft keeps those of
    ifft (it is conj(rfft) with the swapped norm), and its adjoint is the same with ifft;
  * irfft is ifft of the Hermitian extension of its input y: y_k with 0 < k < n/2 is read
    twice (as y_k, and conjugated as y_{n-k}), y_0 and, for even n, y_{n/2} once and their
    imaginary parts not at all. For a real g, conj(ifft(g)_{n-k}) = ifft(g)_k, so both
    readings give the same term and the adjoint is ifft(g), cut to n//2 + 1, weighted
    2 or 1; the ignored imaginary parts get nothing, as ifft(g) is real at 0 and n/2.
    hfft is irfft of conj(y) with the swapped norm, so its adjoint is the conjugate of
    irfft's with the swapped norm; conj(ifft(g, swapped norm)) = fft(g, norm), so it is
    rfft(g) with the same weights.
"""
import math

import numpy as np

from ..engine.tracer import getval_all
from . import sizing
from .base import shape_of, ndim_of
from .contractions import axis_in
from .params import Signature, ARRAY, AXIS, AXIS1, INT, NONNEG, Choice, ListOf, optional
from .registry import defop, declare, P
from .sizing import Out, shape, dtype, arg, broadcast

# Transforms that make n outputs from the first n inputs; the others make n//2 + 1 from
# n (real input), or n real outputs from n//2 + 1 (Hermitian input).
_FULL = {"fft", "ifft"}
_HALF_OUT = {"rfft", "ihfft"}
_HALF_IN = {"irfft", "hfft"}


# --- plans: the one-dimensional steps (kind, n, axis) numpy takes, in order --------------
def _cook(x, s, axes, inverse_real):
    """numpy's defaults for s and axes (numpy.fft._cook_nd_args), with axes made >= 0."""
    shape = shape_of(x)
    if axes is None:
        axes = range(len(shape)) if s is None else range(len(shape) - len(s), len(shape))
    axes = [a % len(shape) for a in axes]
    if s is None:
        s = [shape[a] for a in axes]
        if inverse_real:
            s[-1] = 2 * (s[-1] - 1)
    return [shape[a] if n == -1 else n for n, a in zip(s, axes)], axes


def _one_axis(kind):
    def plan(x, n=None, axis=-1, norm=None):
        return [(kind, n, axis % ndim_of(x))], norm
    return plan


def _many_axes(kind, default_axes=None):
    def plan(x, s=None, axes=default_axes, norm=None):
        s, axes = _cook(x, s, axes, kind == "irfft")
        steps = list(zip(s, axes))
        if kind in _FULL:
            return [(kind, n, a) for n, a in reversed(steps)], norm
        if kind == "rfft":  # the last axis first, then full transforms of the others
            return [("rfft",) + steps[-1]] + [("fft", n, a) for n, a in
                                               reversed(steps[:-1])], norm
        # irfft: full inverse transforms of the other axes, then the last axis
        return [("ifft", n, a) for n, a in steps[:-1]] + [("irfft",) + steps[-1]], norm
    return plan


def _lengths(x, steps):
    """(input length, n) of each step along its axis; n defaults as in numpy."""
    shape = list(shape_of(x))
    out = []
    for kind, n, axis in steps:
        have = shape[axis]
        if n is None:
            n = 2 * (have - 1) if kind in _HALF_IN else have
        out.append((have, n))
        shape[axis] = n // 2 + 1 if kind in _HALF_OUT else n
    return out


# --- adjoints of the one-dimensional steps ------------------------------------------------
def _fit(g, axis, length):
    """``g`` cut or zero-padded along ``axis`` to ``length``: the adjoint of numpy's n."""
    shape = list(shape_of(g))
    index = [slice(None)] * len(shape)
    if shape[axis] > length:
        index[axis] = slice(0, length)
        return P.getitem(g, tuple(index))
    if shape[axis] < length:
        index[axis] = slice(0, shape[axis])
        shape[axis] = length
        return P.untake(g, tuple(index), tuple(shape))
    return g


def _hermitian_weights(n, axis, ndim):
    """How often irfft of length n reads each of its n//2 + 1 inputs, along ``axis``."""
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = len(w)
    return w.reshape(shape)


def _step_adjoint(kind, g, n, axis, norm):
    """The adjoint of one step, before fitting back to the step's input length."""
    if kind == "fft":
        return P.fft_fft(g, axis=axis, norm=norm)
    if kind == "ifft":
        return P.fft_ifft(g, axis=axis, norm=norm)
    if kind == "rfft":
        return P.real(P.fft_fft(g, n, axis=axis, norm=norm))
    if kind == "ihfft":
        return P.real(P.fft_ifft(g, n, axis=axis, norm=norm))
    w = _hermitian_weights(n, axis, ndim_of(g))
    if kind == "irfft":
        return _fit(P.fft_ifft(g, axis=axis, norm=norm), axis, n // 2 + 1) * w
    # hfft
    return P.fft_rfft(g, axis=axis, norm=norm) * w


def _transform_vjp(plan):
    def rule(g, ans, x, *args, **kwargs):
        steps, norm = plan(x, *args, **kwargs)
        for (kind, _, axis), (have, n) in reversed(list(zip(steps, _lengths(x, steps)))):
            g = _fit(_step_adjoint(kind, g, n, axis, norm), axis, have)
        # A real input takes the real part (the imaginary direction does not exist for it).
        return g if np.iscomplexobj(getval_all(x)) else P.real(g)
    return rule


def _transform(name, plan):
    op = defop(f"fft.{name}", getattr(np.fft, name)).def_linear(0)
    op.defvjp(_transform_vjp(plan))


for _kind in ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]:
    _transform(_kind, _one_axis(_kind))
for _kind in ["fft", "ifft", "rfft", "irfft"]:
    _transform(f"{_kind}2", _many_axes(_kind, (-2, -1)))
    _transform(f"{_kind}n", _many_axes(_kind))

# --- shifts: rolls by half the length, each the other's inverse and so its adjoint --------
fftshift = defop("fft.fftshift", np.fft.fftshift).def_linear(0)
fftshift.defvjp(lambda g, ans, x, axes=None: P.fft_ifftshift(g, axes))
ifftshift = defop("fft.ifftshift", np.fft.ifftshift).def_linear(0)
ifftshift.defvjp(lambda g, ans, x, axes=None: P.fft_fftshift(g, axes))

# --- sample frequencies: k / (n d) for integers k, so d is their only smooth argument
for _name in ["fftfreq", "rfftfreq"]:
    _freq = defop(f"fft.{_name}", getattr(np.fft, _name))
    _freq.defvjp(lambda g, ans, n, d=1.0, **_: -P.sum(g * ans) / d, argnums=(1,))
    _freq.defjvp(lambda t, ans, n, d=1.0, **_: -(t * ans) / d, argnums=(1,))


# --- what the wire may pass (params.py, sizing.py) ---------------------------------------
FFT_WEIGHT = 6.0    # work per element and halving of a transform's length (pocketfft)
BLUESTEIN = 6.0     # how much slower a length with a large prime factor is


def _smooth(n):
    """Whether pocketfft's own radices (2, 3, 5, 7, 11) factor n completely; other
    lengths go through Bluestein's algorithm, several times slower."""
    for p in (2, 3, 5, 7, 11):
        while n % p == 0:
            n //= p
    return n == 1


def _complex_dtype(x):
    """A transform's complex answer: complex64 from float16, float32 and complex64."""
    return np.result_type(sizing.inexact(dtype(x)), np.complex64)


def _real_dtype(dt):
    """irfft's real answer: a complex input's real type; a float input's own."""
    dt = np.dtype(dt)
    if dt.kind == "c":
        return np.finfo(dt).dtype
    return dt if dt.kind == "f" else sizing.F64


def _steps(kind, many, args, kwargs):
    """The one-dimensional transforms (kind, n, axis) numpy takes, checked as it checks
    them; ``many`` for the 2-d and n-d transforms."""
    x = arg(args, kwargs, 0, "a")
    nd = len(shape(x))
    if nd == 0:
        raise ValueError("a transform needs an array with at least one axis")
    if kind in _HALF_OUT and dtype(x).kind == "c":
        raise TypeError(f"{kind} takes real input")
    if not many:
        return [(kind, arg(args, kwargs, 1, "n"), axis_in(arg(args, kwargs, 2, "axis", -1), nd))]
    s = arg(args, kwargs, 1, "s")
    axes = arg(args, kwargs, 2, "axes", (-2, -1) if many == 2 else None)
    if axes is not None:
        axes = [axis_in(a, nd) for a in axes]
        if s is not None and len(s) != len(axes):
            raise ValueError("Shape and axes have different lengths.")
    elif s is not None and len(s) > nd:
        raise ValueError("s has more entries than the array has axes")
    steps, _ = _many_axes(kind, axes)(x, s, axes)
    return steps


def _shapes(kind, many, args, kwargs):
    """The array's shape after each step (the last is the answer's), and the lengths."""
    x = arg(args, kwargs, 0, "a")
    steps = _steps(kind, many, args, kwargs)
    shape_now, shapes = list(shape(x)), []
    for (step, _, axis), (_, n) in zip(steps, _lengths(x, steps)):
        if n < 1:
            raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
        shape_now[axis] = n // 2 + 1 if step in _HALF_OUT else n
        shapes.append((tuple(shape_now), n))
    return shapes


def _transform_size(kind, many):
    def size(args, kwargs):
        x = arg(args, kwargs, 0, "a")
        out = _shapes(kind, many, args, kwargs)[-1][0]
        if kind in _HALF_IN:
            # a multi-axis irfft makes x complex in its first steps
            dt = _complex_dtype(x) if len(_steps(kind, many, args, kwargs)) > 1 else dtype(x)
            return Out(out, _real_dtype(dt))
        return Out(out, _complex_dtype(x))
    return size


def _transform_cost(kind, many):
    """Each step works on every element of the larger of its input and its answer, about
    log2(n) times (the answers of the earlier steps may be larger than the last's)."""
    def cost(args, kwargs, outs):
        x = arg(args, kwargs, 0, "a")
        work, before = 0.0, math.prod(shape(x))
        for s, n in _shapes(kind, many, args, kwargs):
            elements = max(before, math.prod(s))
            weight = FFT_WEIGHT if _smooth(n) else FFT_WEIGHT * BLUESTEIN
            work += weight * elements * max(math.log2(n), 1.0) + elements
            before = math.prod(s)
        return work
    return cost


def _frequencies_size(half):
    def size(args, kwargs):
        n, d = arg(args, kwargs, 0, "n"), arg(args, kwargs, 1, "d", 1.0)
        if n < 1:
            raise ValueError("fftfreq: n must be at least 1")
        length = n // 2 + 1 if half else n
        # integers 0..n-1 (int64) times 1 / (n d)
        return Out(broadcast((length,), shape(d)),
                   np.result_type(np.int64, sizing.inexact(dtype(d))))
    return size


_LENGTH = optional(NONNEG)
_LENGTHS = optional(ListOf(INT))      # lengths, or -1 for the array's own (checked above)
_NORM = optional(Choice("backward", "ortho", "forward"))

for _kind in ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]:
    declare(f"fft.{_kind}",
            Signature(("a", ARRAY), ("n", _LENGTH, None), ("axis", AXIS1, -1),
                      ("norm", _NORM, None)),
            _transform_size(_kind, 0), _transform_cost(_kind, 0))
for _kind in ["fft", "ifft", "rfft", "irfft"]:
    for _suffix, _many, _default in [("2", 2, (-2, -1)), ("n", "n", None)]:
        declare(f"fft.{_kind}{_suffix}",
                Signature(("a", ARRAY), ("s", _LENGTHS, None),
                          ("axes", optional(ListOf(AXIS1)), _default), ("norm", _NORM, None)),
                _transform_size(_kind, _many), _transform_cost(_kind, _many))
for _name in ["fftshift", "ifftshift"]:
    declare(f"fft.{_name}", Signature(("x", ARRAY), ("axes", AXIS, None)),
            sizing.like(0, "x"), sizing.linear(2.0))
for _name, _half in [("fftfreq", False), ("rfftfreq", True)]:
    declare(f"fft.{_name}", Signature(("n", NONNEG), ("d", ARRAY, 1.0)),
            _frequencies_size(_half), sizing.linear(3.0))
