#!/usr/bin/env python3
"""What adclient's wire costs on top of raw pyzmq, on the same transport.

Two measurements, each over ipc and over TCP loopback, each against a real daemon process
(``python -m adserver``) and a raw pyzmq echo server (a ROUTER in a process of its own, so
both sides pay the same process hop):

  fetch     round trip of a small value: ``x.get()`` on a RemoteArray of 8 float64 already
            on the daemon (one sync batch out, one result with a 64-byte array frame back),
            against a DEALER sending a msgpack header, a msgpack body and a 64-byte frame,
            which the ROUTER echoes and the client decodes. Target: adclient <= 1.3x raw.
  transfer  a 64 MiB float64 array up and back: ``adclient.remote(a).get()`` (one sync
            batch carrying the array in an ``array`` op, with a fetch of its handle), against
            ``send_multipart(copy=False)`` of the same bytes, echoed by the ROUTER without a
            copy. MB/s counts both directions (2 x 64 MiB per round trip, 1 MB = 10^6 bytes).
            Target: adclient >= 70% of raw throughput.

Each value is checked once before timing. Runs are interleaved (one call of each contestant
per round, the first one rotated every round), as in bench_grad.py, and medians reported.

    python3 bench/bench_wire.py              # full run, about half a minute
    python3 bench/bench_wire.py --quick      # smoke run
    python3 bench/bench_wire.py --json PATH  # also write the JSON report to PATH
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import msgpack
import numpy as np
import zmq

SMALL_N = 8                      # float64 elements of the fetched value (64 bytes)
BIG_BYTES = 64 << 20             # the transfer array: 64 MiB of float64
ROUNDS = {"fetch": 3000, "transfer": 20}
QUICK_ROUNDS = {"fetch": 200, "transfer": 3}
WARMUP = {"fetch": 200, "transfer": 2}    # calls per contestant before timing
TARGETS = {"fetch": 1.3, "transfer": 0.70}


# --- the raw side: an echo ROUTER in its own process, and a DEALER client ---------------------
def echo_server(address):
    """Send every message back as it came, frames untouched: ZeroMQ's floor, no copy."""
    parent = os.getppid()

    def watch():   # do not outlive the benchmark if it is killed
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
    sock = zmq.Context.instance().socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.bind(address)
    print(sock.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
    while True:
        frames = sock.recv_multipart(copy=False)      # [identity, header, body, data]
        sock.send_multipart(frames, copy=False)


class RawClient:
    def __init__(self, address):
        self.sock = zmq.Context.instance().socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)
        self.req = 0
        # A body the size of adclient's fetch request.
        self.body = msgpack.packb({"ops": [], "sync": True, "fetch": [1], "meta": []})

    def _header(self):
        # What adclient's header holds: version, kind, request id, 32-hex-digit session id.
        self.req += 1
        return msgpack.packb({"v": 1, "kind": "batch", "req": self.req, "session": "0" * 32})

    def fetch(self, small):
        """Small message: pyzmq's default copy=True is its fastest path for small frames."""
        self.sock.send_multipart([self._header(), self.body, small])
        header, body, data = self.sock.recv_multipart()
        msgpack.unpackb(header)
        msgpack.unpackb(body)
        return np.frombuffer(data, dtype=np.float64)

    def transfer(self, big):
        """Large message, zero copy on both ends: frames in, frames out, an array view."""
        self.sock.send_multipart([self._header(), self.body, memoryview(big).cast("B")],
                                 copy=False)
        header, body, data = self.sock.recv_multipart(copy=False)
        msgpack.unpackb(header.buffer)
        msgpack.unpackb(body.buffer)
        return np.frombuffer(data.buffer, dtype=np.float64)

    def close(self):
        self.sock.close(0)


# --- processes --------------------------------------------------------------------------------
def spawn(cmd, env):
    """Start a server process that prints its endpoint (last word of its first line)."""
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise RuntimeError(f"{cmd[:4]} did not start (exit status {proc.wait()})")
    return proc, line.rsplit(" ", 1)[-1]


