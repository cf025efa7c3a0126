"""The ``adserver`` command: run the daemon, or ask a running one about itself.

    adserver [--listen ADDRESS] [flags...]        run a daemon (or, --workers N, N of them)
    adserver ping [ADDRESS] [--timeout S]         exit 0 if a daemon answers
    adserver status [ADDRESS] [--json]            sessions, handles, bytes, ops per second
    adserver keygen DIR [--force]                 make CURVE key pairs for a daemon and clients
"""
import argparse
import json
import logging
import math
import os
import sys

from . import __version__
from .limits import Limits, HELP as _LIMIT_HELP

DEFAULT_LISTEN = "tcp://127.0.0.1:5757"
MAX_WORKERS = 256      # each worker is a whole daemon process; more is a typo, not a plan

EPILOG = """\
subcommands:
  adserver ping [ADDRESS] [--timeout S]    exit 0 if the daemon at ADDRESS answers
  adserver status [ADDRESS] [--json]       its sessions, handles, bytes and ops per second
  adserver keygen DIR [--force]            write CURVE key pairs (server, client) into DIR

security: TCP and abstract ipc (ipc://@NAME) listeners require a token by default (--auth
auto): the daemon keeps a 256-bit token in a 0600 file of its own user (--token-file; default
$ADSERVER_TOKEN_FILE, else $XDG_RUNTIME_DIR/adserver/token, else ~/.config/adserver/token)
and clients prove they hold it with an HMAC over a challenge; it never crosses the wire. An
ipc://PATH socket is made 0600, in a directory that only its owner may write. A TCP host
must resolve to loopback addresses only, unless CURVE encryption is on (--curve-secret-key,
from 'adserver keygen') and the token too; clients then need ADSERVER_CURVE_SERVER_KEY. See
protocol/PROTOCOL.md section 15.
"""


class _Parser(argparse.ArgumentParser):
    """argparse, answering a bad flag or value with one line (status 2), not a usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _whole(text, low=0, high=(1 << 63) - 1, what="a whole number"):
    """``text`` as an integer from ``low`` to ``high`` (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{text} is not {what} from {low} to {high}")
    return value


def _count(text):
    return _whole(text)


def _amount(text):
    """A finite number, 0 or more (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number, 0 or more")
    return value


def _timeout(text):
    """Seconds to wait: a finite number above 0 (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds above 0")
    return value


def _workers(text):
    return _whole(text, 0, MAX_WORKERS, "a number of worker processes")


def _pid(text):
    return _whole(text, 1, (1 << 31) - 1, "a process id")


def build_parser():
    p = _Parser(
        prog="adserver",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="An automatic-differentiation daemon. Clients (adclient for Python, adlua "
                    "for Lua) stream traced ops to it over ZeroMQ; it computes values and "
                    "gradients.",
        epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"adserver {__version__}")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="ADDRESS",
                   help="ZeroMQ address to bind: tcp://HOST:PORT, ipc://PATH (a socket "
                        "made 0600 in a directory only you can write) or ipc://@NAME "
                        f"(abstract; token required) (default {DEFAULT_LISTEN}). A host "
                        "that is not loopback only with --curve-secret-key")
    p.add_argument("--log-level", default="info",
                   choices=["debug", "info", "warning", "error"],
                   help="log verbosity; logs go to stderr (default info)")
    p.add_argument("--log-format", default="text", choices=["text", "json"],
                   help="log lines as key=value pairs (text) or JSON objects (default text)")
    p.add_argument("--parent-pid", type=_pid, default=None, metavar="PID",
                   help="stop when process PID exits (used by clients that start a private "
                        "daemon, and by --workers)")
    p.add_argument("--announce", action="store_true",
                   help="once listening, print 'adserver listening on ADDRESS' on stdout (the "
                        "address actually bound, useful with tcp://HOST:*)")
    p.add_argument("--auth", default="auto", choices=["auto", "token", "none"],
                   help="client authentication: token (HMAC challenge with the token file), "
                        "none, or auto: none on ipc://PATH, token on tcp:// and ipc://@NAME "
                        "(default auto)")
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="the token file, made (0600) if missing; it must be yours and "
                        "0600 (default "
                        "$ADSERVER_TOKEN_FILE, else $XDG_RUNTIME_DIR/adserver/token, else "
                        "~/.config/adserver/token)")
    p.add_argument("--curve-secret-key", default=None, metavar="FILE",
                   help="encrypt every connection with CURVE, using this server secret key "
                        "file (server.key_secret from 'adserver keygen DIR'); required for a "
                        "non-loopback --listen")
    p.add_argument("--workers", type=_workers, default=0, metavar="N",
                   help="run N daemon processes: the --listen address becomes a front door "
                        "that redirects each new session to the least busy worker; worker i "
                        "listens on PORT+i (tcp) or PATH.i (ipc) (default 0: one daemon; "
                        f"at most {MAX_WORKERS})")
    defaults = Limits()
    for name in Limits.names():
        p.add_argument("--" + name.replace("_", "-"),
                       type=_count if Limits.kind(name) is int else _amount,
                       default=getattr(defaults, name), metavar="S" if
                       name.endswith("seconds") else "N",
                       help=f"{_LIMIT_HELP[name]} (default %(default)s)")
    return p


