"""The clients under Ctrl-C, unreachable daemons, lost sessions and exits.

Real clients run in subprocesses against real daemons. A terminal's Ctrl-C is a SIGINT
to the whole foreground process group: the children start in a session of their own and
the tests send SIGINT to that group (os.killpg), or type ^C on a pseudo-terminal. Every
step waits for an event (a line the child prints); time-outs are hang guards only.
"""
import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap

import pytest

from adserver.ping import status
from adclient import SessionLost
from conftest import Daemon, free_port

GUARD = 120.0      # seconds: a hang guard, never a measure of speed
ENGINES = ["luajit21", "5.4"]


def child_env(address=None, **extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1", **extra)
    env.pop("ADSERVER_ADDRESS", None)
    if address is not None:
        env["ADSERVER_ADDRESS"] = address
    return env


def spawn(argv, env, cwd=None):
    """A child in a process group of its own, as a shell runs a foreground job."""
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                            start_new_session=True)


def wait_for_line(proc, marker):
    """Read the child's stdout up to a line holding ``marker``."""
    seen = []
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], GUARD)
        assert ready, f"no {marker!r} from the child; it printed {seen}"
        line = proc.stdout.readline()
        assert line, f"the child ended before {marker!r}: {seen} {proc.stderr.read()}"
        seen.append(line)
        if marker in line:
            return line


def ctrl_c(proc):
    os.killpg(proc.pid, signal.SIGINT)


def finish(proc):
    try:
        out, err = proc.communicate(timeout=GUARD)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"the child hung: {out} {err}")
    return proc.returncode, out, err


@pytest.fixture
def own_daemon(tmp_path):
    """A daemon of this test only, so that its session count is this test's."""
    d = Daemon(f"ipc://{tmp_path}/d.sock")
    yield d
    d.stop()


# --- Ctrl-C in Python ------------------------------------------------------------------------
# f's backward pass: `announce`'s gradient (called back first) says it has begun, then the
# daemon runs 2000 sine gradients, then `hold`'s gradient waits for the Ctrl-C: the grad
# cannot end before the Ctrl-C, whenever it comes.
GRAD_UNTIL_CTRL_C = textwrap.dedent("""
    import json, time
    import adclient.numpy as np
    from adclient import grad, primitive, defvjp
    from adclient.session import get_session

    @primitive
    def announce(x):
        return x

    @primitive
    def hold(x):
        return x

    def announce_vjp(ans, x):
        def vjp(g):
            print("backward", flush=True)
            return g
        return vjp

    def hold_vjp(ans, x):
        def vjp(g):
            while True:
                time.sleep(1)
        return vjp

    defvjp(announce, announce_vjp)
    defvjp(hold, hold_vjp)

    def f(x):
        x = hold(x)
        for _ in range(2000):
            x = np.sin(x)
        return np.sum(announce(x))

    x = np.linspace(0, 1, 20_000)
    grad(lambda y: np.sum(np.sin(y)))(x)        # the session exists
    sid = get_session().sid
    try:
        grad(f)(x)
        out = {"interrupted": False}
    except KeyboardInterrupt:
        out = {"interrupted": True}
    out["after"] = float(grad(np.sin)(2.0))
    out["same_session"] = get_session().sid == sid
    print(json.dumps(out))
""")


def run_grad_until_ctrl_c(env):
    proc = spawn([sys.executable, "-c", GRAD_UNTIL_CTRL_C], env)
    wait_for_line(proc, "backward")
    ctrl_c(proc)
    code, out, err = finish(proc)
    assert code == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_ctrl_c_in_a_grad_cancels_it_and_the_private_session_lives_on():
    out = run_grad_until_ctrl_c(child_env())
    assert out["interrupted"] and out["same_session"]
    assert out["after"] == pytest.approx(-0.4161468365471424, abs=1e-12)


