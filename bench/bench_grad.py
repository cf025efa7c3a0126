#!/usr/bin/env python3
"""Time one gradient through adclient against local HIPS autograd, PyTorch and numpy.

Two workloads, each checked for correctness before it is timed:

  scalar chain  grad of 1000 steps of ``x = sin(x) * 1.0001`` at x = 0.5: thousands of
                tiny ops, so it measures per-op overhead (tracing, wire, dispatch).
  mlp           grad of a 784-50-50-10 tanh MLP's sum-of-squares loss, batch 128, float64,
                with respect to [(W1,b1),(W2,b2),(W3,b3)]: a few dozen ops on real
                arrays, so it measures overhead against actual numeric work.

adclient runs twice: traced on every call, and ``adclient-replay`` (``grad(f,
optimize=True)``): the daemon records the call once and replays the compiled tape.
JAX (eager and jit), when installed, is timed in a second phase beside autograd again
(shown as "autograd (jax phase)"), because an imported JAX runtime slows every other
contestant in the process.

Every implementation takes numpy inputs and returns numpy gradients, so each timing
covers the whole trip a user pays for. Runs are interleaved (one of each per round, the
starting implementation rotated every round) so machine noise lands on all of them alike.

    python3 bench/bench_grad.py            # full run, table on stdout, JSON in bench/results/
    python3 bench/bench_grad.py --quick    # smoke run
    python3 bench/bench_grad.py --address tcp://127.0.0.1:5555   # join a running daemon
"""
import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata

from threads import THREAD_VARS, limit_threads, thread_option

if __name__ == "__main__":
    limit_threads(sys.argv[1:])

import numpy as onp  # noqa: E402  (after limit_threads, on purpose)

CHAIN_STEPS = 1000
CHAIN_X0 = 0.5
MLP_SIZES = (784, 50, 50, 10)
MLP_BATCH = 128
SEED = 0

DEFAULT_REPEATS = {"scalar_chain": 20, "mlp": 50, "mlp_step": 50}
DEFAULT_WARMUP = 3          # calls per implementation, at least...
WARMUP_SECONDS = 0.3        # ...and this long: first calls run with cold caches and clocks
QUICK_REPEATS = 3
QUICK_WARMUP = 1

# Tolerances (relative, norm-wise per array). adclient promises autograd's gradient, so it
# gets the tight one; independent implementations sum in other orders, so a looser one.
ADCLIENT_RTOL = 1e-9
OTHER_RTOL = 1e-8

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_JSON = os.path.join(HERE, "results", "bench_grad.json")


class CheckFailed(Exception):
    """A gradient disagreed with autograd's: the timings would be meaningless."""


# --- the workloads, written once against any numpy-like module ------------------------------

def make_chain(np):
    def chain(x):
        for _ in range(CHAIN_STEPS):
            x = np.sin(x) * 1.0001
        return x
    return chain


def make_mlp_loss(np):
    def loss(params, inputs, targets):
        h = inputs
        for W, b in params[:-1]:
            h = np.tanh(np.dot(h, W) + b)
        W, b = params[-1]
        out = np.dot(h, W) + b
        return np.sum((out - targets) ** 2)
    return loss


def mlp_data(seed=SEED):
    """Fixed random parameters (scaled like Glorot so tanh doesn't saturate), inputs, targets."""
    rng = onp.random.RandomState(seed)
    params = []
    for n_in, n_out in zip(MLP_SIZES[:-1], MLP_SIZES[1:]):
        W = rng.randn(n_in, n_out) / onp.sqrt(n_in)
        b = 0.1 * rng.randn(n_out)
        params.append((W, b))
    inputs = rng.randn(MLP_BATCH, MLP_SIZES[0])
    targets = rng.randn(MLP_BATCH, MLP_SIZES[-1])
    return params, inputs, targets


# --- hand-written numpy backprop: the "no framework at all" floor -----------------------------

