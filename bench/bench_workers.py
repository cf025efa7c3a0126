#!/usr/bin/env python3
"""Gradients per second of 8 client processes against ``adserver --workers 1`` and ``--workers 2``.

Both daemons (each a front door with its workers, on TCP loopback) run side by side for the
whole benchmark; the client processes start once. Each run points every client at one
daemon: the client opens a session there (the front door redirects it to a worker), warms
up, waits for the common start, then computes gradients for a fixed time. The workload is
bench/load.py's Python one: ``grad(loss)(W)`` with ``loss(W) = sum(tanh(W @ x + b) ** 2) +
0.5 * sum(W ** 2)``, W 8x8, one round trip per call, every gradient checked against its
closed form. Runs alternate between the daemons (the first one rotated every round) and
the medians are reported. Target: 2 workers >= 1.7x the gradients per second of 1 worker.

CPU time is measured for every run (the machine's from /proc/stat, each daemon process's
from /proc/PID/stat, each client's own), because on a small machine the clients compete
with the workers for the same cores, and that, not the daemon, can cap the ratio.

    python3 bench/bench_workers.py              # 5 rounds of 5 s runs, about 80 s
    python3 bench/bench_workers.py --quick      # smoke run: 1 round of 1.5 s runs
    python3 bench/bench_workers.py --json PATH  # also write the JSON report to PATH
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from threads import THREAD_VARS  # noqa: E402
WARMUP_CALLS = 20
TARGET = 1.7
TICK = os.sysconf("SC_CLK_TCK")


# --- the heavy workload: the daemon's work dominates -----------------------------------------
N_HEAVY = 384


class HeavyWorkload:
    """The gradient of sum(tanh(W @ X)^2) for 384x384 W and X kept on the daemon: two
    matrix products per gradient there, a handful of ops and one number back here. With
    the daemon's CPU per gradient well above the client's, this measures what more
    workers give when the daemon is the bottleneck, which is what --workers is for."""

    def __init__(self, address):
        os.environ["ADSERVER_ADDRESS"] = address
        import numpy
        import adclient
        import adclient.numpy as np
        from adclient.session import get_session
        rng = numpy.random.RandomState(2)
        W = rng.randn(N_HEAVY, N_HEAVY) / N_HEAVY ** 0.5
        X = rng.randn(N_HEAVY, N_HEAVY)
        self.W, self.X = adclient.remote(W), adclient.remote(X)
        self.np = np
        self.grad = adclient.grad(lambda W: np.sum(np.tanh(np.dot(W, self.X)) ** 2))
        h = numpy.tanh(W @ X)                       # the closed form, once, for the check
        self.want = float(numpy.sum((2 * h * (1 - h ** 2)) @ X.T))
        self.session = get_session()

    def call(self, i):
        got = float(self.np.sum(self.grad(self.W)))
        return abs(got - self.want) / abs(self.want)

    def ok(self, err):
        return err < 1e-9

    def close(self):
        from adclient.session import reset
        reset()


# --- one client process: commands on stdin, answers on stdout ---------------------------------
def client_main():
    """``open ADDRESS`` -> ``ready WORKER``; ``go SECONDS`` -> ``done {json}``; ``quit``."""
    from load import PythonWorkload        # the workload and its check, as bench/load.py runs it
    workload_class = HeavyWorkload if os.environ.get("BENCH_WORKERS_WORKLOAD") == "heavy" \
        else PythonWorkload
    workload, index = None, 0
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "open":
            workload = workload_class(arg)   # a new session at ARG (via the front door)
            for i in range(WARMUP_CALLS):
                workload.call(4_000_000_000 + i)
            print("ready", workload.session.address, flush=True)
        elif cmd == "go":
            calls = wrong = 0
            cpu0, t0 = time.process_time(), time.perf_counter()
            deadline = t0 + float(arg)
            while time.perf_counter() < deadline:
                index += 1
                wrong += not workload.ok(workload.call(index))
                calls += 1
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            workload.close()                 # bye: the daemon is empty for the next run
            print("done", json.dumps({"calls": calls, "wrong": wrong, "seconds": elapsed,
                                      "cpu_seconds": cpu}), flush=True)
        elif cmd == "quit":
            return 0
    return 0


# --- CPU readings from /proc ------------------------------------------------------------------
def machine_ticks():
    """(busy, total) clock ticks of all CPUs since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]                       # idle + iowait
    return sum(v[:8]) - idle, sum(v[:8])     # user..steal; guest time is already in user