def test_ctrl_c_at_an_idle_moment_leaves_the_private_daemon_alone():
    script = textwrap.dedent("""
        import time
        import adclient.numpy as np
        from adclient import grad
        from adclient.session import get_session
        first = float(grad(np.sin)(0.0)), get_session().sid
        try:
            # (the marker inside the try: the Ctrl-C may come as soon as it is out)
            print(*first, "idle", flush=True)
            time.sleep(GUARD)
        except KeyboardInterrupt:
            pass
        print(float(grad(np.cos)(0.0)), get_session().sid, flush=True)
    """).replace("GUARD", str(GUARD))
    proc = spawn([sys.executable, "-c", script], child_env())
    first = wait_for_line(proc, "idle").split()
    ctrl_c(proc)
    code, out, err = finish(proc)
    assert code == 0, err
    value, sid = out.split()
    assert first[0] == "1.0" and float(value) == 0.0 and sid == first[1]


def test_a_message_is_never_split_by_ctrl_c(own_daemon, monkeypatch):
    """A Ctrl-C that comes between two frames of a message waits until the message is
    whole: the daemon gets it entire, and the session stays in step."""
    import numpy
    import adclient.session as cs
    from adclient import interrupts
    from adproto import Ref
    interrupts.install()
    s = cs.Session(own_daemon.address)
    try:
        h = s.op("array", [numpy.arange(4.0)])
        sent = cs._sock_send
        frames = []

        def send_then_ctrl_c(sock, frame, flags, copy):
            frames.append(frame)
            out = sent(sock, frame, flags, copy)
            if len(frames) == 1:
                os.kill(os.getpid(), signal.SIGINT)   # between the first and second frame
            return out

        monkeypatch.setattr(cs, "_sock_send", send_then_ctrl_c)
        with pytest.raises(KeyboardInterrupt):
            s.flush()
        monkeypatch.setattr(cs, "_sock_send", sent)
        assert len(frames) >= 2
        (value,), _ = s.sync(fetch=[Ref(h)])
        assert value.tolist() == [0.0, 1.0, 2.0, 3.0]
    finally:
        s.close()


# --- Ctrl-C in the REPLs (a pseudo-terminal: ^C is the terminal's SIGINT) ---------------------
class Terminal:
    """A child on a pseudo-terminal of its own, as a user's shell runs it."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:      # the child: exec at once
            try:
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        self.seen = ""

    def read_until(self, text):
        while text not in self.seen:
            ready, _, _ = select.select([self.fd], [], [], GUARD)
            assert ready, f"no {text!r} on the terminal; it shows {self.seen[-2000:]!r}"
            try:
                chunk = os.read(self.fd, 65536).decode(errors="replace")
            except OSError:
                chunk = ""
            assert chunk, f"the terminal closed before {text!r}: {self.seen[-2000:]!r}"
            self.seen += chunk
        at = self.seen.index(text) + len(text)
        shown, self.seen = self.seen[:at], self.seen[at:]
        return shown

    def type(self, text):
        os.write(self.fd, text.encode())

    def close(self):
        """Wait for the child's exit: its status."""
        try:
            while os.read(self.fd, 65536):
                pass
        except OSError:
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def terminal():
    made = []

    def start(argv, env):
        made.append(Terminal(argv, env))
        return made[-1]

    yield start
    for t in made:
        t.kill()


