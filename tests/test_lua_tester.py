"""torch.Tester (and totem.Tester, as torch-autograd's test/test.lua requires it) run by
the adlua command on real lupa engines against a real daemon: Torch7's report and exit
status."""
import os
import subprocess
import sys

import pytest

ENGINES = ["luajit21", "5.4"]

SCRIPT = r"""
local totem = require 'totem'
local tester = totem.Tester()
local tests = {
  Passes = function()
    tester:assert(true, 'true')
    tester:asserteq(2, 2, 'eq')
    tester:assertne(1, 2)
    tester:assertlt(1, 2); tester:assertgt(2, 1); tester:assertle(2, 2); tester:assertge(2, 2)
    tester:assertalmosteq(1, 1 + 1e-9, 1e-6)
    tester:assertTensorEq(torch.ones(2, 2), torch.ones(2, 2) + 1e-9, 1e-6, 'tensors')
    tester:assertTensorNe(torch.ones(2), torch.zeros(2), 1e-6)
    tester:assertTableEq({1, {a = 2}}, {1, {a = 2}}, 'tables')
    tester:assertTableNe({1}, {2})
    tester:eq({x = torch.ones(3), n = 1.0000001}, {x = torch.ones(3), n = 1}, 1e-3)
    tester:assertError(function() error('x') end)
    tester:assertErrorMsg(function() error('boom', 0) end, 'boom')
    tester:assertErrorPattern(function() error('a boom here') end, 'boom')
    tester:assertNoError(function() end)
  end,
  Fails = function()
    tester:asserteq(1, 2, 'one is not two')
    tester:assertTensorEq(torch.ones(2), torch.zeros(2), 1e-6)
  end,
  Errors = function() local t = nil; return t.field end,
}
tester:add(tests)
tester:run(RUN)
"""


def adlua(tmp_path, engine, address, run="nil"):
    path = tmp_path / "test.lua"
    path.write_text(f"RUN = {run}\n" + SCRIPT)
    env = dict(os.environ, ADSERVER_ADDRESS=address)
    return subprocess.run([sys.executable, "-m", "adlua.cli", "--lua", engine, str(path)],
                          capture_output=True, text=True, timeout=120, env=env)


@pytest.mark.parametrize("engine", ENGINES)
def test_report_and_exit_status(tmp_path, tcp_daemon, engine):
    r = adlua(tmp_path, engine, tcp_daemon.address)
    assert r.returncode == 1
    lines = r.stdout.split("\n")
    dots = lambda name: "." * (80 - 6 - 2 - 4 - len(name))
    assert lines[:5] == [
        "Running 3 tests",
        f"1/3 Errors {dots('Errors')} [ERROR]",
        f"2/3 Fails {dots('Fails')} [FAIL]",
        f"3/3 Passes {dots('Passes')} [PASS]",
        "Completed 19 asserts in 3 tests with 1 failure and 1 error",
    ]
    assert lines[5] == "-" * 80
    report = r.stdout
    assert "Fails\none is not two\nEQ failed: 1 ~= 2\n" in report
    assert "TensorEQ(==) violation: max diff=1, tolerance=1e-06" in report
    assert "Errors\n Function call failed\n" in report and "attempt to index" in report
    assert "An error was found while running tests!" in r.stderr


def test_a_passing_run_exits_zero_and_runs_named_tests(tmp_path, tcp_daemon):
    r = adlua(tmp_path, "luajit21", tcp_daemon.address, run="'Passes'")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[-2] == "Completed 17 asserts in 1 test with 0 failures and 0 errors"
