"""Exceptions shared by both ends of the protocol."""


class ProtocolError(ValueError):
    """A message that does not follow protocol/PROTOCOL.md."""


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
