"""The daemon's limits, each one a command-line flag (see ``adserver --help``)."""
from dataclasses import dataclass, fields, asdict


@dataclass
class Limits:
    max_message_bytes: int = 1 << 30        # whole multipart message, enforced by ZeroMQ
    max_frames: int = 4096                  # frames in one message
    max_ops_per_batch: int = 100_000        # ops in one batch message
    max_array_bytes: int = 1 << 30          # one array crossing the wire
    max_live_handles: int = 1_000_000       # handles one session may hold at once
    max_callback_depth: int = 64            # client callbacks nested inside each other
    max_sessions: int = 1024                # sessions one daemon serves at once

    def as_dict(self):
        return asdict(self)

    @classmethod
    def names(cls):
        return [f.name for f in fields(cls)]
