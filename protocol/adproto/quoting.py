"""Bounded quoting of peer data in error messages and log lines.

An error message that quotes what a peer sent (a dtype name, a shape, a session id) must
not grow with it: a 16 MiB dtype name would otherwise come back as a 16 MiB error reply
and be logged whole. ``shorten`` writes a repr of bounded length, at a cost bounded too
(reprlib slices long strings and containers before writing them); ``clip`` cuts a text
that is already made.
"""
import reprlib

QUOTE_CHARS = 120       # a quoted value in an error message
MESSAGE_CHARS = 2000    # a whole error message, or a field of a log line

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = _repr.maxother = 80
_repr.maxlong = 40
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8


def shorten(value, limit=QUOTE_CHARS):
    """repr(value), at most about ``limit`` characters long."""
    try:
        text = _repr.repr(value)
    except Exception:    # a repr that fails says what the value is, no more
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def clip(text, limit=MESSAGE_CHARS):
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"
