"""Exceptions the client raises."""
from adproto import RemoteError


class DaemonError(RemoteError):
    """The daemon could not run an op (or a message); raised at the next sync.

    ``location`` is where in the user's code the failing op was issued, when known.
    """

    def __init__(self, info, location=None):
        super().__init__(info)
        self.location = location
        message = info.get("message", "daemon error")
        if info.get("op") and f"'{info['op']}'" not in message:
            message = f"op '{info['op']}' failed: {message}"
        if location:
            message += f"\n  (the op was issued at {location})"
        self.args = (message,)


class SessionLost(ConnectionError):
    """The daemon no longer knows this client's session (it stopped or restarted)."""
