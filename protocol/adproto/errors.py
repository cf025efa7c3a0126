"""Exceptions shared by both ends of the protocol."""


class ProtocolError(ValueError):
    """A message that does not follow protocol/PROTOCOL.md.

    ``error_type`` is the error object's type on the wire; ``limit`` names the limit a
    message went past, for LimitErrors.
    """

    error_type = "ProtocolError"

    def __init__(self, message, limit=None):
        super().__init__(message)
        self.limit = limit


class VersionError(ProtocolError):
    """The peer speaks a protocol version this side does not."""

    error_type = "VersionError"


class LimitExceeded(ProtocolError):
    """A message is larger than a configured limit allows."""

    error_type = "LimitError"


class RemoteError(RuntimeError):
    """An error object received from the other side, turned back into an exception.

    ``info`` is the error object itself (type, message and, where known, seq and op).
    """

    def __init__(self, info):
        self.info = dict(info)
        super().__init__(self.info.get("message", "remote error"))

    @property
    def type(self):
        return self.info.get("type")

    @property
    def seq(self):
        return self.info.get("seq")

    @property
    def op(self):
        return self.info.get("op")
