"""Exceptions the client raises."""
import re

import numpy

from adproto import RemoteError

# The exceptions an op (or a client gradient function) may raise that user code catches by
# type: numpy's LinAlgError and the builtins numerical code raises. A DaemonError carrying
# one is also an instance of it (see DaemonError.__new__).
KEPT_TYPES = {cls.__name__: cls for cls in (
    numpy.linalg.LinAlgError, ValueError, TypeError, ZeroDivisionError, ArithmeticError,
    FloatingPointError, OverflowError, IndexError, KeyError, NotImplementedError)}

# "LinAlgError: Singular matrix": the daemon writes the exception's name first
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ")
_combined = {}


def _original_type(info):
    """The name of the Python exception behind a daemon error object, when it says one."""
    kind = info.get("type")
    if kind == "CallbackError" and isinstance(info.get("detail"), dict):
        return info["detail"].get("type")
    if kind in ("OpError", "GradientError"):
        m = _NAMED.match(str(info.get("message", "")))
        return m.group(1) if m else None
    return None


class DaemonError(RemoteError):
    """The daemon could not run an op (or a message); raised at the next sync.

    ``location`` is where in the user's code the failing op was issued, when known.

    Where the op failed with one of KEPT_TYPES (numpy.linalg.LinAlgError for a singular
    matrix, ValueError for a bad reshape, ...), the exception is also of that type, so
    ``except numpy.linalg.LinAlgError`` catches it as it would catch numpy's own.
    """

    def __new__(cls, info=None, location=None, *args, **kwargs):
        if cls is DaemonError and isinstance(info, dict):
            original = KEPT_TYPES.get(_original_type(info))
            if original is not None:
                cls = _combined.get(original)
                if cls is None:
                    cls = _combined[original] = type(
                        "DaemonError", (DaemonError, original),
                        {"__module__": __name__, "__doc__": f"A DaemonError that is also "
                         f"{original.__module__}.{original.__qualname__}.",
                         "__qualname__": f"DaemonError[{original.__name__}]"})
        return super().__new__(cls, info)

    def __init__(self, info, location=None):
        super().__init__(info)
        self.location = location
        message = info.get("message", "daemon error")
        if info.get("op") and f"'{info['op']}'" not in message:
            message = f"op '{info['op']}' failed: {message}"
        if location:
            message += f"\n  (the op was issued at {location})"
        self.args = (message,)

    def __str__(self):
        # (KeyError's own __str__ would quote the message)
        return str(self.args[0]) if self.args else ""

    def __reduce__(self):
        return DaemonError, (self.info, self.location)


class SessionLost(ConnectionError):
    """The daemon no longer knows this client's session (it stopped or restarted)."""
