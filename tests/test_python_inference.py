"""Shapes and dtypes the client works out itself must be the daemon's.

adclient knows the shape and dtype of a ufunc's answer without asking the daemon (see
proxy._ufunc_meta); here every ufunc of the vocabulary, over arguments of every kind the
wire carries, is compared with what the daemon reports for the same handle.
"""
import itertools

import numpy as onp

import adclient
from adclient.proxy import _UFUNCS, call


def test_inferred_metadata_is_the_daemons(client):
    arrays = [adclient.remote(onp.ones((2, 1), dtype=d))
              for d in ("float32", "float64", "int64", "int32", "bool", "complex128", "uint8")]
    others = [2.0, 3, True, 1j, onp.float64(2.0), onp.int64(2), onp.ones(3, dtype="float32")]
    checked, wrong = 0, []
    for name, ufunc in sorted(_UFUNCS.items()):
        cases = (itertools.product(arrays, arrays + others) if ufunc.nin == 2
                 else ((a,) for a in arrays))
        for args in cases:
            r = call(name, list(args[:ufunc.nin]))
            inferred, r._meta = r._meta, None
            if inferred is None:
                continue
            try:
                real = r._fetch_meta()
            except adclient.DaemonError:
                continue       # the op itself fails (a dtype numpy refuses)
            checked += 1
            if tuple(real[0]) != tuple(inferred[0]) or real[1] != inferred[1]:
                wrong.append((name, [getattr(a, "dtype", type(a)) for a in args],
                              inferred, real))
    assert checked > 2000
    assert not wrong, wrong[:10]


def test_shapes_that_do_not_broadcast_are_left_to_the_daemon(client):
    a = adclient.remote(onp.ones(3))
    bad = a + onp.ones(4)
    assert bad._meta is None
    try:
        bad.shape
    except adclient.DaemonError as exc:
        assert "broadcast" in str(exc)
    else:
        raise AssertionError("the daemon accepted shapes that do not broadcast")
