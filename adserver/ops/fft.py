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
import numpy as np

from ..engine.tracer import getval_all
from .base import shape_of, ndim_of
from .registry import defop, P

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
