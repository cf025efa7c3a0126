"""The private daemon a client starts when no address is configured (ADSERVER_ADDRESS unset).

It listens on an ipc socket in a fresh 0700 directory and lives as long as the client:

- It runs in a session of its own (its own process group), so the terminal's Ctrl-C, which
  goes to the whole foreground process group, reaches the client only. The client turns
  that Ctrl-C into a ``cancel`` of its running batch; if the daemon got the SIGINT too, it
  would stop, and the session with every value it held would be lost.
- It still stops with the client: the client terminates it at exit (``Session.close``,
  run at exit), and the daemon stops by itself within a second of noticing that its
  parent is gone (``--parent-pid``), which covers a client killed outright.
- It starts in its private directory, so that whatever the client's working directory
  holds (a folder named ``adserver``, say) cannot shadow the daemon's modules:
  ``python -m`` puts the working directory first on ``sys.path``. Relative entries of
  PYTHONPATH are made absolute, so that they mean what they meant to the client.
"""
import os
import shutil
import subprocess
import sys
import tempfile


class PrivateDaemon:
    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="adserver-")   # mode 0700
        self.address = f"ipc://{self.directory}/daemon.sock"
        level = os.environ.get("ADSERVER_LOG_LEVEL", "warning")
        # No lease: the private daemon lives and dies with this process.
        self.process = subprocess.Popen(
            # and no cost limit per op: it serves nobody else, so a long op is the user's
            # own choice (a shared daemon refuses one above --max-op-cost)
            [sys.executable, "-m", "adserver", "--listen", self.address,
             "--parent-pid", str(os.getpid()), "--log-level", level, "--lease-seconds", "0",
             "--max-op-cost", "0"],
            stdin=subprocess.DEVNULL, cwd=self.directory, env=_daemon_environment(),
            start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def exit_status(self):
        """The daemon's exit status, or None while it runs."""
        return self.process.poll()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def _daemon_environment():
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    if path:
        env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in path.split(os.pathsep)
                                            if p)
    return env
