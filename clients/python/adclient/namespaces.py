"""adclient.numpy and adclient.scipy, built from the daemon's op vocabulary.

Every op named in adproto.vocabulary under a numpy or scipy path becomes a function here:
called on plain values it is numpy's (or scipy's) own function, run locally; called with
a RemoteArray among its arguments it becomes one op on the daemon. A name the vocabulary
does not know falls through to numpy or scipy itself.
"""
import importlib
from types import SimpleNamespace

from adproto import vocabulary
from .proxy import call, has_remote, stacked

#: numpy/scipy function name (as the user calls it) -> its wrapper, for __array_function__
wrapped = {}


def _local(path):
    """numpy's or scipy's function at a dotted path such as 'linalg.solve', or None."""
    root = "scipy" if path.startswith("scipy.") else "numpy"
    parts = path.split(".")[1:] if root == "scipy" else path.split(".")
    module = importlib.import_module(root)
    obj = module
    for i, part in enumerate(parts):
        if not hasattr(obj, part):
            try:  # a submodule not imported yet (scipy.special, numpy.linalg)
                obj = importlib.import_module(".".join([root, *parts[:i + 1]]))
                continue
            except ImportError:
                return None
        obj = getattr(obj, part)
    return obj if callable(obj) else None


#: ops whose list arguments are sequences of arrays to join, not arrays themselves
JOINS = frozenset({"concatenate", "stack", "vstack", "hstack", "dstack", "column_stack",
                   "linalg.multi_dot"})


def _as_arrays(values):
    """Each list or tuple among ``values`` that holds RemoteArrays, stacked into one array:
    numpy reads a list where it takes an array as the array it spells, and the daemon
    cannot send a list of traced values through numpy itself."""
    return [stacked(v) if type(v) in (list, tuple) and has_remote(v) else v for v in values]


def wrapper(op_name, local):
    takes_arrays = op_name not in JOINS

    def f(*args, **kwargs):
        if has_remote(args) or (kwargs and has_remote(kwargs.values())):
            if takes_arrays:
                args = _as_arrays(args)
                kwargs = dict(zip(kwargs, _as_arrays(kwargs.values())))
            return call(op_name, args, kwargs or None)
        return local(*args, **kwargs)

    name = op_name.rsplit(".", 1)[-1]
    f.__name__ = f.__qualname__ = name
    # (scipy's ufuncs have no __module__)
    module = getattr(local, "__module__", None) or op_name.rsplit(".", 1)[0]
    f.__doc__ = (f"{module}.{getattr(local, '__name__', name)}; runs on the daemon when an "
                 "argument is a RemoteArray.\n\n" + (local.__doc__ or ""))
    return f


def populate(namespace, prefix):
    """Wrap every vocabulary op under ``prefix`` ('' for numpy's top level, 'linalg.',
    'scipy.special.', ...) into the dict ``namespace``; dotted rests ('norm.logpdf') become
    attribute namespaces ('norm')."""
    for op_name in vocabulary.OPS:
        if not op_name.startswith(prefix):
            continue
        rest = op_name[len(prefix):]
        if not prefix and ("." in rest):
            continue
        local = _local(op_name)
        if local is None:
            continue  # an op of the daemon's own (getitem, untake, ...): not numpy's
        f = wrapper(op_name, local)
        *outer, leaf = rest.split(".")
        target = namespace
        for part in outer:
            target = target.setdefault(part, SimpleNamespace()).__dict__
        target.setdefault(leaf, f)
        if not outer:
            wrapped.setdefault(leaf if not prefix else op_name, f)