def start_servers(transport, tmp, env):
    """(daemon process, its address, echo process, its address) for one transport."""
    if transport == "ipc":
        daemon_listen, echo_listen = f"ipc://{tmp}/daemon.sock", f"ipc://{tmp}/echo.sock"
    else:   # port * : the system picks free ports, which the servers print
        daemon_listen = echo_listen = "tcp://127.0.0.1:*"
    # The same flags as adclient's private daemon (PROTOCOL.md section 2), plus --announce.
    daemon, daemon_addr = spawn(
        [sys.executable, "-m", "adserver", "--listen", daemon_listen, "--announce",
         "--parent-pid", str(os.getpid()), "--log-level", "warning", "--lease-seconds", "0"],
        env)
    echo, echo_addr = spawn([sys.executable, os.path.abspath(__file__), "--echo-server",
                             echo_listen], env)
    return daemon, daemon_addr, echo, echo_addr


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- timing -----------------------------------------------------------------------------------
def measure(contestants, rounds, warmup):
    """Seconds per call of each contestant, interleaved, the first one rotated each round."""
    for fn in contestants.values():
        for _ in range(warmup):
            fn()
    names = list(contestants)
    times = {name: [] for name in names}
    for r in range(rounds):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            contestants[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def summarize(samples):
    us = np.asarray(samples) * 1e6
    q1, med, q3 = np.percentile(us, [25, 50, 75])
    return {"median_us": float(med), "iqr_us": float(q3 - q1), "min_us": float(us.min()),
            "samples": int(us.size)}


def check(name, got, want):
    if got.shape != want.shape or not np.array_equal(got, want):
        raise SystemExit(f"FAILED check: {name} did not bring back the array it sent")


# --- the run ----------------------------------------------------------------------------------
def run(transports, quick):
    from adclient.session import Session
    from adclient import remote

    tmp = tempfile.mkdtemp(prefix="adserver-wire-")
    env = dict(os.environ)
    env.pop("ADSERVER_ADDRESS", None)
    # TCP daemons ask for the token (PROTOCOL.md 15.2): one of this run's own, not the user's.
    env["ADSERVER_TOKEN_FILE"] = os.environ["ADSERVER_TOKEN_FILE"] = os.path.join(tmp, "token")
    small = np.arange(SMALL_N, dtype=np.float64)
    big = np.random.RandomState(0).rand(BIG_BYTES // 8)
    machine = machine_info()     # before our own processes add to the load average
    procs, sessions, raws = [], [], []
    fetch, transfer = {}, {}
    try:
        for t in transports:
            daemon, daemon_addr, echo, echo_addr = start_servers(t, tmp, env)
            procs += [daemon, echo]
            s = Session(daemon_addr)
            raw = RawClient(echo_addr)
            sessions.append(s)
            raws.append(raw)
            x = remote(small, session=s)          # the small value lives on the daemon
            check(f"adclient fetch over {t}", x.get(), small)
            check(f"raw fetch over {t}", raw.fetch(small.tobytes()), small)
            check(f"adclient transfer over {t}", remote(big, session=s).get(), big)
            check(f"raw transfer over {t}", raw.transfer(big), big)
            small_bytes = small.tobytes()
            fetch[f"adclient {t}"] = x.get
            fetch[f"raw {t}"] = (lambda raw=raw: raw.fetch(small_bytes))
            transfer[f"adclient {t}"] = (lambda s=s: remote(big, session=s).get())
            transfer[f"raw {t}"] = (lambda raw=raw: raw.transfer(big))
        rounds = QUICK_ROUNDS if quick else ROUNDS
        report = {"machine": machine, "settings": {
            "quick": quick, "rounds": rounds, "warmup_calls": WARMUP, "small_elements": SMALL_N,
            "big_bytes": BIG_BYTES, "timer": "time.perf_counter", "interleaved": True},
            "targets": {"fetch_adclient_over_raw_at_most": TARGETS["fetch"],
                        "transfer_adclient_over_raw_at_least": TARGETS["transfer"]},
            "fetch": {}, "transfer": {}}
        for test, contestants in (("fetch", fetch), ("transfer", transfer)):
            times = measure(contestants, rounds[test], WARMUP[test])
            for t in transports:
                ad, rw = summarize(times[f"adclient {t}"]), summarize(times[f"raw {t}"])
                entry = {"adclient": ad, "raw": rw}
                if test == "fetch":
                    entry["ratio_adclient_over_raw"] = ad["median_us"] / rw["median_us"]
                else:
                    for side in (ad, rw):   # both directions, per second, from the median
                        side["mb_per_s"] = 2 * BIG_BYTES / side["median_us"]
                    entry["ratio_adclient_over_raw"] = ad["mb_per_s"] / rw["mb_per_s"]
                report[test][t] = entry
        return report
    finally:
        for s in sessions:
            s.close()
        for raw in raws:
            raw.close()
        for p in procs:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


def machine_info():
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = None
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "cpus_usable": usable, "numpy": np.__version__,
            "pyzmq": zmq.__version__, "libzmq": zmq.zmq_version(),
            "msgpack": ".".join(map(str, msgpack.version)),
            "load_average_at_start": os.getloadavg()}   # other work skews wall-clock times


def print_table(r):
    m = r["machine"]
    print(f"adserver wire benchmark: python {m['python']}, pyzmq {m['pyzmq']}, libzmq "
          f"{m['libzmq']}, msgpack {m['msgpack']}, {m['cpu_count']} cpus, load average at start "
          f"{' '.join(f'{x:.2f}' for x in m['load_average_at_start'])}")
    rounds = r["settings"]["rounds"]
    print(f"\nfetch: x.get() of {SMALL_N} float64 on the daemon vs. a raw DEALER/ROUTER echo "
          f"of header+body+{SMALL_N * 8} B; {rounds['fetch']} interleaved rounds")
    print(f"  {'transport':<10}{'adclient us':>12}{'IQR':>8}{'raw us':>10}{'IQR':>8}"
          f"{'adclient/raw':>14}   target <= {TARGETS['fetch']}x")
    for t, e in r["fetch"].items():
        ad, rw, ratio = e["adclient"], e["raw"], e["ratio_adclient_over_raw"]
        print(f"  {t:<10}{ad['median_us']:>12.1f}{ad['iqr_us']:>8.1f}{rw['median_us']:>10.1f}"
              f"{rw['iqr_us']:>8.1f}{ratio:>13.2f}x   "
              f"{'met' if ratio <= TARGETS['fetch'] else 'MISSED'}")
    print(f"\ntransfer: {BIG_BYTES >> 20} MiB float64 up and back in one round trip; "
          f"MB/s of both directions; {rounds['transfer']} interleaved rounds")
    print(f"  {'transport':<10}{'adclient ms':>12}{'MB/s':>8}{'raw ms':>10}{'MB/s':>8}"
          f"{'adclient/raw':>14}   target >= {TARGETS['transfer']:.0%}")
    for t, e in r["transfer"].items():
        ad, rw, ratio = e["adclient"], e["raw"], e["ratio_adclient_over_raw"]
        print(f"  {t:<10}{ad['median_us'] / 1e3:>12.1f}{ad['mb_per_s']:>8.0f}"
              f"{rw['median_us'] / 1e3:>10.1f}{rw['mb_per_s']:>8.0f}{ratio:>13.0%}    "
              f"{'met' if ratio >= TARGETS['transfer'] else 'MISSED'}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: few rounds")
    p.add_argument("--transports", default="ipc,tcp", help="comma-separated: ipc, tcp")
    p.add_argument("--json", metavar="PATH", help="also write the report to PATH")
    p.add_argument("--echo-server", metavar="ADDRESS", help=argparse.SUPPRESS)  # internal
    args = p.parse_args(argv)
    if args.echo_server:
        echo_server(args.echo_server)
        return 0
    transports = [t for t in args.transports.split(",") if t]
    if not set(transports) <= {"ipc", "tcp"}:
        p.error("--transports takes ipc and/or tcp")
    report = run(transports, args.quick)
    print_table(report)
    print(json.dumps(report))          # one line, for machines
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
