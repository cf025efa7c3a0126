#!/usr/bin/env python3
"""Peak daemon memory of a gradient through a deep chain, with and without checkpoint.

Each configuration runs in a fresh process with its own private daemon, so the daemon's
peak resident set (VmHWM in /proc) belongs to that gradient alone. The chain is LAYERS
blocks of a few elementwise ops on a WIDTH-element vector. Without checkpoint, the daemon
keeps every block's intermediate values for the backward pass; with each block
checkpointed, it keeps only the block boundaries and recomputes a block's insides when the
backward pass reaches it. Those LAYERS boundaries are then the floor; checkpointing groups
of about sqrt(LAYERS) checkpointed blocks as well (two levels, as in Chen et al.'s
sqrt(n) scheme) keeps only the group boundaries, plus one group's block boundaries while
the backward pass is inside it.

    python3 bench/checkpoint_memory.py [--layers 100] [--width 1000000] [--json PATH]
"""
import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import os, sys, numpy
import adclient.numpy as np
from adclient import grad, checkpoint
from adclient.session import get_session
layers, width, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def block(x):
    return np.tanh(np.sin(x) * 1.01 + 0.1 * x)

step = block if mode == "plain" else checkpoint(block)
group = max(1, round(layers ** 0.5)) if mode == "two-level" else 1

def run_group(x, n):
    for _ in range(n):
        x = step(x)
    return x

checked_group = checkpoint(run_group)

def f(x):
    done = 0
    while done < layers:
        n = min(group, layers - done)
        x = checked_group(x, n) if group > 1 else run_group(x, n)
        done += n
    return np.sum(x)

g = grad(f)(numpy.linspace(-1, 1, width))
pid = get_session()._daemon.pid
with open(f"/proc/{pid}/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))
print(peak, float(numpy.sum(g)))
"""


def run(layers, width, mode):
    env = {k: v for k, v in os.environ.items() if k != "ADSERVER_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(layers), str(width), mode],
                         capture_output=True, text=True, env=env, check=True).stdout.split()
    return int(out[0]) / 1024.0, float(out[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=100)
    p.add_argument("--width", type=int, default=1_000_000)
    p.add_argument("--json", default="bench/results/checkpoint_memory.json")
    args = p.parse_args(argv)
    plain_mib, plain_sum = run(args.layers, args.width, "plain")
    checked_mib, checked_sum = run(args.layers, args.width, "blocks")
    nested_mib, nested_sum = run(args.layers, args.width, "two-level")
    for other in (checked_sum, nested_sum):
        assert abs(plain_sum - other) <= 1e-9 * abs(plain_sum), "gradients differ"
    result = {"layers": args.layers, "width": args.width,
              "peak_daemon_mib_plain": plain_mib, "peak_daemon_mib_checkpoint": checked_mib,
              "ratio": checked_mib / plain_mib,
              "peak_daemon_mib_two_level": nested_mib, "ratio_two_level": nested_mib / plain_mib}
    print(f"{args.layers} layers of {args.width} elements: peak daemon RSS "
          f"{plain_mib:.0f} MiB plain, {checked_mib:.0f} MiB with every block checkpointed "
          f"({result['ratio']:.2f}x), {nested_mib:.0f} MiB with two levels "
          f"({result['ratio_two_level']:.2f}x); same gradient")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