@pytest.mark.parametrize("engine", ENGINES)
def test_adlua_prompt_survives_ctrl_c_idle_in_a_grad_loop_and_in_a_pure_lua_loop(
        engine, terminal):
    # (markers are printed as 'a' .. 'b', so that the terminal's echo of the line typed
    # does not hold them)
    t = terminal([sys.executable, "-m", "adlua.cli", "-i", "--lua", engine], child_env())
    t.read_until("> ")
    t.type("x = torch.ones(3) print('sum', x:sum())\n")
    t.read_until("sum\t3")
    t.read_until("> ")
    # at the prompt: the line being typed goes, a new prompt comes, nothing else
    t.type("print('never')")
    t.type("\x03")
    shown = t.read_until("> ")
    assert "Traceback" not in shown
    t.type("print('after idle', x:sum())\n")
    t.read_until("after idle\t3")
    # a grad loop: Ctrl-C cancels it, the session and x stay
    t.type("grad = require 'autograd' df = grad(function(a) return torch.sum(torch.sin(a)) "
           "end) for i = 1, 1e9 do df(x) if i == 3 then print('loop' .. 'ing') end end\n")
    t.read_until("looping")
    t.type("\x03")
    shown = t.read_until("> ")
    assert "interrupted" in shown and "Traceback" not in shown
    t.type("print('after grad', x:sum())\n")
    t.read_until("after grad\t3")
    # a loop that never calls into Python
    t.type("print('spin' .. 'ning') while true do end\n")
    t.read_until("spinning")
    t.type("\x03")
    shown = t.read_until("> ")
    assert "interrupted" in shown
    t.type("print('after spin', x:sum())\n")
    shown = t.read_until("after spin")
    t.read_until("> ")
    assert "lost" not in shown
    t.type("\x04")                                  # Ctrl-D leaves
    assert t.close() == 0


def test_python_prompt_keeps_its_private_session_through_ctrl_c(terminal):
    t = terminal([sys.executable, "-q", "-i"], child_env())
    t.read_until(">>> ")
    t.type("import adclient.numpy as np; from adclient import grad, get_session\n")
    t.read_until(">>> ")
    t.type("sid = get_session().sid; float(grad(np.sin)(0.0))\n")
    t.read_until("1.0")
    t.read_until(">>> ")
    t.type("\x03")
    t.read_until(">>> ")
    t.type("get_session().sid == sid, float(grad(np.cos)(0.0))\n")
    shown = t.read_until(">>> ")
    assert "(True, -0.0)" in shown or "(True, 0.0)" in shown, shown
    # the daemon is out of the terminal's reach: a session (and process group) of its own
    t.type("import os; from adserver.ping import status; "
           "'own ' + str(os.getsid(status(get_session().address)['pid']) != os.getsid(0))\n")
    shown = t.read_until(">>> ")
    assert "own True" in shown, shown
    t.type("\x04")
    assert t.close() == 0


# --- Ctrl-C in adlua scripts -----------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("loop", ["while true do end", "x = 0 for i = 1, 1e12 do x = x + 1 end",
                                  "local x = 0 for i = 1, 1e12 do x = x + 1 end"])
def test_ctrl_c_stops_a_pure_lua_loop_in_a_script(engine, loop):
    proc = spawn([sys.executable, "-m", "adlua.cli", "--lua", engine, "-e",
                  f"print('ready') {loop}"], child_env())
    wait_for_line(proc, "ready")
    ctrl_c(proc)
    code, _, err = finish(proc)
    assert code == 130 and "interrupted" in err and "Traceback" not in err


# --- exits say bye -----------------------------------------------------------------------------
def sessions(daemon):
    return status(daemon.address, timeout=GUARD)["sessions"]


@pytest.mark.parametrize("engine", ENGINES)
def test_os_exit_in_adlua_ends_its_session_on_a_shared_daemon(engine, own_daemon):
    r = subprocess.run([sys.executable, "-m", "adlua.cli", "--lua", engine, "-e",
                        "print(torch.ones(3):sum()) os.exit(3)"],
                       capture_output=True, text=True, timeout=GUARD,
                       env=child_env(own_daemon.address))
    assert r.returncode == 3 and r.stdout.split() == ["3"], r.stderr
    assert sessions(own_daemon) == 0


def test_sys_exit_in_python_ends_its_session_on_a_shared_daemon(own_daemon):
    r = subprocess.run([sys.executable, "-c", "import sys, adclient.numpy as np\n"
                        "from adclient import grad\nprint(float(grad(np.sin)(0.0)))\n"
                        "sys.exit(4)"], capture_output=True, text=True, timeout=GUARD,
                       env=child_env(own_daemon.address))
    assert r.returncode == 4 and r.stdout.split() == ["1.0"], r.stderr
    assert sessions(own_daemon) == 0