# --- subcommands ------------------------------------------------------------------------------
def _address(text):
    """A well-formed ZeroMQ address (argparse type)."""
    from .addresses import check_syntax, AddressError
    try:
        check_syntax(text)
    except AddressError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _ask_daemon(prog, question):
    """Run ``question()`` (a ping or a status request); (its answer, None) or (None, the
    exit status) once the trouble is printed: 2 for a bad setting (the CURVE key variable,
    an address ZeroMQ refuses), 1 for a daemon that does not answer or refuses."""
    import zmq
    from .auth import TokenError
    from .keys import CurveKeyError
    from .ping import StatusError
    try:
        return question(), None
    except (CurveKeyError, zmq.ZMQError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, 2
    except (TimeoutError, StatusError, TokenError, OSError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, 1


def ping_main(argv):
    p = _Parser(prog="adserver ping",
                description="Exit 0 if the daemon at ADDRESS answers a ping (1 if not, 2 for "
                            "bad input). Uses ADSERVER_CURVE_SERVER_KEY for a CURVE daemon.")
    p.add_argument("address", nargs="?", default=DEFAULT_LISTEN, type=_address)
    p.add_argument("--timeout", type=_timeout, default=5.0,
                   help="seconds to wait (default 5)")
    args = p.parse_args(argv)
    from .ping import ping
    info, failed = _ask_daemon("adserver ping", lambda: ping(args.address, args.timeout))
    if failed:
        return failed
    workers = f", {info['workers']} workers" if "workers" in info else ""
    print(f"{args.address}: {info.get('server')} ({info.get('sessions')} session(s){workers})")
    return 0


def status_main(argv):
    p = _Parser(
        prog="adserver status",
        description="Report a daemon's sessions, live handles, bytes held and ops per second "
                    "(exit 1 if it does not answer, 2 for bad input). Answered to loopback "
                    "and ipc peers; others prove the token (--token-file / "
                    "ADSERVER_TOKEN_FILE).")
    p.add_argument("address", nargs="?", default=DEFAULT_LISTEN, type=_address)
    p.add_argument("--timeout", type=_timeout, default=5.0,
                   help="seconds to wait (default 5)")
    p.add_argument("--json", action="store_true", help="print the status_reply as JSON")
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="token file, if the daemon asks for proof (default as for clients)")
    args = p.parse_args(argv)
    from .ping import status, format_status
    info, failed = _ask_daemon("adserver status",
                               lambda: status(args.address, args.timeout, args.token_file))
    if failed:
        return failed
    print(json.dumps(info, indent=2, sort_keys=True) if args.json
          else format_status(args.address, info))
    return 0


def keygen_main(argv):
    p = _Parser(
        prog="adserver keygen",
        description="Write CURVE key pairs into DIR (made 0700 if missing; an existing DIR "
                    "must be yours and writable by you alone): server.key and "
                    "server.key_secret for the daemon (--curve-secret-key), client.key and "
                    "client.key_secret for clients (ADSERVER_CURVE_CLIENT_KEY, optional). "
                    "Every file is 0600. Clients need server.key: "
                    "ADSERVER_CURVE_SERVER_KEY=DIR/server.key.")
    p.add_argument("dir")
    p.add_argument("--force", action="store_true", help="replace existing keys")
    args = p.parse_args(argv)
    from .keys import keygen, CurveKeyError
    try:
        paths = keygen(args.dir, force=args.force)
    except (OSError, CurveKeyError) as exc:
        print(f"adserver keygen: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    d = os.path.abspath(args.dir)
    print(f"\ndaemon:  adserver --listen tcp://HOST:PORT --curve-secret-key {d}/server.key_secret"
          f"\nclients: export ADSERVER_CURVE_SERVER_KEY={d}/server.key", file=sys.stderr)
    return 0


SUBCOMMANDS = {"ping": ping_main, "status": status_main, "keygen": keygen_main}


# --- the daemon -------------------------------------------------------------------------------
def _refuse(message):
    print(f"adserver: {message}", file=sys.stderr)
    return 2


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:       # someone else's process: it exists
        return True
    return True


def _check_start(args):
    """(auth, None) if the daemon may start as ``args`` say; else (None, why not)."""
    from .addresses import AddressError, check_listen, check_syntax, default_auth
    try:
        check_syntax(args.listen)
        auth = args.auth if args.auth != "auto" else default_auth(args.listen)
        check_listen(args.listen, token=auth == "token", curve=bool(args.curve_secret_key))
    except AddressError as exc:
        return None, str(exc)
    if args.parent_pid is not None and not _process_exists(args.parent_pid):
        return None, (f"--parent-pid {args.parent_pid}: no process has that id (the daemon "
                      "would stop at once)")
    return auth, None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    from .logs import setup, event
    setup(args.log_level, args.log_format)
    log = logging.getLogger("adserver")
    auth, why_not = _check_start(args)
    if why_not:
        return _refuse(why_not)
    token = token_path = None
    if auth == "token":
        from .auth import ensure_token, default_token_path, TokenError
        token_path = os.path.abspath(args.token_file or default_token_path())
        try:
            token = ensure_token(token_path)
        except (TokenError, OSError) as exc:
            return _refuse(f"token authentication needs a token file: {exc}; name one with "
                           "--token-file PATH (or run with --auth none on loopback)")
    elif args.listen.startswith("tcp://"):
        event(log, logging.WARNING, "no authentication: any local user can open sessions",
              address=args.listen)
    curve = curve_public = None
    if args.curve_secret_key:
        from .keys import server_options, CurveKeyError
        try:
            curve = server_options(args.curve_secret_key)
        except CurveKeyError as exc:
            return _refuse(str(exc))
        import zmq
        curve_public = curve[zmq.CURVE_PUBLICKEY]
    # numpy's floating-point warnings would print daemon paths into a client's terminal;
    # the values (nan, inf) reach the client, which is where they mean something.
    import warnings
    import numpy as np
    np.seterr(all="ignore")
    warnings.simplefilter("ignore", RuntimeWarning)
    limits = Limits(**{n: getattr(args, n) for n in Limits.names()})
    if args.workers:
        return _run_workers(args, auth, token, token_path, curve, curve_public)
    from .addresses import AddressError
    from .server import Server, install_signal_handlers
    try:
        server = Server(args.listen, limits, parent_pid=args.parent_pid, token=token,
                        curve=curve)
    except AddressError as exc:
        return _refuse(str(exc))
    except Exception as exc:
        return _refuse(f"cannot listen on {args.listen}: {exc}")
    if args.announce:
        print(f"adserver listening on {server.endpoint}", flush=True)
    install_signal_handlers(server)
    server.serve_forever()
    return 0


def _run_workers(args, auth, token, token_path, curve, curve_public):
    from .workers import FrontDoor, worker_addresses
    try:
        worker_addresses(args.listen, args.workers)
    except ValueError as exc:
        return _refuse(str(exc))
    argv = ["--log-level", args.log_level, "--log-format", args.log_format, "--auth", auth]
    if token_path:
        argv += ["--token-file", token_path]
    if args.curve_secret_key:
        argv += ["--curve-secret-key", os.path.abspath(args.curve_secret_key)]
    for name in Limits.names():
        argv += ["--" + name.replace("_", "-"), str(getattr(args, name))]
    front = FrontDoor(args.listen, args.workers, argv, token=token, curve=curve,
                      curve_public=curve_public, parent_pid=args.parent_pid)
    try:
        front.start()
    except ValueError as exc:      # an AddressError from binding the front door
        return _refuse(str(exc))
    except Exception as exc:
        return _refuse(f"cannot start {args.workers} workers behind {args.listen}: {exc}")
    if args.announce:
        print(f"adserver listening on {front.endpoint}", flush=True)
    import signal

    def stop(signum, _frame):
        front.stop()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    front.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
