"""Arrays that one session publishes under a name for every session of the daemon.

A published array is a read-only copy, so no session can change what others read. It
lives until its publisher unpublishes it or the publishing session ends.
"""
import numpy as np


class SharedArrays:
    def __init__(self):
        self._arrays = {}   # name -> (array, owner session id)

    def publish(self, name, value, owner):
        held = self._arrays.get(name)
        if held is not None and held[1] != owner:
            raise KeyError(f"the name {name!r} is already published by another session")
        array = np.array(value, copy=True)
        array.flags.writeable = False
        self._arrays[name] = (array, owner)

    def get(self, name):
        held = self._arrays.get(name)
        if held is None:
            raise KeyError(f"no array is published under the name {name!r}")
        return held[0]

    def unpublish(self, name, owner):
        held = self._arrays.get(name)
        if held is None or held[1] != owner:
            raise KeyError(f"this session has not published {name!r}")
        del self._arrays[name]

    def drop_owner(self, owner):
        """Forget everything a session published (it ended)."""
        for name in [n for n, (_, o) in self._arrays.items() if o == owner]:
            del self._arrays[name]

    def __len__(self):
        return len(self._arrays)