def numpy_mlp_grad(params, inputs, targets):
    """Forward keeping every activation, then the chain rule layer by layer, backwards."""
    acts = [inputs]
    for W, b in params[:-1]:
        acts.append(onp.tanh(acts[-1] @ W + b))
    W, b = params[-1]
    out = acts[-1] @ W + b

    delta = 2.0 * (out - targets)           # d loss / d out
    grads = []
    for i in range(len(params) - 1, -1, -1):
        W, _ = params[i]
        a_in = acts[i]
        grads.append((a_in.T @ delta, delta.sum(axis=0)))
        if i > 0:
            # back through this layer's matmul, then the tanh that produced a_in
            delta = (delta @ W.T) * (1.0 - a_in * a_in)
    return grads[::-1]


# --- PyTorch versions (optional) --------------------------------------------------------------

def import_torch():
    """torch, or None with the reason it is skipped."""
    try:
        import torch
    except Exception as exc:  # ImportError, or a broken build raising something else
        return None, f"import torch failed: {type(exc).__name__}: {exc}"
    return torch, None


def import_jax():
    """jax with float64 on, or None with the reason it is skipped."""
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy  # noqa: F401
    except Exception as exc:
        return None, f"import jax failed: {type(exc).__name__}: {exc}"
    return jax, None


def jax_contestants(jax, loss_or_chain, kind):
    """JAX eager (op by op, as a user writes it) and jit-compiled, numpy in and out."""
    import jax.numpy as jnp
    fn = loss_or_chain(jnp)
    eager = jax.grad(fn)
    compiled = jax.jit(jax.grad(fn))
    if kind == "chain":
        return {"jax": lambda: onp.float64(eager(CHAIN_X0)),
                "jax-jit": lambda: onp.float64(compiled(CHAIN_X0))}

    def numpy_out(grad_fn):
        def run(params, inputs, targets):
            g = grad_fn(params, inputs, targets)
            return [(onp.asarray(gW), onp.asarray(gb)) for gW, gb in g]
        return run
    return {"jax": numpy_out(eager), "jax-jit": numpy_out(compiled)}


def make_torch_chain_grad(torch):
    def chain_grad(x0):
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(CHAIN_STEPS):
            y = torch.sin(y) * 1.0001
        y.backward()
        return onp.float64(x.grad.item())
    return chain_grad


def make_torch_mlp_grad(torch):
    def mlp_grad(params, inputs, targets):
        # from_numpy shares memory, so numpy-in/numpy-out costs torch no copies; that keeps
        # the comparison about the gradient, not conversion.
        leaves = [torch.from_numpy(p).requires_grad_() for layer in params for p in layer]
        h = torch.from_numpy(inputs)
        for W, b in zip(leaves[0:-2:2], leaves[1:-2:2]):
            h = torch.tanh(h @ W + b)
        out = h @ leaves[-2] + leaves[-1]
        loss = ((out - torch.from_numpy(targets)) ** 2).sum()
        g = [t.numpy() for t in torch.autograd.grad(loss, leaves)]
        return [(g[i], g[i + 1]) for i in range(0, len(g), 2)]
    return mlp_grad


# --- correctness --------------------------------------------------------------------------------

def leaves_of(x):
    """Flatten nested lists/tuples to arrays, keeping the container structure as a string."""
    if isinstance(x, (list, tuple)):
        out, shape = [], []
        for v in x:
            sub, s = leaves_of(v)
            out += sub
            shape.append(s)
        return out, f"{type(x).__name__}({','.join(shape)})"
    arr = onp.asarray(x)
    return [arr], f"{arr.shape}"


def rel_error(got, want):
    """Largest norm-wise relative error over the leaves; inf if the structures differ."""
    g_leaves, g_struct = leaves_of(got)
    w_leaves, w_struct = leaves_of(want)
    if g_struct != w_struct:
        return float("inf"), f"structure {g_struct} != {w_struct}"
    worst = 0.0
    for g, w in zip(g_leaves, w_leaves):
        scale = onp.linalg.norm(w) or 1.0   # an all-zero reference: fall back to absolute
        worst = max(worst, float(onp.linalg.norm(g - w) / scale))
    return worst, None