def process_seconds(pid):
    """CPU seconds (user + system, all threads) of a live process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return out


# --- daemons and clients ----------------------------------------------------------------------
class Daemon:
    """``adserver --workers N`` on a loopback port of the system's choosing."""

    def __init__(self, workers, env):
        self.workers = workers
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adserver", "--listen", "tcp://127.0.0.1:*", "--workers",
             str(workers), "--announce", "--parent-pid", str(os.getpid()),
             "--log-level", "warning"], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()    # printed once every worker listens
        if not line:
            raise RuntimeError(f"adserver --workers {workers} did not start")
        self.address = line.rsplit(" ", 1)[-1]
        self.worker_pids = children(self.proc.pid)

    def cpu(self):
        """CPU seconds of the front door and of each worker."""
        return {"front": process_seconds(self.proc.pid),
                "workers": [process_seconds(p) for p in self.worker_pids]}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Client:
    def __init__(self, env):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--client"],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, word):
        line = self.proc.stdout.readline().strip()
        if not line.startswith(word):
            raise RuntimeError(f"a client said {line!r} instead of {word!r} "
                               f"(exit status {self.proc.poll()})")
        return line[len(word):].strip()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


def one_run(daemon, clients, seconds):
    """Every client against ``daemon`` for ``seconds``; throughput and CPU of the run."""
    for c in clients:
        c.send(f"open {daemon.address}")
    placement = {}
    for c in clients:                      # which worker each session landed on
        worker = c.expect("ready")
        placement[worker] = placement.get(worker, 0) + 1
    busy0, total0 = machine_ticks()
    d0, t0 = daemon.cpu(), time.perf_counter()
    for c in clients:
        c.send(f"go {seconds}")
    results = [json.loads(c.expect("done")) for c in clients]
    wall = time.perf_counter() - t0
    busy1, total1 = machine_ticks()
    d1 = daemon.cpu()
    calls = sum(r["calls"] for r in results)
    # Every client runs for the same `seconds`: the sum of their rates is the daemon's rate.
    rate = sum(r["calls"] / r["seconds"] for r in results)
    workers_cpu = [b - a for a, b in zip(d0["workers"], d1["workers"])]
    client_cpu = sum(r["cpu_seconds"] for r in results)
    busy = (busy1 - busy0) / max(1, total1 - total0)     # share of all CPUs
    front = d1["front"] - d0["front"]
    return {"grads_per_s": rate, "calls": calls, "wrong": sum(r["wrong"] for r in results),
            "wall_seconds": wall, "sessions_per_worker": sorted(placement.values()),
            "machine_busy": busy,
            "worker_cores": [w / wall for w in workers_cpu],            # cores each kept busy
            "front_door_cpu_seconds": front,
            "client_cores": client_cpu / wall,
            # busy CPU that neither the daemon nor the clients account for: the kernel's
            # own work, or other programs on the machine (noise, if it is large)
            "other_cores": busy * os.cpu_count()
                           - (sum(workers_cpu) + front + client_cpu) / wall,
            "daemon_cpu_ms_per_grad": 1e3 * sum(workers_cpu) / calls,
            "client_cpu_ms_per_grad": 1e3 * client_cpu / calls}


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


WORKLOADS = {"light": "bench/load.py python: grad of an 8x8 tanh loss",
             "heavy": f"grad of sum(tanh(W @ X)^2), {N_HEAVY}x{N_HEAVY} W and X on the daemon"}


def run(worker_counts, n_clients, seconds, rounds, threads, workload="light"):
    tmp = tempfile.mkdtemp(prefix="adserver-workers-")
    env = dict(os.environ)
    env["BENCH_WORKERS_WORKLOAD"] = workload
    env.pop("ADSERVER_ADDRESS", None)
    env["ADSERVER_TOKEN_FILE"] = os.path.join(tmp, "token")   # this run's own token
    if threads > 0:   # one BLAS thread per process: idle pools must not steal the 2 cores
        env.update({v: str(threads) for v in THREAD_VARS})
    machine = machine_info()     # before our own processes add to the load average
    daemons, clients = [], []
    try:
        daemons = [Daemon(n, env) for n in worker_counts]
        clients = [Client(env) for _ in range(n_clients)]
        runs = {d.workers: [] for d in daemons}
        for d in daemons:   # untimed: a process's first run is slow (caches, allocator pools)
            one_run(d, clients, min(seconds, 1.0))
        for r in range(rounds):
            k = r % len(daemons)
            for d in daemons[k:] + daemons[:k]:
                runs[d.workers].append(one_run(d, clients, seconds))
    finally:
        for c in clients:
            c.close()
        for d in daemons:
            d.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    summary = {}
    for n, rs in runs.items():
        summary[n] = {key: median([x[key] for x in rs]) for key in
                      ("grads_per_s", "machine_busy", "client_cores", "other_cores",
                       "daemon_cpu_ms_per_grad", "client_cpu_ms_per_grad")}
        summary[n]["worker_cores"] = [median(c) for c in zip(*(x["worker_cores"] for x in rs))]
        summary[n]["wrong"] = sum(x["wrong"] for x in rs)
        summary[n]["sessions_per_worker"] = [x["sessions_per_worker"] for x in rs]
    first = summary[worker_counts[0]]["grads_per_s"]
    for n in worker_counts:
        s = summary[n]
        s["ratio_to_first"] = s["grads_per_s"] / first
        # What the cores allow: each gradient costs c + d CPU seconds (clients + daemon) and
        # a worker runs one batch at a time, so rate <= min(cores / (c + d), workers / d).
        c, d = s["client_cpu_ms_per_grad"] / 1e3, s["daemon_cpu_ms_per_grad"] / 1e3
        s["cpu_bound_grads_per_s"] = min(os.cpu_count() / (c + d), n / d)
    return {"machine": machine,
            "settings": {"clients": n_clients, "seconds_per_run": seconds, "rounds": rounds,
                         "workers": worker_counts, "threads": threads,
                         "warmup_calls": WARMUP_CALLS, "transport": "tcp loopback",
                         "workload": WORKLOADS[workload]},
            "target_ratio": TARGET, "summary": {str(n): s for n, s in summary.items()},
            "runs": {str(n): rs for n, rs in runs.items()}}


