#!/usr/bin/env python3
"""Many client processes, Python and Lua mixed, computing gradients against one daemon.

Each client process opens its own session on one shared ``adserver`` (started here on a
loopback TCP port, or joined with ``--address``), warms up, waits for the common start, and
then computes ``--calls`` gradients one after another, checking every one against its
closed form. The report gives per-call latency (p50, p90, p99, max), throughput, errors and
wrong gradients, and the daemon's resident memory before, during and after the run.

    python3 bench/load.py                        # 16 clients x 10,000 gradients (minutes)
    python3 bench/load.py --calls 200            # the size tests/test_load.py runs in CI
    python3 bench/load.py --address tcp://127.0.0.1:5757     # join a running daemon

The workloads:

  python  adclient: ``grad(loss)(W)`` with ``loss(W) = sum(tanh(W @ x + b) ** 2) +
          0.5 * sum(W ** 2)``, W 8x8, a different W every call; one round trip per call.
          Checked against ``outer(2 h (1 - h**2), x) + W``.
  lua     adlua (the Lua host that the ``adlua`` command runs, LuaJIT 2.1 by default):
          torch-autograd's ``grad`` of ``f(x, c) = sum(sin(x) * x) + sum(x * c)``, x of 16
          elements, different every call. The gradient ``cos(x) x + sin(x) + c`` is
          computed in plain Lua and the check runs on the daemon (one more value fetch).
          Each call is timed from Python around the Lua function, so it covers the Lua
          tracing, the torch mirror and the session exactly as a script sees them.
"""
import argparse
import json
import os
import platform
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_JSON = os.path.join(HERE, "results", "load.json")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
WARMUP_CALLS = 5
PY_RTOL = 1e-10          # both workloads are a handful of float64 ops: errors are ~1e-15
LUA_SQERR = 1e-20        # sum of squared errors of the Lua gradient
N_PY = 8                 # W is N_PY x N_PY
N_LUA = 16               # x has N_LUA elements

sys.path.insert(0, os.path.join(ROOT, "tests"))
from rss import rss, settled_rss  # noqa: E402  (tests/rss.py: /proc readings)


# --- the workloads ---------------------------------------------------------------------------
class PythonWorkload:
    kind = "python"

    def __init__(self, address):
        os.environ["ADSERVER_ADDRESS"] = address
        import numpy
        import adclient
        import adclient.numpy as np
        from adclient.session import get_session
        self.numpy = numpy
        rng = numpy.random.RandomState(1)
        self.x, self.b = rng.randn(N_PY), 0.1 * rng.randn(N_PY)

        def loss(W):
            return np.sum(np.tanh(np.dot(W, self.x) + self.b) ** 2) + 0.5 * np.sum(W ** 2)

        self.grad = adclient.grad(loss)
        self.session = get_session()

    def call(self, i):
        """One gradient; returns its error relative to the closed form."""
        numpy = self.numpy
        W = numpy.random.RandomState(i).randn(N_PY, N_PY)
        got = self.grad(W)
        h = numpy.tanh(W @ self.x + self.b)
        want = numpy.outer(2 * h * (1 - h ** 2), self.x) + W
        return float(numpy.max(numpy.abs(got - want)) / numpy.max(numpy.abs(want)))

    def ok(self, err):
        return err < PY_RTOL

    def close(self):
        from adclient.session import reset
        reset()


LUA_STEP = """
local grad = require 'autograd'
local N = %d
local function f(x, c)
  return torch.sum(torch.cmul(torch.sin(x), x)) + torch.sum(torch.cmul(x, c))
end
local df = grad(f)
function load_step(i)
  local xs, cs, ev = {}, {}, {}
  local lv = 0
  for k = 1, N do
    local x = ((i * 7 + k * 13) %% 97) / 31 - 1.5 + i * 1e-6
    local c = k / N
    xs[k], cs[k] = x, c
    ev[k] = math.cos(x) * x + math.sin(x) + c
    lv = lv + math.sin(x) * x + x * c
  end
  local g, l = df(torch.Tensor(xs), torch.Tensor(cs))
  local err = torch.sum(torch.pow(g - torch.Tensor(ev), 2))
  return err, l - lv
end
""" % N_LUA


