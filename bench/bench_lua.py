#!/usr/bin/env python3
"""The Lua client against the Python client: one MLP training step, same daemon, same run.

The step is bench_grad.py's ``mlp_step``: the gradient of a 784-50-50-10 tanh MLP's
sum-of-squares loss (batch 128, float64) with the parameters and data on the daemon, an
SGD update there, and the loss read back (one round trip). Python writes it with
``adclient``; Lua (LuaJIT 2.1 and Lua 5.4, through lupa in this process) with
torch-autograd's API under ``adlua``. Both run traced on every call, and with tape replay
(``optimize``). Runs are interleaved round by round; medians are compared.

    python3 bench/bench_lua.py            # full run, table, JSON in bench/results/
    python3 bench/bench_lua.py --quick    # smoke run
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from threads import limit_threads, thread_option  # noqa: E402

if __name__ == "__main__":
    limit_threads(sys.argv[1:])     # before numpy loads

import numpy as onp  # noqa: E402
import bench_grad  # noqa: E402  (data, loss and timing shared with bench_grad)

DEFAULT_JSON = os.path.join(HERE, "results", "bench_lua.json")
ENGINES = ("luajit21", "5.4")
LR = bench_grad.LEARNING_RATE

LUA_STEP = r"""
local autograd = require 'autograd'
local B = ...
local function loss(p, x, y)
  local h = x
  for i = 1, #p - 1 do
    h = torch.tanh(h * p[i].W + torch.expand(p[i].b:view(1, p[i].b:size(1)), h:size(1),
                                             p[i].b:size(1)))
  end
  local last = p[#p]
  local out = h * last.W + torch.expand(last.b:view(1, last.b:size(1)), h:size(1),
                                        last.b:size(1))
  return torch.sum(torch.pow(out - y, 2))
end
local df = autograd(loss, {optimize = B.optimize})
local params, x, y = B.params, B.x, B.y
return function()
  local g, l = df(params, x, y)
  for i = 1, #params do
    params[i].W = params[i].W - g[i].W * B.lr
    params[i].b = params[i].b - g[i].b * B.lr
  end
  return l
end
"""


def python_step(adclient, optimize):
    import adclient.numpy as adnp
    params, inputs, targets = bench_grad.mlp_data()
    loss = bench_grad.make_mlp_loss(adnp)
    remote = [(adclient.remote(W), adclient.remote(b)) for W, b in params]
    x, y = adclient.remote(inputs), adclient.remote(targets)
    value_and_grad = adclient.value_and_grad(loss, optimize=optimize)

    def step():
        nonlocal remote
        value, grads = value_and_grad(remote, x, y)
        remote = [(W - LR * gW, b - LR * gb) for (W, b), (gW, gb) in zip(remote, grads)]
        return float(value)
    return step


def lua_step(engine, session, optimize):
    from adlua.host import Host
    host = Host(engine, session=session)
    lua = host.lua
    params, inputs, targets = bench_grad.mlp_data()

    def tensor(a):
        return lua.globals().torch.Tensor(lua.table_from(onp.asarray(a).tolist(), recursive=True))

    lua_params = lua.table_from([lua.table_from({"W": tensor(W), "b": tensor(b)})
                                 for W, b in params])
    setup = lua.table_from({"params": lua_params, "x": tensor(inputs), "y": tensor(targets),
                            "lr": LR, "optimize": optimize})
    step = lua.execute(LUA_STEP, setup)
    return host, step


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=50)
    p.add_argument("--quick", action="store_true", help="5 repeats, to check that it runs")
    thread_option(p)
    p.add_argument("--json", default=DEFAULT_JSON, metavar="PATH")
    args = p.parse_args(argv)
    limit_threads(argv)
    repeats = 5 if args.quick else args.repeats

    import adclient
    from adclient.session import get_session
    session = get_session()
    contestants, hosts = {}, []
    for optimize in (False, True):
        tag = " replay" if optimize else ""
        contestants["python" + tag] = python_step(adclient, optimize)
        for engine in ENGINES:
            host, step = lua_step(engine, session, optimize)
            hosts.append(host)
            contestants[f"lua {engine}{tag}"] = step

    # Every contestant starts from the same parameters: their first losses must agree.
    first = {name: float(fn()) for name, fn in contestants.items()}
    ref = first["python"]
    for name, value in first.items():
        if abs(value - ref) > 1e-9 * abs(ref):
            print(f"FAILED: first loss of {name} is {value}, python's is {ref}", file=sys.stderr)
            return 1

    times = bench_grad.measure(contestants, repeats, bench_grad.DEFAULT_WARMUP,
                               0.0 if args.quick else bench_grad.WARMUP_SECONDS)
    results = {name: bench_grad.summarize(t) for name, t in times.items()}
    ratios = {}
    for name, r in results.items():
        base = "python replay" if name.endswith("replay") else "python"
        ratios[f"{name} / {base}"] = r["median_ms"] / results[base]["median_ms"]

    print(f"MLP training step (784-50-50-10, batch 128), {repeats} interleaved repeats, "
          f"daemon at {session.address}")
    print(f"  {'client':<22}{'median ms':>11}{'IQR ms':>10}   {'vs python':>10}")
    for name, r in results.items():
        base = "python replay" if name.endswith("replay") else "python"
        print(f"  {name:<22}{r['median_ms']:>11.3f}{r['iqr_ms']:>10.3f}   "
              f"{ratios[f'{name} / {base}']:>9.2f}x")
    report = {"repeats": repeats, "results": results, "ratios": ratios,
              "machine": bench_grad.machine_info(None)}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"\nresults written to {args.json}")
    for host in hosts:
        host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
