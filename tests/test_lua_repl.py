"""adlua -i: the interactive prompt, fed through a pipe as a terminal user would type."""
import io
import os
import subprocess
import sys

import pytest


def run(lines, *args, address):
    env = dict(os.environ, ADSERVER_ADDRESS=address)
    # -i comes first: after a script's name, arguments belong to the script (its arg table)
    return subprocess.run([sys.executable, "-m", "adlua.cli", "-i", *args], input=lines,
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("engine", ["luajit21", "5.4"])
def test_expressions_statements_continuations_and_errors(engine, tcp_daemon):
    r = run("x = torch.ones(2, 2)\nx:sum()\nfor i = 1, 2 do\n  print(i * 10)\nend\n"
            "undefined_call()\n1 + 1, 'two'\n", "--lua", engine, address=tcp_daemon.address)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:4] == ["4", "10", "20", "2\ttwo"]
    assert "stdin:1: attempt to call" in r.stderr and "undefined_call" in r.stderr


def test_prompt_after_a_script_sees_its_globals(tmp_path, tcp_daemon):
    script = tmp_path / "setup.lua"
    script.write_text("grad = require 'autograd'\nf = function(x) return x * x end\n")
    r = run("grad(f)(3)\n", str(script), address=tcp_daemon.address)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[0] == "6\t9"


def pipe(source, *args, address):
    env = dict(os.environ, ADSERVER_ADDRESS=address)
    return subprocess.run([sys.executable, "-m", "adlua.cli", *args], input=source,
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("engine", ["luajit21", "5.4"])
def test_equals_expressions_and_tables_print_as_th(engine, tcp_daemon):
    r = run("=1 + 2, 'a'\n={b = 1}\nt = {c = 2}\nt\n", "--lua", engine,
            address=tcp_daemon.address)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "3\ta\n{\n  b : 1\n}\n{\n  c : 2\n}\n"


@pytest.mark.parametrize("engine", ["luajit21", "5.4"])
def test_a_nil_argument_names_the_function_and_the_users_line(engine, tcp_daemon):
    r = run("x = torch.ones(2)\nprint(torch.sum(gg))\ntorch.add(x, gg)\nx:add(nil)\n"
            "torch.exp('a')\nprint(torch.sum(x))\n", "--lua", engine,
            address=tcp_daemon.address)
    assert r.returncode == 0
    assert r.stdout == "2\n"
    errors = [line for line in r.stderr.split("\n") if line.startswith("adlua:")]
    assert errors == [
        "adlua: stdin:1: torch.sum: argument 1 is nil (expected a tensor; an undefined "
        "variable?)",
        "adlua: stdin:1: torch.add: argument 2 is nil (expected a tensor or a number; an "
        "undefined variable?)",
        "adlua: stdin:1: x:add: argument 1 is nil (expected a tensor or a number; an "
        "undefined variable?)",
        "adlua: stdin:1: torch.exp: argument 1 must be a tensor, got string",
    ]
    # the traceback shows the user's frames only, not the library's
    assert "/adlua/lua/" not in r.stderr and "stdin:1: in main chunk" in r.stderr


def test_piped_script_and_dash_read_standard_input(tcp_daemon):
    script = "local x = torch.ones(3)\nprint(x:sum())\nprint(arg[1])\n"
    r = pipe(script, address=tcp_daemon.address)
    assert (r.returncode, r.stdout) == (0, "3\nnil\n"), r.stderr
    r = pipe(script, "-", "first", address=tcp_daemon.address)
    assert (r.returncode, r.stdout) == (0, "3\nfirst\n"), r.stderr
    r = pipe("print(torch.sum(gg))\n", address=tcp_daemon.address)
    assert r.returncode == 1
    assert "stdin:1: torch.sum: argument 1 is nil" in r.stderr


class Terminal(io.StringIO):
    """Typed lines, from a standard input that says it is a terminal."""

    def isatty(self):
        return True


def test_a_terminal_gets_the_banner_and_prompts(tcp_daemon):
    from adclient.session import Session
    from adlua.host import Host
    from adlua.repl import interact
    out, err = io.StringIO(), io.StringIO()
    host = Host("luajit21", session=Session(tcp_daemon.address, client="adlua-banner"),
                stdout=out)
    try:
        errors = interact(host, stdin=Terminal("=2 * 21\n"), stderr=err)
    finally:
        host.close()
    assert errors == 0
    banner, rest = out.getvalue().split("\n", 2)[:2], out.getvalue().split("\n", 2)[2]
    assert banner[0].startswith("adlua ") and "LuaJIT 2.1" in banner[0]
    assert "Ctrl-D" in banner[1] and "os.exit()" in banner[1]
    assert rest == "> 42\n> \n"