class LuaWorkload:
    kind = "lua"

    def __init__(self, address, engine=None):
        from adlua.host import Host, DEFAULT_ENGINE
        self.host = Host(engine or DEFAULT_ENGINE, address)
        ok, message = self.host.run_string(LUA_STEP, "=load")
        if not ok:
            raise RuntimeError(f"the Lua workload does not load: {message}")
        self.step = self.host.lua.globals().load_step
        self.session = None

    def call(self, i):
        sqerr, dloss = self.step(i)
        return (float(sqerr), float(dloss))

    def ok(self, err):
        sqerr, dloss = err
        return sqerr < LUA_SQERR and abs(dloss) < 1e-9

    def close(self):
        self.host.close()


# --- one client process ------------------------------------------------------------------------
def _watch_parent(parent):
    """Exit if the process that started this one goes away (a client waiting on a daemon
    that is gone would wait for ever)."""
    def run():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)
    threading.Thread(target=run, daemon=True).start()


def worker_main(args):
    _watch_parent(args.parent)
    workload = (PythonWorkload(args.address) if args.worker == "python"
                else LuaWorkload(args.address, args.lua))
    for i in range(WARMUP_CALLS):
        workload.call(4_000_000_000 + i)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    latencies, bad, errors = [], 0, []
    t_start = time.perf_counter()
    for i in range(args.calls):
        t0 = time.perf_counter()
        try:
            err = workload.call(args.index * 1_000_000 + i)
            dt = time.perf_counter() - t0
            if not workload.ok(err):
                bad += 1
                if len(errors) < 5:
                    errors.append(f"call {i}: wrong gradient ({err})")
        except Exception as exc:   # counted and reported; the run goes on
            dt = time.perf_counter() - t0
            errors.append(f"call {i}: {type(exc).__name__}: {exc}")
            if len(errors) > 50:
                break
        latencies.append(dt)
    t_end = time.perf_counter()
    workload.close()
    with open(args.out, "w") as f:
        json.dump({"kind": workload.kind, "index": args.index, "calls": len(latencies),
                   "wrong": bad, "errors": errors, "seconds": t_end - t_start,
                   "latencies": latencies}, f)
    print("done", flush=True)
    return 0


# --- the daemon ----------------------------------------------------------------------------------
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daemon(env, extra=()):
    address = f"tcp://127.0.0.1:{free_port()}"
    proc = subprocess.Popen([sys.executable, "-m", "adserver", "--listen", address,
                             "--log-level", "warning", "--parent-pid", str(os.getpid()),
                             *extra], env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        ping = subprocess.run([sys.executable, "-m", "adserver", "ping", address, "--timeout",
                               "0.5"], env=env, capture_output=True)
        if ping.returncode == 0:
            return proc, address
        else:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"adserver did not start on {address}")


def daemon_status(address, env):
    """``adserver status --json`` of the daemon (its sessions, handles and bytes), or None
    if this adserver has no status command."""
    r = subprocess.run([sys.executable, "-m", "adserver", "status", address, "--json"],
                       env=env, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RssSampler(threading.Thread):
    """The daemon's RSS every ``period`` seconds, as (seconds since start, bytes)."""

    def __init__(self, pid, period=0.25):
        super().__init__(daemon=True)
        self.pid, self.period, self.samples = pid, period, []
        self.t0 = time.monotonic()
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic() - self.t0, rss(self.pid)))
            except (OSError, KeyError):
                return
            self._halt.wait(self.period)

    def stop(self):
        self._halt.set()
        self.join()


# --- the run --------------------------------------------------------------------------------------
def percentiles(values, qs=(50, 90, 99)):
    import numpy
    if not values:
        return {f"p{q}_ms": None for q in qs}
    ms = numpy.asarray(values) * 1e3
    out = {f"p{q}_ms": float(numpy.percentile(ms, q)) for q in qs}
    out.update(mean_ms=float(ms.mean()), max_ms=float(ms.max()), min_ms=float(ms.min()),
               count=int(ms.size))
    return out


