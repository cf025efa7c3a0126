#!/usr/bin/env python3
"""Time adclient's jacobian and hessian against one backward pass per row, and autograd's.

Four workloads on R^100, each checked against HIPS autograd before it is timed:

  tanh_matvec      jacobian of f(x) = tanh(W @ x) * x
  chain            jacobian of 6 layers of x = tanh(W @ x) * x + 0.1 * sin(x)
  hessian_matvec   hessian of sum(tanh(W @ x) * x)
  hessian_chain    hessian of sum of 3 layers of the chain

Contestants (each takes numpy in and gives numpy out, so a timing is the whole call):

  adclient         adclient.jacobian / adclient.hessian: one ``vjp`` op with ``seeds``
                   asks for every row, and the daemon runs them as one batched pass
  per-row          what a user without batching writes: one trace, then one VJP per row,
                   each its own round trip (jacobian: ``vjp, _ = make_vjp(f)(x)`` then
                   ``vjp(e_i)``; hessian: the same on ``grad(f)``, one row of grad-of-grad
                   per request)
  rows-one-batch   jacobian only: the rows as 100 separate ``vjp`` ops sent in one batch,
                   one full backward pass each (what adclient.jacobian did before seeds)
  autograd         autograd.jacobian / autograd.hessian, locally (one pass per row)

Runs are interleaved (one of each per round, the starting contestant rotated every round)
and the table gives medians.

    python3 bench/bench_jacobian.py            # full run, table on stdout, JSON in bench/results/
    python3 bench/bench_jacobian.py --quick    # smoke run
    python3 bench/bench_jacobian.py --address tcp://127.0.0.1:5555   # join a running daemon
"""
import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from threads import limit_threads, thread_option  # noqa: E402


if __name__ == "__main__":
    limit_threads(sys.argv[1:])

import numpy as onp  # noqa: E402  (after limit_threads, on purpose)

from bench_grad import (measure, round_trips_per_call, summarize,  # noqa: E402
                        version_of)

N = 100
CHAIN_LAYERS = 6
HESSIAN_CHAIN_LAYERS = 3
SEED = 0

DEFAULT_REPEATS = 20
DEFAULT_WARMUP = 2
WARMUP_SECONDS = 0.3
QUICK_REPEATS = 3
QUICK_WARMUP = 1
RTOL = 1e-9

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(HERE, "results", "bench_jacobian.json")


class CheckFailed(Exception):
    """A result disagreed with autograd's: the timings would be meaningless."""


# --- the workloads, written once against any numpy-like module ------------------------------

def data(seed=SEED):
    rng = onp.random.RandomState(seed)
    return rng.randn(N, N) / onp.sqrt(N), rng.randn(N)


def make_functions(np, W):
    def tanh_matvec(x):
        return np.tanh(W @ x) * x

    def layers(x, k):
        for _ in range(k):
            x = np.tanh(W @ x) * x + 0.1 * np.sin(x)
        return x

    return {
        "tanh_matvec": tanh_matvec,
        "chain": lambda x: layers(x, CHAIN_LAYERS),
        "hessian_matvec": lambda x: np.sum(tanh_matvec(x)),
        "hessian_chain": lambda x: np.sum(layers(x, HESSIAN_CHAIN_LAYERS)),
    }


WORKLOADS = [
    ("tanh_matvec", "jacobian", "jacobian of tanh(W @ x) * x, x in R^100"),
    ("chain", "jacobian", f"jacobian of {CHAIN_LAYERS} layers of x = tanh(W @ x) * x + "
                          "0.1 * sin(x), x in R^100"),
    ("hessian_matvec", "hessian", "hessian of sum(tanh(W @ x) * x), x in R^100"),
    ("hessian_chain", "hessian", f"hessian of the sum of {HESSIAN_CHAIN_LAYERS} such layers, "
                                 "x in R^100"),
]


# --- the contestants ----------------------------------------------------------------------------

def per_row(adclient, fun, x):
    """One trace, then one VJP per row, each a round trip."""
    vjp, ans = adclient.make_vjp(fun)(x)
    size = onp.size(ans)
    rows = []
    for i in range(size):
        e = onp.zeros(size)
        e[i] = 1.0
        rows.append(vjp(e.reshape(onp.shape(ans))))
    return onp.reshape(onp.stack(rows), onp.shape(ans) + onp.shape(x))


def rows_one_batch(fun, x):
    """The rows as separate vjp ops in one batch: adclient.jacobian before ``seeds``."""
    from adclient.differential import _Trace
    t = _Trace(fun, x)
    out_shape = t.ans.shape
    size = int(onp.prod(out_shape))
    rows = []
    for i in range(size):
        seed = onp.zeros(size, dtype=t.ans.dtype)
        seed[i] = 1.0
        (row,) = t.cotangents(seed.reshape(out_shape))
        rows.append(row)
    rows = t.fetch(rows)
    return onp.reshape(onp.stack(rows), out_shape + onp.shape(x))


def contestants_for(name, kind, adclient, autograd):
    import adclient.numpy as adnp
    import autograd.numpy as anp
    W, x = data()
    ad_fun = make_functions(adnp, W)[name]
    ag_fun = make_functions(anp, W)[name]
    if kind == "jacobian":
        return {
            "adclient": lambda: adclient.jacobian(ad_fun)(x),
            "per-row": lambda: per_row(adclient, ad_fun, x),
            "rows-one-batch": lambda: rows_one_batch(ad_fun, x),
            "autograd": lambda: autograd.jacobian(ag_fun)(x),
        }
    return {
        "adclient": lambda: adclient.hessian(ad_fun)(x),
        "per-row": lambda: per_row(adclient, adclient.grad(ad_fun), x),
        "autograd": lambda: autograd.hessian(ag_fun)(x),
    }