# --- unreachable daemons and lost sessions ------------------------------------------------------
PY_GRAD = "import adclient.numpy as np\nfrom adclient import grad\nprint(grad(np.sin)(0.0))\n"


def unreachable_addresses(tmp_path):
    return {"tcp": f"tcp://127.0.0.1:{free_port()}", "ipc": f"ipc://{tmp_path}/none.sock"}


@pytest.mark.parametrize("kind", ["tcp", "ipc"])
@pytest.mark.parametrize("client", ["python", "adlua"])
def test_an_unreachable_daemon_is_reported_with_what_to_do(kind, client, tmp_path):
    address = unreachable_addresses(tmp_path)[kind]
    argv = ([sys.executable, "-c", PY_GRAD] if client == "python" else
            [sys.executable, "-m", "adlua.cli", "-e", "print(torch.ones(2):sum())"])
    # the hang guard is well under the 61 s the old clients waited in silence
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env=child_env(address, ADSERVER_CONNECT_TIMEOUT="2"))
    assert r.returncode == 1
    assert f"no adserver daemon at {address}" in r.stderr
    assert "adserver --listen" in r.stderr and "ADSERVER_ADDRESS" in r.stderr
    if kind == "ipc":
        assert "does not exist" in r.stderr
    else:
        assert "within 2 s" in r.stderr


def test_after_a_daemon_restart_calls_fail_fast_then_start_anew(monkeypatch):
    import adclient.session as cs
    import adclient.numpy as anp
    from adclient import grad
    address = f"tcp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ADSERVER_ADDRESS", address)
    monkeypatch.setenv("ADSERVER_CONNECT_TIMEOUT", "2")
    first = Daemon(address)
    cs.reset()
    try:
        assert float(grad(anp.sin)(0.0)) == 1.0
        first.stop()
        with pytest.raises(SessionLost, match="is lost"):
            grad(anp.sin)(0.0)
        with pytest.raises(cs.DaemonUnreachable, match="adserver --listen"):
            grad(anp.sin)(0.0)                  # the daemon is not back yet
        second = Daemon(address)
        try:
            assert float(grad(anp.sin)(0.0)) == 1.0
        finally:
            cs.reset()
            second.stop()
    finally:
        first.stop()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lua_tensor_of_a_lost_session_raises_session_lost(engine, monkeypatch):
    from adlua.host import Host
    address = f"tcp://127.0.0.1:{free_port()}"
    first = Daemon(address)
    host = Host(engine, address)
    try:
        ok, message = host.run_string("x = torch.ones(3) y = torch.ones(3) * 2 "
                                      "print(x:sum())")
        assert ok, message
        first.stop()
        second = Daemon(address)
        try:
            ok, message = host.run_string("print(x:sum())")
            assert not ok and "is lost" in str(message)
            # the new session has a handle of x's number, holding another value
            ok, message = host.run_string("z = torch.ones(3) * 7 print(z:sum())")
            assert ok, message
            ok, message = host.run_string("print(y:sum())")
            assert not ok and "which is lost" in str(message)
        finally:
            host.close()
            second.stop()
    finally:
        first.stop()


# --- the private daemon and the working directory ---------------------------------------------
def test_the_private_daemon_starts_whatever_the_working_directory_holds(tmp_path):
    trap = tmp_path / "adserver"
    trap.mkdir()
    (trap / "__init__.py").write_text("")
    (trap / "__main__.py").write_text("raise SystemExit('the wrong adserver')\n")
    r = subprocess.run([sys.executable, "-c", PY_GRAD], capture_output=True, text=True,
                       timeout=GUARD, env=child_env(), cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.split() == ["1.0"], r.stderr
