"""Cases for numpy.fft: every transform with real and complex inputs, n or s cropping and
padding, axes, each norm, and odd and even lengths for the real transforms.

autograd's rules serve as oracle except where noted: its real-transform rules (rfft,
irfft and their n-d forms) refuse odd lengths, scale only for norm=None (so they are
wrong for "forward"), and read rfft's n only when it is passed by position; it refuses
repeated axes, and it has no rules for hfft, ihfft, fftfreq and rfftfreq.
"""
from .case import Case, normal, complex_normal

_NORMS = ["ortho", "forward", "backward"]


def _full(one_axis):
    """fft or ifft: real and complex, n cropping and padding, an axis, each norm."""
    return [
        Case((normal(5),), label="real"),
        Case((complex_normal(2, 4),), {"axis": 0}, label="complex_axis0"),
        Case((normal(4),), {"n": 6}, label="n_pads"),
        Case((complex_normal(5),), {"n": 3}, label="n_crops"),
        Case((complex_normal(3, 2), 4, -2), label="positional_n_axis"),
    ] + [Case((complex_normal(4),), {"norm": norm}, label=f"norm_{norm}")
         for norm in _NORMS]


def _full_many(two_d):
    """fft2/fftn or their inverses."""
    cases = [
        Case((normal(3, 4),), label="real"),
        Case((complex_normal(2, 3, 2),), {"axes": (0, 2), "s": (3, 1)}, label="s_axes"),
        Case((complex_normal(3, 3),), {"norm": "ortho"}, label="ortho"),
        Case((complex_normal(2, 3),), {"s": (3, 2), "axes": (-2, -1), "norm": "forward"},
             label="s_forward"),
    ]
    if not two_d:
        cases += [
            Case((complex_normal(2, 2, 3),), label="all_axes"),
            Case((normal(2, 3, 2),), {"axes": (2,)}, label="one_axis"),
            # autograd refuses repeated axes; numpy transforms along them twice.
            Case((complex_normal(3, 2),), {"axes": (0, 0), "s": (4, 2)}, oracle=False,
                 label="repeated_axis"),
        ]
    return cases


def _rfft():
    return [
        Case((normal(6),), label="even"),
        Case((normal(5),), oracle=False, label="odd"),  # autograd: even lengths only
        Case((normal(5), 8), label="n_pads_even"),
        Case((normal(6),), {"n": 3}, oracle=False, label="n_crops_odd"),
        Case((normal(4, 3),), {"axis": 0, "norm": "ortho"}, label="axis0_ortho"),
        Case((normal(2, 4),), {"norm": "forward"}, oracle=False, label="forward"),
    ]


def _irfft():
    return [
        Case((complex_normal(4),), label="default_n_even"),
        Case((complex_normal(4),), {"n": 7}, oracle=False, label="n_odd"),
        Case((complex_normal(5),), {"n": 5}, oracle=False, label="n_crops_odd"),
        Case((complex_normal(3),), {"n": 8}, label="n_pads_even"),
        Case((complex_normal(3, 2),), {"axis": 0, "norm": "ortho"}, label="axis0_ortho"),
        Case((complex_normal(2, 3),), {"norm": "forward"}, oracle=False, label="forward"),
        Case((normal(4),), label="real_input"),
    ]


def _rfft_many(two_d):
    cases = [
        Case((normal(3, 4),), label="even_last"),
        Case((normal(2, 3),), oracle=False, label="odd_last"),
        Case((normal(3, 2, 2),), {"axes": (0, 1), "s": (2, 4), "norm": "ortho"},
             label="s_axes_ortho"),
    ]
    if not two_d:
        cases += [Case((normal(2, 2, 3),), {"s": (3, 1, 4), "axes": (1, 0, 2),
                                            "norm": "forward"}, oracle=False,
                      label="permuted_axes")]
    return cases


def _irfft_many(two_d):
    cases = [
        Case((complex_normal(3, 3),), label="default_even"),
        Case((complex_normal(2, 3),), {"s": (3, 5), "axes": (0, 1)}, oracle=False,
             label="s_odd"),
        Case((complex_normal(2, 3, 2),), {"axes": (2, 1), "s": (3, 4), "norm": "ortho"},
             label="axes_ortho"),
    ]
    if not two_d:
        cases += [Case((complex_normal(2, 2, 2),), {"norm": "forward"}, oracle=False,
                      label="all_forward")]
    return cases


def _shift():
    return [
        Case((normal(5),), label="odd"),
        Case((complex_normal(3, 4),), label="complex_2d"),
        Case((normal(3, 4),), {"axes": 0}, label="axis0"),
        Case((normal(2, 3, 3),), {"axes": (-1, 1)}, label="axes"),
    ]


CASES = {
    "fft.fft": _full(True),
    "fft.ifft": _full(True),
    "fft.fft2": _full_many(True),
    "fft.ifft2": _full_many(True),
    "fft.fftn": _full_many(False),
    "fft.ifftn": _full_many(False),
    "fft.rfft": _rfft(),
    "fft.irfft": _irfft(),
    "fft.rfft2": _rfft_many(True),
    "fft.rfftn": _rfft_many(False),
    "fft.irfft2": _irfft_many(True),
    "fft.irfftn": _irfft_many(False),
    "fft.hfft": _irfft(),
    "fft.ihfft": _rfft(),
    "fft.fftshift": _shift(),
    "fft.ifftshift": _shift(),
    "fft.fftfreq": [Case((5, 0.3), diff=(1,), label="odd"),
                    Case((6, 2.0), diff=(1,), label="even")],
    "fft.rfftfreq": [Case((5, 0.3), diff=(1,), label="odd"),
                     Case((6, 2.0), diff=(1,), label="even")],
}


def autograd_equivalents():
    """autograd.numpy.fft for every op here that it has rules for."""
    import autograd.numpy as anp

    names = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
             "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift"]
    return {f"fft.{name}": getattr(anp.fft, name) for name in names}
