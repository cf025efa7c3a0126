"""The benchmarks' thread settings: one BLAS/OpenMP/XLA thread per process by default.

Imported before numpy by every script in bench/ (it imports nothing heavy itself): BLAS
and OpenMP size their pools when they load.
"""
import argparse
import os

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")
DEFAULT_THREADS = 1


def thread_option(parser):
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, metavar="N",
                        help="BLAS/OpenMP threads for this process and the private daemon "
                        f"(default {DEFAULT_THREADS}; 0 leaves the environment alone)")


def limit_threads(argv):
    """Set the thread-count variables from --threads; returns N.

    BLAS and OpenMP size their pools when they load (and the private daemon inherits this
    environment), so this has to run before numpy is imported. One thread each is the
    default because with several pools on two cores (OpenBLAS here, torch's OpenMP, the
    daemon's OpenBLAS) a pool still spinning after its last op steals the core another
    needs: measured here, hand-written backprop went from 0.4 ms to 8-11 ms when it ran
    right after a torch call.
    """
    pre = argparse.ArgumentParser(add_help=False)
    thread_option(pre)
    n = pre.parse_known_args(argv)[0].threads
    if n > 0:
        for var in THREAD_VARS:
            os.environ[var] = str(n)
        if n == 1:
            # XLA's CPU backend sizes its own pool: one thread, like everyone else
            os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                       " --xla_cpu_multi_thread_eigen=false"
                                       " intra_op_parallelism_threads=1").strip()
    return n
