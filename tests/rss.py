"""A process's memory, read from /proc, for the robustness suites (faults, load, fuzz).

``rss(pid)`` is the resident set size in bytes (VmRSS of /proc/PID/status): the memory
the process really holds, which is what grows when a daemon leaks.  ``settled_rss(pid)``
waits until it stops moving, so that a measurement taken after a burst of work does not
catch the daemon half-way through freeing it.

Why a baseline needs a warm-up (and a tolerance): a fresh daemon has not yet imported every
op family, built its caches or grown glibc's and CPython's allocator pools to their working
size.  The first few requests therefore raise RSS once and for good; that is not a leak.  The
suites measure the baseline *after* a warm-up that runs the same kind of work, then run the
real workload (many times the warm-up), and compare: a leak grows with the amount of work,
allocator slack does not.  ``docs/ROBUSTNESS.md`` records the figures and the tolerances.
"""
import os
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1 << 20


def _status(pid):
    with open(f"/proc/{pid}/status") as f:
        return {k: v.strip() for k, _, v in (line.partition(":") for line in f)}


def rss(pid):
    """Resident set size of ``pid`` in bytes."""
    return int(_status(pid)["VmRSS"].split()[0]) * 1024


def peak_rss(pid):
    """The highest resident set size ``pid`` has had (VmHWM), in bytes."""
    return int(_status(pid)["VmHWM"].split()[0]) * 1024


def vm_size(pid):
    """Virtual size of ``pid`` in bytes (VmSize); what RLIMIT_AS bounds."""
    return int(_status(pid)["VmSize"].split()[0]) * 1024


def settled_rss(pid, quiet=0.5, slack=256 * 1024, timeout=10.0):
    """RSS of ``pid`` once it has moved by less than ``slack`` bytes over ``quiet`` seconds.

    Returns the last reading even if it never settles within ``timeout`` seconds (a
    process that keeps growing is exactly what the caller wants to see).
    """
    deadline = time.monotonic() + timeout
    last = rss(pid)
    while True:
        time.sleep(quiet)
        now = rss(pid)
        if abs(now - last) < slack or time.monotonic() > deadline:
            return now
        last = now


def mib(n):
    """``n`` bytes as a string in MiB, for messages and reports."""
    return f"{n / MiB:.1f} MiB"


def limit_address_space(pid, extra_bytes):
    """Cap ``pid``'s virtual memory at its current size plus ``extra_bytes`` (RLIMIT_AS).

    Used on fuzzed daemons: an op asked to allocate tens of GiB then fails at once with a
    MemoryError (which the daemon must report as an op error) instead of filling the CI
    machine's memory.  Returns the limit that was set.
    """
    import resource
    limit = vm_size(pid) + extra_bytes
    resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    return limit