def run(clients=16, calls=10_000, lua=None, address=None, threads=1, lua_engine=None,
        daemon_args=(), timeout=None, progress=False):
    """Run the load and return the report (a dict; see docs/ROBUSTNESS.md)."""
    lua = clients // 2 if lua is None else lua
    env = dict(os.environ)
    if threads > 0:
        env.update({v: str(threads) for v in THREAD_VARS})
    env.pop("ADSERVER_ADDRESS", None)
    daemon, joined = None, address is not None
    tmp = tempfile.mkdtemp(prefix="adserver-load-")
    if not joined and "ADSERVER_TOKEN_FILE" not in env:
        # The daemon asks TCP clients for its token (PROTOCOL.md 15.2); a token of this run's
        # own, in a 0700 directory, rather than the user's default one.
        env["ADSERVER_TOKEN_FILE"] = os.path.join(tmp, "token")
    if not joined:
        daemon, address = start_daemon(env, daemon_args)
    pid = daemon.pid if daemon else None
    procs, outs = [], []
    report = {"settings": {"clients": clients, "lua_clients": lua, "python_clients": clients - lua,
                           "calls_per_client": calls, "warmup_calls": WARMUP_CALLS,
                           "threads": threads, "daemon_args": list(daemon_args),
                           "address": address, "joined": joined},
              "machine": machine_info()}
    t_begin = time.monotonic()
    try:
        for k in range(clients):
            kind = "lua" if k < lua else "python"
            out = os.path.join(tmp, f"worker{k}.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", kind,
                   "--address", address, "--calls", str(calls), "--index", str(k),
                   "--out", out, "--parent", str(os.getpid())]
            if lua_engine:
                cmd += ["--lua-engine", lua_engine]
            procs.append(subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True))
            outs.append(out)
        deadline = None if timeout is None else t_begin + timeout
        for p in procs:
            line = _readline(p, deadline)
            if line != "ready":
                raise RuntimeError(f"a client did not start (said {line!r}; exit "
                                   f"{p.poll()})")
        report["startup_seconds"] = time.monotonic() - t_begin
        baseline = settled_rss(pid) if pid else None
        sampler = RssSampler(pid) if pid else None
        if sampler:
            sampler.start()
        t0 = time.monotonic()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            line = _readline(p, deadline)
            if line != "done":
                raise RuntimeError(f"a client did not finish (said {line!r}; exit {p.poll()})")
        wall = time.monotonic() - t0
        end_of_run = rss(pid) if pid else None
        for p in procs:
            p.wait(60)
        if sampler:
            sampler.stop()
        after = settled_rss(pid, quiet=1.0) if pid else None
        report["daemon_status_after"] = daemon_status(address, env)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if daemon is not None:
            stop(daemon)
    results = []
    for out in outs:
        with open(out) as f:
            results.append(json.load(f))
        os.unlink(out)
    shutil.rmtree(tmp, ignore_errors=True)
    total = sum(r["calls"] for r in results)
    report["wall_seconds"] = wall
    report["throughput_calls_per_s"] = total / wall
    report["calls"] = total
    report["wrong"] = sum(r["wrong"] for r in results)
    report["errors"] = [f"client {r['index']} ({r['kind']}): {e}" for r in results
                        for e in r["errors"]]
    report["latency"] = {"all": percentiles([t for r in results for t in r["latencies"]])}
    for kind in ("python", "lua"):
        lat = [t for r in results if r["kind"] == kind for t in r["latencies"]]
        if lat:
            report["latency"][kind] = percentiles(lat)
            n = sum(1 for r in results if r["kind"] == kind)
            report.setdefault("throughput_by_kind", {})[kind] = len(lat) / wall
            report.setdefault("clients_by_kind", {})[kind] = n
    report["clients"] = [{"index": r["index"], "kind": r["kind"], "calls": r["calls"],
                          "wrong": r["wrong"], "errors": len(r["errors"]),
                          "seconds": r["seconds"], **percentiles(r["latencies"])}
                         for r in results]
    if pid:
        samples = sampler.samples
        report["daemon_rss"] = {
            "baseline_bytes": baseline, "end_of_run_bytes": end_of_run, "after_bytes": after,
            "peak_bytes": max([b for _, b in samples] + [baseline]),
            "growth_in_run_bytes": _growth(samples),
            "samples": _downsample(samples, 200),
        }
        if any(a.startswith("--workers") for a in daemon_args):
            report["daemon_rss"]["note"] = ("with --workers this is the front door's RSS; "
                                            "the workers are processes of their own")
    return report


