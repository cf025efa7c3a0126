"""Ctrl-C that waits until a message is whole.

A message goes out as several frames, one socket call each, and comes in the same way. A
KeyboardInterrupt raised between two of those calls would leave half a message in the
socket: the rest of it then reads as (or glues onto) the next message, and the session is
out of step with its daemon for good. So while a message is being sent or read, the
SIGINT handler installed here only notes the Ctrl-C, and the session raises it as
KeyboardInterrupt once the message is whole (``raise_pending``). At any other moment the
handler raises at once, as Python's own does.

The handler replaces Python's default one only, and only from the main thread (the only
one that may set handlers): a program with a SIGINT handler of its own keeps it.
"""
import signal
import threading


class _State:
    __slots__ = ("busy", "pending", "count")

    def __init__(self):
        self.busy = False      # a message is being sent or read: a Ctrl-C must wait
        self.pending = False   # a Ctrl-C came while busy
        self.count = 0         # Ctrl-Cs so far: code that may have swallowed the
                               # KeyboardInterrupt (Lua's pcall) can tell there was one


state = _State()


def _on_sigint(signum, frame):
    state.count += 1
    if state.busy:
        state.pending = True
        return
    raise KeyboardInterrupt


def install():
    """Put the handler in place of Python's default SIGINT handler, if that is the one."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)


def raise_pending():
    """Raise the KeyboardInterrupt of a Ctrl-C that came while a message was in transit."""
    if state.pending:
        state.pending = False
        raise KeyboardInterrupt
