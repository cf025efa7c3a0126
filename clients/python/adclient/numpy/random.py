"""numpy.random itself: random numbers are made here, so seeded inputs match plain numpy.

The module-level functions are wrapped only to tell a call being recorded as a tape
(``grad(f, optimize=True)``) that it drew random numbers: they reach the daemon as
constants, which a replay would repeat, so such a call is traced every time instead.
"""
from functools import wraps

from numpy.random import *  # noqa: F401,F403
import numpy.random as _local

from .. import session as _session


def _noting(fn):
    @wraps(fn)
    def draw(*args, **kwargs):
        s = _session._session
        if s is not None and s.recorder is not None:
            s.recorder.note("it draws random numbers (numpy.random)")
        return fn(*args, **kwargs)
    return draw


for _name in getattr(_local, "__all__", ()):
    _fn = getattr(_local, _name, None)
    if callable(_fn) and not isinstance(_fn, type) and _name not in ("seed", "get_state",
                                                                       "set_state"):
        globals()[_name] = _noting(_fn)
del _name, _fn


def __getattr__(name):
    return getattr(_local, name)
