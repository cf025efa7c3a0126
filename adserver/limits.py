"""The daemon's limits, each one a command-line flag (see ``adserver --help``).

Sizes and counts are integers; the three time limits are seconds (floats allowed), where 0
means "no limit". ``welcome.limits`` reports every one of them (PROTOCOL.md section 13).
"""
from dataclasses import dataclass, fields, asdict


@dataclass
class Limits:
    max_message_bytes: int = 1 << 30        # one message, all frames; also the unread replies
                                            # one connection may have queued
    max_frames: int = 4096                  # frames in one message
    max_ops_per_batch: int = 100_000        # ops in one batch message
    max_array_bytes: int = 1 << 30          # one array crossing the wire
    max_live_handles: int = 1_000_000       # handles one session may hold at once
    max_callback_depth: int = 64            # client callbacks nested inside each other
    max_sessions: int = 1024                # sessions one daemon serves at once
    max_sessions_per_connection: int = 16   # sessions one connection may hold at once
    max_session_bytes: int = 1 << 33        # bytes of the arrays one session holds (8 GiB)
    lease_seconds: float = 600.0            # a session without traffic this long ends
    max_backward_seconds: float = 600.0     # one backward pass's running time
    callback_timeout_seconds: float = 300.0  # time a client has to answer a callback
    max_tapes: int = 256                    # compiled tapes one session keeps
    max_op_cost: float = 1e10               # estimated work of one op (0: no limit)

    def as_dict(self):
        return asdict(self)

    @classmethod
    def names(cls):
        return [f.name for f in fields(cls)]

    @classmethod
    def kind(cls, name):
        """The Python type of limit ``name`` (int or float)."""
        return type(getattr(cls(), name))


HELP = {
    "max_message_bytes": "largest message, in bytes, that the daemon accepts",
    "max_frames": "most frames in one message",
    "max_ops_per_batch": "most ops in one batch message",
    "max_array_bytes": "largest array, in bytes, in one message",
    "max_live_handles": "most live handles one session may hold, daemon-allocated ones "
                        "included",
    "max_callback_depth": "deepest nesting of client callbacks (user-defined gradients)",
    "max_sessions": "most sessions the daemon serves at once",
    "max_sessions_per_connection": "most sessions one connection may hold at once, so that "
                                   "one client cannot take every --max-sessions slot",
    "max_session_bytes": "most bytes of array data one session may hold in its live "
                         "handles and published arrays",
    "lease_seconds": "a session that sends nothing for this many seconds ends and its "
                     "values are freed; clients refresh it with any message (0: never)",
    "max_backward_seconds": "longest running time, in seconds, of one backward pass; a "
                            "longer one is stopped between nodes with a LimitError (0: no "
                            "limit)",
    "callback_timeout_seconds": "seconds a client has to answer a callback (a user-defined "
                                "gradient) before its vjp fails with a LimitError (0: no "
                                "limit)",
    "max_op_cost": "most work one op may take, in the op table's cost units (about one "
                   "elementary operation of a numpy loop; 1e10 is a few seconds here); "
                   "an op estimated above it is refused before it runs (0: no limit)",
    "max_tapes": "most compiled tapes (recorded calls replayed by tape.run) one session "
                 "keeps; past it, a new recording is not compiled and its call stays traced",
}