def machine_info():
    import numpy
    import zmq
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "numpy": numpy.__version__, "libzmq": zmq.zmq_version(),
            "load_average_at_start": os.getloadavg()}


def print_table(r):
    m, s = r["machine"], r["settings"]
    print(f"adserver --workers benchmark: {s['clients']} client processes, {s['rounds']} "
          f"interleaved round(s) of {s['seconds_per_run']:g} s per daemon, {s['transport']}")
    print(f"python {m['python']}, numpy {m['numpy']}, libzmq {m['libzmq']}, "
          f"{m['cpu_count']} cpus, load average at start "
          f"{' '.join(f'{x:.2f}' for x in m['load_average_at_start'])}")
    print(f"  {'workers':<9}{'grads/s':>9}{'ratio':>8}{'machine':>9}{'workers':>13}"
          f"{'clients':>9}{'other':>7}{'daemon':>9}{'client':>9}{'CPU-bound':>11}  sessions/worker")
    print(f"  {'':<9}{'median':>9}{'':>8}{'busy':>9}{'cores':>13}{'cores':>9}"
          f"{'ms/grad':>9}{'ms/grad':>9}{'grads/s':>11}")
    for n, x in r["summary"].items():
        cores = "+".join(f"{c:.2f}" for c in x["worker_cores"])
        placement = ",".join("/".join(map(str, p)) for p in x["sessions_per_worker"])
        print(f"  {n:<9}{x['grads_per_s']:>9.0f}{x['ratio_to_first']:>7.2f}x"
              f"{x['machine_busy']:>9.0%}{cores:>13}{x['client_cores']:>9.2f}"
              f"{x['other_cores']:>7.2f}"
              f"{x['daemon_cpu_ms_per_grad']:>9.3f}{x['client_cpu_ms_per_grad']:>9.3f}"
              f"{x['cpu_bound_grads_per_s']:>11.0f}  {placement}")
    last = list(r["summary"].values())[-1]["ratio_to_first"]
    print(f"  target: {r['settings']['workers'][-1]} workers >= {TARGET}x "
          f"{r['settings']['workers'][0]}: {'met' if last >= TARGET else 'MISSED'} ({last:.2f}x)")
    wrong = sum(x["wrong"] for x in r["summary"].values())
    if wrong:
        print(f"  WRONG GRADIENTS: {wrong}")
    print("  machine busy: share of all CPUs; cores: CPU seconds per second of the run (other: "
          "busy CPU no daemon or client process accounts for);\n  CPU-bound: what the CPU "
          "allows, min(cpus / (client + daemon CPU per grad), workers / daemon CPU per grad)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1.5 s runs")
    p.add_argument("--clients", type=int, default=8, help="client processes (default 8)")
    p.add_argument("--seconds", type=float, help="length of each run (default 5, quick 1.5)")
    p.add_argument("--rounds", type=int, help="runs per daemon (default 5, quick 1)")
    p.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    p.add_argument("--threads", type=int, default=1, metavar="N",
                   help="BLAS/OpenMP threads of every process (default 1; 0: environment's)")
    p.add_argument("--workload", choices=sorted(WORKLOADS), default="light",
                   help="light: bench/load.py's tiny gradient (the clients' CPU dominates); "
                   "heavy: 384x384 matrix products on the daemon (its CPU dominates)")
    p.add_argument("--json", metavar="PATH", help="also write the report to PATH")
    p.add_argument("--client", action="store_true", help=argparse.SUPPRESS)  # internal
    args = p.parse_args(argv)
    if args.client:
        return client_main()
    seconds = args.seconds or (1.5 if args.quick else 5.0)
    rounds = args.rounds or (1 if args.quick else 5)
    workers = [int(w) for w in args.workers.split(",")]
    report = run(workers, args.clients, seconds, rounds, args.threads, args.workload)
    print_table(report)
    print(json.dumps(report))          # one line, for machines
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
