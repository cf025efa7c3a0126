"""Structured logs on stderr: one event per line, as key=value pairs or as JSON.

``--log-format text`` (the default) writes logfmt lines::

    ts=2025-01-01T12:00:00.123Z level=info logger=adserver event="session opened" sid=5e55... peer=7f3a...

``--log-format json`` writes one JSON object per line with the same keys. Code logs an
event with ``event(logger, logging.INFO, "session opened", sid=..., peer=...)``; plain
``logger.info("...")`` calls come out with the message as ``event``.
"""
import json
import logging
import sys
import time

FORMATS = ("text", "json")


def event(logger, level, name, **fields):
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={"fields": fields})


def _fields(record, formatter):
    out = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) +
           f".{int(record.msecs):03d}Z",
           "level": record.levelname.lower(), "logger": record.name,
           "event": record.getMessage()}
    for k, v in getattr(record, "fields", {}).items():
        out[k] = v
    if record.exc_info:
        out["exc"] = formatter.formatException(record.exc_info)
    return out


def _logfmt(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if s and not any(c in s for c in ' ="\\\n\t') :
        return s
    return json.dumps(s)


class TextFormatter(logging.Formatter):
    def format(self, record):
        return " ".join(f"{k}={_logfmt(v)}" for k, v in _fields(record, self).items())


class JSONFormatter(logging.Formatter):
    def format(self, record):
        return json.dumps(_fields(record, self), default=str)


def setup(level="info", fmt="text", stream=None):
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JSONFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