def check(name, got, want, rtol):
    err, why = rel_error(got, want)
    if why is not None or not err <= rtol:   # `not <=` also catches NaN
        raise CheckFailed(f"{name}: gradient differs from autograd's "
                          f"(relative error {err:.3e}, tolerance {rtol:g})"
                          + (f": {why}" if why else ""))
    return err


# --- timing ----------------------------------------------------------------------------------------

def warm_up(fn, calls, seconds):
    """Call ``fn`` at least ``calls`` times and for at least ``seconds``."""
    deadline = time.perf_counter() + seconds
    for _ in range(calls):
        fn()
    while time.perf_counter() < deadline:
        fn()


def measure(contestants, repeats, warmup, warmup_seconds):
    """Seconds per call for each contestant, interleaved round by round.

    Each round runs every contestant once; the first one rotates so none always runs
    right after (or before) the same neighbour, with caches in the same state.
    """
    for fn in contestants.values():
        warm_up(fn, warmup, warmup_seconds)
    names = list(contestants)
    times = {name: [] for name in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            fn = contestants[name]
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def summarize(samples):
    ms = onp.asarray(samples) * 1e3
    q1, med, q3 = onp.percentile(ms, [25, 50, 75])
    return {"median_ms": float(med), "iqr_ms": float(q3 - q1), "q1_ms": float(q1),
            "q3_ms": float(q3), "min_ms": float(ms.min()), "samples_ms": ms.round(4).tolist()}


def ratios(results, skipped):
    """adclient's median over each other implementation's (above 1: adclient is slower).

    A skipped implementation keeps its key, with None, so readers of the JSON find it.
    """
    out = {}
    for mine in ("adclient", "adclient-replay"):
        ad = results[mine]["median_ms"]
        out.update({f"{mine}/{name}": ad / r["median_ms"]
                    for name, r in results.items() if name != mine})
        out.update({f"{mine}/{name}": None for name in skipped})
    return out


def round_trips_per_call(session, fn):
    """How many synchronous daemon round trips one call makes (the latency it can't hide)."""
    before = session.round_trips
    fn()
    return session.round_trips - before


# --- the two benchmarks -------------------------------------------------------------------------------

def bench_chain(adclient, autograd, torch, jax):
    """The contestants (zero-argument callables), their checked errors, the gradient."""
    import adclient.numpy as adnp
    import autograd.numpy as anp

    ad_chain, ag_chain = make_chain(adnp), make_chain(anp)
    replayed = adclient.grad(ad_chain, optimize=True)   # its tape cache lives in it
    contestants = {
        "adclient": lambda: adclient.grad(ad_chain)(CHAIN_X0),
        "adclient-replay": lambda: replayed(CHAIN_X0),
        "autograd": lambda: autograd.grad(ag_chain)(CHAIN_X0),
    }
    if torch is not None:
        torch_grad = make_torch_chain_grad(torch)
        contestants["torch"] = lambda: torch_grad(CHAIN_X0)
    if jax is not None:
        contestants.update(jax_contestants(jax, make_chain, "chain"))

    reference = contestants["autograd"]()
    errors = {"adclient": check("scalar chain, adclient", contestants["adclient"](),
                                reference, ADCLIENT_RTOL),
              "adclient-replay": check("scalar chain, adclient replay",
                                       contestants["adclient-replay"](), reference,
                                       ADCLIENT_RTOL)}
    if torch is not None:
        errors["torch"] = check("scalar chain, torch", contestants["torch"](),
                                reference, OTHER_RTOL)
    for name in ("jax", "jax-jit") if jax is not None else ():
        errors[name] = check(f"scalar chain, {name}", contestants[name](), reference, OTHER_RTOL)
    return contestants, errors, float(reference)


def bench_mlp(adclient, autograd, torch, jax):
    """As bench_chain, for the MLP; hand-written numpy backprop joins in."""
    import adclient.numpy as adnp
    import autograd.numpy as anp

    params, inputs, targets = mlp_data()
    ad_loss, ag_loss = make_mlp_loss(adnp), make_mlp_loss(anp)
    replayed = adclient.grad(ad_loss, optimize=True)
    contestants = {
        "adclient": lambda: adclient.grad(ad_loss)(params, inputs, targets),
        "adclient-replay": lambda: replayed(params, inputs, targets),
        "autograd": lambda: autograd.grad(ag_loss)(params, inputs, targets),
    }
    if torch is not None:
        torch_grad = make_torch_mlp_grad(torch)
        contestants["torch"] = lambda: torch_grad(params, inputs, targets)
    contestants["numpy-backprop"] = lambda: numpy_mlp_grad(params, inputs, targets)
    if jax is not None:
        for name, fn in jax_contestants(jax, make_mlp_loss, "mlp").items():
            contestants[name] = lambda fn=fn: fn(params, inputs, targets)

    reference = contestants["autograd"]()
    errors = {"adclient": check("mlp, adclient", contestants["adclient"](),
                                reference, ADCLIENT_RTOL),
              "adclient-replay": check("mlp, adclient replay", contestants["adclient-replay"](),
                                       reference, ADCLIENT_RTOL),
              "numpy-backprop": check("mlp, numpy backprop", contestants["numpy-backprop"](),
                             reference, OTHER_RTOL)}
    if torch is not None:
        errors["torch"] = check("mlp, torch", contestants["torch"](), reference, OTHER_RTOL)
    for name in ("jax", "jax-jit") if jax is not None else ():
        errors[name] = check(f"mlp, {name}", contestants[name](), reference, OTHER_RTOL)
    return contestants, errors, None


LEARNING_RATE = 1e-3


def bench_mlp_step(adclient, autograd, torch, jax):
    """One SGD step of the MLP, reading the loss as a training loop does. For adclient the
    parameters and data stay on the daemon: the step is one round trip (the loss), and the
    update runs there too."""
    import adclient.numpy as adnp
    import autograd.numpy as anp

    params, inputs, targets = mlp_data()
    ad_loss, ag_loss = make_mlp_loss(adnp), make_mlp_loss(anp)
    remote_params = [(adclient.remote(W), adclient.remote(b)) for W, b in params]
    remote_inputs, remote_targets = adclient.remote(inputs), adclient.remote(targets)
    ad_value_and_grad = adclient.value_and_grad(ad_loss)
    ad_replayed = adclient.value_and_grad(ad_loss, optimize=True)
    ag_value_and_grad = autograd.value_and_grad(ag_loss)

    def sgd(params, grads):
        return [(W - LEARNING_RATE * gW, b - LEARNING_RATE * gb)
                for (W, b), (gW, gb) in zip(params, grads)]

    def adclient_step(value_and_grad=ad_value_and_grad):
        loss, grads = value_and_grad(remote_params, remote_inputs, remote_targets)
        new_params = sgd(remote_params, grads)
        return float(loss), new_params

    def autograd_step():
        loss, grads = ag_value_and_grad(params, inputs, targets)
        return float(loss), sgd(params, grads)

    def numpy_step():
        grads = numpy_mlp_grad(params, inputs, targets)
        return float(ag_loss(params, inputs, targets)), sgd(params, grads)

    contestants = {"adclient": adclient_step,
                   "adclient-replay": lambda: adclient_step(ad_replayed),
                   "autograd": autograd_step, "numpy-backprop": numpy_step}
    if torch is not None:
        torch_grad = make_torch_mlp_grad(torch)
        contestants["torch"] = lambda: sgd(params, torch_grad(params, inputs, targets))
    if jax is not None:
        contestants.update(jax_step_contestants(jax, params, inputs, targets, sgd))

    def fetched(step_result):
        loss, new_params = step_result
        return [onp.asarray(x) for pair in new_params for x in pair] + [onp.float64(loss)]

    reference = fetched(contestants["autograd"]())
    errors = {"adclient": check("mlp step, adclient", fetched(contestants["adclient"]()),
                                reference, ADCLIENT_RTOL),
              "adclient-replay": check("mlp step, adclient replay",
                                       fetched(contestants["adclient-replay"]()), reference,
                                       ADCLIENT_RTOL),
              "numpy-backprop": check("mlp step, numpy", fetched(contestants["numpy-backprop"]()),
                                      reference, OTHER_RTOL)}
    for name in ("jax", "jax-jit") if jax is not None else ():
        errors[name] = check(f"mlp step, {name}", fetched(contestants[name]()), reference,
                             OTHER_RTOL)
    return contestants, errors, None


def jax_step_contestants(jax, params, inputs, targets, sgd):
    """The step with the arrays on JAX's device: eager, and the whole step jit-compiled."""
    import jax.numpy as jnp
    loss = make_mlp_loss(jnp)
    jparams = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    jx, jy = jnp.asarray(inputs), jnp.asarray(targets)
    value_and_grad = jax.value_and_grad(loss)

    def step(p, x, y):
        value, grads = value_and_grad(p, x, y)
        return value, sgd(p, grads)
    compiled = jax.jit(step)

    def eager_step():
        value, grads = value_and_grad(jparams, jx, jy)
        return float(value), sgd(jparams, grads)

    def jit_step():
        value, new = compiled(jparams, jx, jy)
        return float(value), new
    return {"jax": eager_step, "jax-jit": jit_step}


BENCHMARKS = [
    ("scalar_chain", f"grad of {CHAIN_STEPS} steps of x = sin(x)*1.0001 at x = {CHAIN_X0}",
     bench_chain),
    ("mlp", f"grad of MLP {'-'.join(map(str, MLP_SIZES))} (tanh), batch {MLP_BATCH}, "
            "float64, sum-of-squares loss, w.r.t. [(W1,b1),(W2,b2),(W3,b3)]", bench_mlp),
    ("mlp_step", "one SGD step of the same MLP, reading the loss; for adclient the "
                 "parameters and data live on the daemon", bench_mlp_step),
]


# --- environment and reporting ----------------------------------------------------------------------

def version_of(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info(torch):
    import zmq
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "numpy": onp.__version__,
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "autograd": version_of("autograd"),
        "adserver": version_of("adserver"),
        "torch": None if torch is None else torch.__version__,
        "torch_threads": None if torch is None else torch.get_num_threads(),
    }


def daemon_info(session, joined):
    scheme = session.address.split("://", 1)[0]
    return {"transport": scheme, "address": session.address,
            "mode": "joined running daemon" if joined else "private daemon started by adclient"}


def print_table(report):
    m, d = report["machine"], report["daemon"]
    print(f"adserver gradient benchmark: python {m['python']}, numpy {m['numpy']}, "
          f"autograd {m['autograd']}, torch {m['torch'] or 'skipped'}, jax {m.get('jax') or 'skipped'}, "
          f"{m['cpu_count']} cpus")
    print(f"daemon: {d['mode']} over {d['transport']} ({d['address']})")
    threads = report["settings"]["threads"]
    print("BLAS/OpenMP threads: " + (str(threads) if threads > 0 else "library defaults"))
    for name, b in report["benchmarks"].items():
        print()
        print(f"{name}: {b['description']}")
        print(f"  {b['repeats']} interleaved repeats after a warm-up; "
              f"adclient round trips per gradient: {b['adclient_round_trips']}")
        print(f"  {'implementation':<16}{'median ms':>11}{'IQR ms':>10}{'q1 ms':>10}"
              f"{'q3 ms':>10}{'min ms':>10}   {'adclient / this':>15}{'replay / this':>15}")
        ad = b["results"]["adclient"]["median_ms"]
        rp = b["results"]["adclient-replay"]["median_ms"]
        for impl, r in b["results"].items():
            ratio = "" if impl == "adclient" else f"{ad / r['median_ms']:.2f}x"
            ratio_rp = "" if impl == "adclient-replay" else f"{rp / r['median_ms']:.2f}x"
            print(f"  {impl:<16}{r['median_ms']:>11.3f}{r['iqr_ms']:>10.3f}{r['q1_ms']:>10.3f}"
                  f"{r['q3_ms']:>10.3f}{r['min_ms']:>10.3f}   {ratio:>15}{ratio_rp:>15}")
        for impl, why in b["skipped"].items():
            print(f"  {impl:<16}{'skipped':>11}   ({why})")
        errs = ", ".join(f"{k} {v:.1e}" for k, v in b["check_rel_error"].items())
        print(f"  check vs autograd (relative error): {errs}")


# --- main ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--address", help="join the daemon at this ZeroMQ address "
                   "(e.g. tcp://127.0.0.1:5555) instead of starting a private one")
    p.add_argument("--repeats", type=int, help="timed rounds per benchmark (default: "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_REPEATS.items()) + ")")
    p.add_argument("--quick", action="store_true",
                   help=f"smoke run: {QUICK_REPEATS} repeats, {QUICK_WARMUP} warm-up")
    thread_option(p)
    p.add_argument("--json", default=DEFAULT_JSON, metavar="PATH",
                   help="where to write the results (default: bench/results/bench_grad.json)")
    args = p.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # Already done before numpy loaded when run as a script; repeated so that a caller of
    # main() still gets the setting in the private daemon, which starts below.
    limit_threads(argv)
    if args.address:
        # adclient reads this when it opens the process's session (on first use).
        os.environ["ADSERVER_ADDRESS"] = args.address
    joined = bool(os.environ.get("ADSERVER_ADDRESS"))

    import adclient
    import autograd
    from adclient.session import get_session
    torch, torch_skip = import_torch()

    session = get_session()   # start (or join) the daemon now, outside any timing
    if torch is not None and args.threads > 0:
        torch.set_num_threads(args.threads)   # explicit, whatever torch made of the env
    warmup = QUICK_WARMUP if args.quick else DEFAULT_WARMUP
    warmup_seconds = 0.0 if args.quick else WARMUP_SECONDS
    report = {"machine": machine_info(torch), "daemon": daemon_info(session, joined),
              "settings": {"quick": args.quick, "warmup_calls": warmup,
                           "warmup_seconds": warmup_seconds, "threads": args.threads,
                           "thread_env": {v: os.environ.get(v) for v in THREAD_VARS},
                           "timer": "time.perf_counter", "interleaved": True},
              "benchmarks": {}}

    phases = {}
    for name, description, setup in BENCHMARKS:
        repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS[name])
        try:
            contestants, errors, value = setup(adclient, autograd, torch, None)
        except CheckFailed as exc:
            print(f"FAILED correctness check: {exc}", file=sys.stderr)
            return 1
        trips = round_trips_per_call(session, contestants["adclient"])
        times = measure(contestants, repeats, warmup, warmup_seconds)
        phases[name] = (description, repeats, times, errors, trips, value)

    # JAX runs in a second phase, beside autograd again: once imported, its runtime slows
    # every other contestant in the process (measured: adclient's chain from 23 to 34 ms).
    jax, jax_skip = import_jax()
    for name, description, setup in BENCHMARKS:
        if jax is None:
            break
        description, repeats, times, errors, trips, value = phases[name]
        contestants, jax_errors, _ = setup(adclient, autograd, torch, jax)
        second = {k: contestants[k] for k in ("autograd", "jax", "jax-jit")}
        more = measure(second, repeats, warmup, warmup_seconds)
        times["jax"], times["jax-jit"] = more["jax"], more["jax-jit"]
        times["autograd (jax phase)"] = more["autograd"]
        errors.update({k: jax_errors[k] for k in ("jax", "jax-jit")})
    report["machine"]["jax"] = None if jax is None else jax.__version__

    for name, (description, repeats, times, errors, trips, value) in phases.items():
        results = {impl: summarize(t) for impl, t in times.items()}
        skipped = {} if torch is not None else {"torch": torch_skip}
        if jax is None:
            skipped["jax"] = skipped["jax-jit"] = jax_skip
        report["benchmarks"][name] = {
            "description": description, "repeats": repeats,
            "results": results, "ratios": ratios(results, skipped), "skipped": skipped,
            "check_rel_error": errors, "adclient_round_trips": trips,
        }
        if value is not None:
            report["benchmarks"][name]["gradient"] = value

    print_table(report)
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