def _growth(samples):
    """RSS at the end of the run minus RSS once the run had ramped up (after its first
    fifth): a daemon that leaks per call keeps growing through the run."""
    if len(samples) < 5:
        return None
    start = samples[len(samples) // 5][1]
    return samples[-1][1] - start


def _downsample(samples, n):
    step = max(1, len(samples) // n)
    return [[round(t, 2), b] for t, b in samples[::step]]


def _readline(proc, deadline):
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([proc.stdout], [], [], wait)
        if not ready:
            raise TimeoutError("the load run went past its time limit")
        line = proc.stdout.readline()
        return line.strip() if line else None


def machine_info():
    import numpy
    import zmq
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    try:
        import lupa
        lupa_version = lupa.__version__
    except Exception:
        lupa_version = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "cpus_usable": usable, "numpy": numpy.__version__,
            "pyzmq": zmq.__version__, "libzmq": zmq.zmq_version(), "lupa": lupa_version,
            "load_average_at_start": os.getloadavg()}


def mib(n):
    return "-" if n is None else f"{n / (1 << 20):.1f}"


def print_report(r):
    s = r["settings"]
    print(f"adserver load: {s['clients']} clients ({s['python_clients']} python, "
          f"{s['lua_clients']} lua) x {s['calls_per_client']} gradient calls against one "
          f"daemon ({'joined' if s['joined'] else 'started here'}, {s['address']})")
    m = r["machine"]
    print(f"python {m['python']}, numpy {m['numpy']}, libzmq {m['libzmq']}, lupa {m['lupa']}, "
          f"{m['cpu_count']} cpus, load average at start "
          f"{' '.join(f'{x:.2f}' for x in m['load_average_at_start'])}")
    print(f"calls {r['calls']}  wall {r['wall_seconds']:.1f} s  throughput "
          f"{r['throughput_calls_per_s']:.0f} calls/s  wrong gradients {r['wrong']}  errors "
          f"{len(r['errors'])}")
    print(f"  {'clients':<10}{'calls':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
          f"{'max ms':>9}{'mean ms':>9}{'calls/s':>9}")
    for kind, lat in r["latency"].items():
        tput = r["throughput_calls_per_s"] if kind == "all" else r["throughput_by_kind"][kind]
        print(f"  {kind:<10}{lat['count']:>9}{lat['p50_ms']:>9.2f}{lat['p90_ms']:>9.2f}"
              f"{lat['p99_ms']:>9.2f}{lat['max_ms']:>9.1f}{lat['mean_ms']:>9.2f}{tput:>9.0f}")
    d = r.get("daemon_rss")
    if d:
        growth = d["growth_in_run_bytes"]
        print(f"daemon RSS MiB: baseline {mib(d['baseline_bytes'])}, peak {mib(d['peak_bytes'])}"
              f", end of run {mib(d['end_of_run_bytes'])}, after the clients left "
              f"{mib(d['after_bytes'])}; growth over the last 4/5 of the run "
              f"{mib(growth) if growth is not None else '-'}")
        if d.get("note"):
            print(f"  ({d['note']})")
    st = r.get("daemon_status_after")
    if st:
        print(f"daemon status after the clients left: {st['sessions']} sessions, "
              f"{st['handles']} handles, {st['bytes']} bytes, {st['ops']} ops run")
    for e in r["errors"][:10]:
        print("  error:", e)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=16, help="client processes (default 16)")
    p.add_argument("--lua", type=int, default=None,
                   help="how many of them are Lua clients (default: half)")
    p.add_argument("--calls", type=int, default=10_000,
                   help="gradient calls per client (default 10,000)")
    p.add_argument("--address", help="join the daemon at this address instead of starting one "
                   "(then the daemon's memory is not measured)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS/OpenMP threads for the clients and the daemon (default 1; 0 "
                        "leaves the environment alone)")
    p.add_argument("--lua-engine", default=None, help="Lua engine for the Lua clients "
                   "(default: adlua's, LuaJIT 2.1)")
    p.add_argument("--daemon-arg", action="append", default=[], metavar="ARG",
                   help="an extra argument for the daemon started here (repeatable), e.g. "
                        "--daemon-arg=--workers --daemon-arg=2")
    p.add_argument("--json", default=DEFAULT_JSON, metavar="PATH",
                   help="where the report goes (default bench/results/load.json)")
    # internal: one client process
    p.add_argument("--worker", choices=["python", "lua"], help=argparse.SUPPRESS)
    p.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.worker:
        args.lua = args.lua_engine
        return worker_main(args)

    report = run(args.clients, args.calls, args.lua, args.address, args.threads,
                 args.lua_engine, args.daemon_arg)
    print_report(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    print(f"\nreport written to {args.json}")
    return 0 if report["wrong"] == 0 and not report["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
