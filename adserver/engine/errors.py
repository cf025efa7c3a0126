"""Errors the engine raises; the session turns them into error objects on the wire."""


class EngineError(Exception):
    """A user-facing failure inside the engine."""


class NotDifferentiable(EngineError):
    """A gradient was asked of an op, or argument, that declares none."""
