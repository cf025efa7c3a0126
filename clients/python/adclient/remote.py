"""Arrays that live on the daemon: keep data there, and share it between processes.

    w = adclient.remote(numpy_array)       # upload once; ops on w stay on the daemon
    w.get()  or  numpy.asarray(w)           # fetch
    adclient.publish("embeddings", table)   # one process publishes, read-only
    emb = adclient.shared("embeddings")     # any process uses it without uploading it
"""
import numpy as np

from .proxy import RemoteArray
from .session import get_session


def remote(x, session=None):
    """``x`` uploaded to the daemon, as a RemoteArray (a RemoteArray is returned as is)."""
    if type(x) is RemoteArray:
        return x
    s = session or get_session()
    arr = np.asarray(x)
    return RemoteArray(s, s.op("array", [arr]), 0, (arr.shape, arr.dtype))


def publish(name, x, session=None):
    """Publish ``x`` read-only under ``name`` for every session of the daemon; returns it
    as a RemoteArray. It stays published until ``unpublish`` or this session ends."""
    value = remote(x, session)
    value._session.op("publish", [value, name], out=False)
    return value


def shared(name, session=None):
    """The array another process published under ``name`` (an error at the next sync if
    there is none)."""
    s = session or get_session()
    return RemoteArray(s, s.op("shared", [name]), 0)


def unpublish(name, session=None):
    s = session or get_session()
    s.op("unpublish", [name], out=False)
