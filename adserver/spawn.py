"""Starting a daemon process: ``python -m adserver ARGS``, run from a directory of its own.

``python -m`` puts the working directory first on ``sys.path``. Run from a directory that
holds a folder named ``adserver`` (or ``adproto``, ``zmq``, ``numpy``...), the child would
import that instead of the installed package and fail (``cannot import name '__version__'
from 'adserver' (unknown location)``), or run someone else's code. So a daemon child runs
in a private directory of its parent's choosing: one only its user can write, which holds
nothing to import (``-P`` would do the same, but only from Python 3.11 on). File names in
ARGS must therefore be absolute; relative entries of PYTHONPATH are made absolute, so that
they mean to the child what they meant to its parent.

Used by ``adserver --workers`` (adserver.workers) and by clients that start a private
daemon (adclient.session).
"""
import os
import subprocess
import sys
import tempfile


def daemon_argv(args):
    """The command line of a daemon with this interpreter and ARGS (the adserver flags)."""
    return [sys.executable, "-m", "adserver", *args]


def private_workdir(prefix="adserver-"):
    """A fresh empty directory (mode 0700) to run daemon children in; the caller removes
    it (``os.rmdir``) once they have stopped."""
    return tempfile.mkdtemp(prefix=prefix)


def daemon_environment(environ=None):
    """``environ`` (default: this process's) with PYTHONPATH's entries made absolute."""
    env = dict(os.environ if environ is None else environ)
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(entry) for entry in env["PYTHONPATH"].split(os.pathsep) if entry)
    return env


def start_daemon(args, workdir, **popen_options):
    """``subprocess.Popen`` of a daemon with ARGS, in ``workdir`` (``private_workdir``)."""
    popen_options.setdefault("env", daemon_environment())
    return subprocess.Popen(daemon_argv(args), cwd=workdir, **popen_options)


def remove_workdir(workdir):
    """Remove a ``private_workdir``; one that is not empty (or gone) is left alone."""
    try:
        os.rmdir(workdir)
    except OSError:
        pass
