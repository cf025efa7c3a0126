"""adlua -i: the interactive prompt, fed through a pipe as a terminal user would type."""
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
