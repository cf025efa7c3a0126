"""The ``adserver`` command: run the daemon, or ask a running one whether it is healthy."""
import argparse
import logging
import sys

from . import __version__
from .limits import Limits

DEFAULT_LISTEN = "tcp://127.0.0.1:5757"

_LIMIT_HELP = {
    "max_message_bytes": "largest message, in bytes, that the daemon accepts",
    "max_frames": "most frames in one message",
    "max_ops_per_batch": "most ops in one batch message",
    "max_array_bytes": "largest array, in bytes, in one message",
    "max_live_handles": "most live handles one session may hold",
    "max_callback_depth": "deepest nesting of client callbacks (user-defined gradients)",
    "max_sessions": "most sessions the daemon serves at once",
}


def build_parser():
    p = argparse.ArgumentParser(
        prog="adserver",
        description="An automatic-differentiation daemon. Clients (adclient for Python, adlua "
                    "for Lua) stream traced ops to it over ZeroMQ; it computes values and "
                    "gradients.",
        epilog="Subcommands: 'adserver ping ADDRESS' checks that a daemon answers.")
    p.add_argument("--version", action="version", version=f"adserver {__version__}")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="ADDRESS",
                   help="ZeroMQ address to bind: tcp://HOST:PORT or ipc://PATH "
                        f"(default {DEFAULT_LISTEN}; loopback only)")
    p.add_argument("--log-level", default="info",
                   choices=["debug", "info", "warning", "error"],
                   help="log verbosity; logs go to stderr (default info)")
    p.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                   help="stop when process PID exits (used by clients that start a private "
                        "daemon)")
    defaults = Limits()
    for name in Limits.names():
        p.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(defaults, name),
                       metavar="N", help=f"{_LIMIT_HELP[name]} (default %(default)s)")
    return p


def ping_main(argv):
    p = argparse.ArgumentParser(prog="adserver ping",
                                description="Exit 0 if the daemon at ADDRESS answers a ping.")
    p.add_argument("address", nargs="?", default=DEFAULT_LISTEN)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    args = p.parse_args(argv)
    from .ping import ping
    try:
        info = ping(args.address, args.timeout)
    except TimeoutError as exc:
        print(f"adserver ping: {exc}", file=sys.stderr)
        return 1
    print(f"{args.address}: {info.get('server')} ({info.get('sessions')} session(s))")
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "ping":
        return ping_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not _is_local(args.listen):
        print(f"adserver: refusing to listen on {args.listen}: only loopback and ipc "
              "addresses are allowed until authentication is configured", file=sys.stderr)
        return 2
    # numpy's floating-point warnings would print daemon paths into a client's terminal;
    # the values (nan, inf) reach the client, which is where they mean something.
    import warnings
    import numpy as np
    np.seterr(all="ignore")
    warnings.simplefilter("ignore", RuntimeWarning)
    limits = Limits(**{n: getattr(args, n) for n in Limits.names()})
    from .server import Server, install_signal_handlers
    try:
        server = Server(args.listen, limits, parent_pid=args.parent_pid)
    except Exception as exc:
        print(f"adserver: cannot listen on {args.listen}: {exc}", file=sys.stderr)
        return 2
    install_signal_handlers(server)
    server.serve_forever()
    return 0


def _is_local(address):
    if address.startswith("ipc://") or address.startswith("inproc://"):
        return True
    if address.startswith("tcp://"):
        host = address[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
        return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
    return False


if __name__ == "__main__":
    sys.exit(main())