def check_all(name, contestants):
    reference = onp.asarray(contestants["autograd"]())
    errors = {}
    for impl, fn in contestants.items():
        if impl == "autograd":
            continue
        got = onp.asarray(fn())
        if got.shape != reference.shape:
            raise CheckFailed(f"{name}, {impl}: shape {got.shape} != autograd's "
                              f"{reference.shape}")
        err = float(onp.linalg.norm(got - reference) / (onp.linalg.norm(reference) or 1.0))
        if not err <= RTOL:
            raise CheckFailed(f"{name}, {impl}: differs from autograd (relative error "
                              f"{err:.3e}, tolerance {RTOL:g})")
        errors[impl] = err
    return errors


# --- environment and reporting ---------------------------------------------------------------

def machine_info():
    import zmq
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.machine(), "cpu_count": os.cpu_count(),
            "cpus_usable": usable, "numpy": onp.__version__, "pyzmq": zmq.__version__,
            "libzmq": zmq.zmq_version(), "autograd": version_of("autograd"),
            "adserver": version_of("adserver")}


def print_table(report):
    m, d = report["machine"], report["daemon"]
    print(f"adserver jacobian/hessian benchmark: python {m['python']}, numpy {m['numpy']}, "
          f"autograd {m['autograd']}, {m['cpu_count']} cpus")
    print(f"daemon: {d['mode']} over {d['transport']} ({d['address']})")
    threads = report["settings"]["threads"]
    print("BLAS/OpenMP threads: " + (str(threads) if threads > 0 else "library defaults"))
    for name, b in report["benchmarks"].items():
        print()
        print(f"{name}: {b['description']}")
        trips = ", ".join(f"{k} {v}" for k, v in b["round_trips"].items())
        print(f"  {b['repeats']} interleaved repeats after a warm-up; round trips per call: "
              f"{trips}")
        print(f"  {'implementation':<16}{'median ms':>11}{'IQR ms':>10}{'q1 ms':>10}"
              f"{'q3 ms':>10}{'min ms':>10}   {'this / adclient':>15}")
        ad = b["results"]["adclient"]["median_ms"]
        for impl, r in b["results"].items():
            ratio = "" if impl == "adclient" else f"{r['median_ms'] / ad:.1f}x"
            print(f"  {impl:<16}{r['median_ms']:>11.3f}{r['iqr_ms']:>10.3f}{r['q1_ms']:>10.3f}"
                  f"{r['q3_ms']:>10.3f}{r['min_ms']:>10.3f}   {ratio:>15}")
        errs = ", ".join(f"{k} {v:.1e}" for k, v in b["check_rel_error"].items())
        print(f"  check vs autograd (relative error): {errs}")


# --- main ----------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--address", help="join the daemon at this ZeroMQ address instead of "
                   "starting a private one")
    p.add_argument("--repeats", type=int, help=f"timed rounds per benchmark (default "
                   f"{DEFAULT_REPEATS})")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: {QUICK_REPEATS} repeats, {QUICK_WARMUP} warm-up")
    thread_option(p)
    p.add_argument("--json", default=DEFAULT_JSON, metavar="PATH",
                   help="where to write the results (default: bench/results/bench_jacobian.json)")
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    limit_threads(argv)
    if args.address:
        os.environ["ADSERVER_ADDRESS"] = args.address
    joined = bool(os.environ.get("ADSERVER_ADDRESS"))

    import adclient
    import autograd
    from adclient.session import get_session

    session = get_session()
    warmup = QUICK_WARMUP if args.quick else DEFAULT_WARMUP
    warmup_seconds = 0.0 if args.quick else WARMUP_SECONDS
    scheme = session.address.split("://", 1)[0]
    report = {"machine": machine_info(),
              "daemon": {"transport": scheme, "address": session.address,
                         "mode": "joined running daemon" if joined
                         else "private daemon started by adclient"},
              "settings": {"quick": args.quick, "warmup_calls": warmup,
                           "warmup_seconds": warmup_seconds, "threads": args.threads,
                           "n": N, "timer": "time.perf_counter", "interleaved": True},
              "benchmarks": {}}

    for name, kind, description in WORKLOADS:
        repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
        contestants = contestants_for(name, kind, adclient, autograd)
        try:
            errors = check_all(name, contestants)
        except CheckFailed as exc:
            print(f"FAILED correctness check: {exc}", file=sys.stderr)
            return 1
        trips = {impl: round_trips_per_call(session, fn)
                 for impl, fn in contestants.items() if impl != "autograd"}
        times = measure(contestants, repeats, warmup, warmup_seconds)
        results = {impl: summarize(t) for impl, t in times.items()}
        ad = results["adclient"]["median_ms"]
        report["benchmarks"][name] = {
            "description": description, "kind": kind, "repeats": repeats,
            "results": results,
            "speedup_of_adclient": {impl: r["median_ms"] / ad for impl, r in results.items()
                                    if impl != "adclient"},
            "check_rel_error": errors, "round_trips": trips,
        }

    print_table(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
