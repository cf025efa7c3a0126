"""Seeds 08 and 09, the training examples: `adlua` runs them to the end, on LuaJIT 2.1 and
Lua 5.4, and their asserts (training lowers the loss) hold.

They share one daemon, started here with one BLAS thread: on a small machine, numpy's
default of one BLAS thread per core makes each of 09's small matrix products wait on
thread hand-offs (several times slower when the machine is busy), which is a property of
the daemon's numpy, not of the client.
"""
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import Daemon, free_port
from seedcheck import LUA_SEEDS

ENGINES = ["luajit21", "5.4"]
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
NUMBER = r"-?\d+\.\d{4}"


@pytest.fixture(scope="module")
def daemon():
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update({k: "1" for k in THREAD_VARIABLES})
    try:
        d = Daemon(f"tcp://127.0.0.1:{free_port()}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield d
    d.stop()


def run_seed(name, engine, daemon):
    env = dict(os.environ, ADSERVER_ADDRESS=daemon.address)
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "adlua.cli", "--lua", engine,
                        str(LUA_SEEDS / f"{name}.lua")],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines(), time.monotonic() - started


@pytest.mark.parametrize("engine", ENGINES)
def test_08_neural_net_trains(engine, daemon):
    lines, seconds = run_seed("08_neural_net", engine, daemon)
    losses = []
    for i, line in enumerate(lines, 1):
        m = re.fullmatch(rf"epoch (\d+) loss ({NUMBER})", line)
        assert m and int(m.group(1)) == i, line
        losses.append(float(m.group(2)))
    assert len(losses) == 10
    assert losses[-1] < losses[0]
    print(f"08 on {engine}: {seconds:.1f} s")


@pytest.mark.parametrize("engine", ENGINES)
def test_09_mlp_three_ways_trains(engine, daemon):
    lines, seconds = run_seed("09_mlp_three_ways", engine, daemon)
    names = []
    for line in lines:
        m = re.fullmatch(rf"(.+): loss ({NUMBER}) -> ({NUMBER})", line)
        assert m, line
        names.append(m.group(1))
        assert float(m.group(3)) < float(m.group(2)), line
    assert names == ["torch functions", "nn layers", "model"]
    print(f"09 on {engine}: {seconds:.1f} s")
