#!/usr/bin/env python3
"""Peak daemon memory of a gradient through a deep chain, with and without checkpoint.

Each configuration runs in a fresh process with its own private daemon, so the daemon's
peak resident set (VmHWM in /proc) belongs to that gradient alone. The chain is LAYERS
blocks of a few elementwise ops on a WIDTH-element vector. Without checkpoint, the daemon
keeps every block's intermediate values for the backward pass; with each block
checkpointed, it keeps only the block boundaries and recomputes a block's insides when the
backward pass reaches it.

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
layers, width, use_checkpoint = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"

def block(x):
    return np.tanh(np.sin(x) * 1.01 + 0.1 * x)

step = checkpoint(block) if use_checkpoint else block

def f(x):
    for _ in range(layers):
        x = step(x)
    return np.sum(x)

g = grad(f)(numpy.linspace(-1, 1, width))
pid = get_session()._daemon.pid
with open(f"/proc/{pid}/status") as status:
    peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM"))
print(peak, float(numpy.sum(g)))
"""


def run(layers, width, use_checkpoint):
    env = {k: v for k, v in os.environ.items() if k != "ADSERVER_ADDRESS"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(layers), str(width),
                          "1" if use_checkpoint else "0"], capture_output=True, text=True,
                         env=env, check=True).stdout.split()
    return int(out[0]) / 1024.0, float(out[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=100)
    p.add_argument("--width", type=int, default=1_000_000)
    p.add_argument("--json", default="bench/results/checkpoint_memory.json")
    args = p.parse_args(argv)
    plain_mib, plain_sum = run(args.layers, args.width, False)
    checked_mib, checked_sum = run(args.layers, args.width, True)
    assert abs(plain_sum - checked_sum) <= 1e-9 * abs(plain_sum), "gradients differ"
    result = {"layers": args.layers, "width": args.width,
              "peak_daemon_mib_plain": plain_mib, "peak_daemon_mib_checkpoint": checked_mib,
              "ratio": checked_mib / plain_mib}
    print(f"{args.layers} layers of {args.width} elements: peak daemon RSS "
          f"{plain_mib:.0f} MiB plain, {checked_mib:.0f} MiB with checkpoint "
          f"({result['ratio']:.2f}x); same gradient")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
