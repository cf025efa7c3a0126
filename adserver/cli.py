"""The ``adserver`` command: run the daemon, or ask a running one about itself.

    adserver [--listen ADDRESS] [flags...]        run a daemon (or, --workers N, N of them)
    adserver ping [ADDRESS] [--timeout S]         exit 0 if a daemon answers
    adserver status [ADDRESS] [--json]            sessions, handles, bytes, ops per second
    adserver keygen DIR [--force]                 make CURVE key pairs for a daemon and clients
"""
import argparse
import json
import logging
import os
import sys

from . import __version__
from .limits import Limits, HELP as _LIMIT_HELP

DEFAULT_LISTEN = "tcp://127.0.0.1:5757"

EPILOG = """\
subcommands:
  adserver ping [ADDRESS] [--timeout S]    exit 0 if the daemon at ADDRESS answers
  adserver status [ADDRESS] [--json]       its sessions, handles, bytes and ops per second
  adserver keygen DIR [--force]            write CURVE key pairs (server, client) into DIR

security: TCP listeners require a token by default (--auth auto): the daemon keeps a 256-bit
token in a 0600 file (--token-file; default $ADSERVER_TOKEN_FILE, else
$XDG_RUNTIME_DIR/adserver/token, else ~/.config/adserver/token) and clients prove they hold
it with an HMAC over a challenge; it never crosses the wire. An address that is not loopback
or ipc is refused unless CURVE encryption is on (--curve-secret-key, from 'adserver keygen');
clients then need ADSERVER_CURVE_SERVER_KEY. See protocol/PROTOCOL.md section 15.
"""


def build_parser():
    p = argparse.ArgumentParser(
        prog="adserver",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="An automatic-differentiation daemon. Clients (adclient for Python, adlua "
                    "for Lua) stream traced ops to it over ZeroMQ; it computes values and "
                    "gradients.",
        epilog=EPILOG)
    p.add_argument("--version", action="version", version=f"adserver {__version__}")
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="ADDRESS",
                   help="ZeroMQ address to bind: tcp://HOST:PORT or ipc://PATH "
                        f"(default {DEFAULT_LISTEN}). Other than loopback or ipc only with "
                        "--curve-secret-key")
    p.add_argument("--log-level", default="info",
                   choices=["debug", "info", "warning", "error"],
                   help="log verbosity; logs go to stderr (default info)")
    p.add_argument("--log-format", default="text", choices=["text", "json"],
                   help="log lines as key=value pairs (text) or JSON objects (default text)")
    p.add_argument("--parent-pid", type=int, default=None, metavar="PID",
                   help="stop when process PID exits (used by clients that start a private "
                        "daemon, and by --workers)")
    p.add_argument("--announce", action="store_true",
                   help="once listening, print 'adserver listening on ADDRESS' on stdout (the "
                        "address actually bound, useful with tcp://HOST:*)")
    p.add_argument("--auth", default="auto", choices=["auto", "token", "none"],
                   help="client authentication: token (HMAC challenge with the token file), "
                        "none, or auto: token on tcp://, none on ipc:// (default auto)")
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="the token file, made (0600) if missing (default "
                        "$ADSERVER_TOKEN_FILE, else $XDG_RUNTIME_DIR/adserver/token, else "
                        "~/.config/adserver/token)")
    p.add_argument("--curve-secret-key", default=None, metavar="FILE",
                   help="encrypt every connection with CURVE, using this server secret key "
                        "file (server.key_secret from 'adserver keygen DIR'); required for a "
                        "non-loopback --listen")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="run N daemon processes: the --listen address becomes a front door "
                        "that redirects each new session to the least busy worker; worker i "
                        "listens on PORT+i (tcp) or PATH.i (ipc) (default 0: one daemon)")
    defaults = Limits()
    for name in Limits.names():
        p.add_argument("--" + name.replace("_", "-"), type=Limits.kind(name),
                       default=getattr(defaults, name), metavar="S" if
                       name.endswith("seconds") else "N",
                       help=f"{_LIMIT_HELP[name]} (default %(default)s)")
    return p


# --- subcommands ------------------------------------------------------------------------------
def ping_main(argv):
    p = argparse.ArgumentParser(prog="adserver ping",
                                description="Exit 0 if the daemon at ADDRESS answers a ping "
                                            "(1 if not). Uses ADSERVER_CURVE_SERVER_KEY for a "
                                            "CURVE daemon.")
    p.add_argument("address", nargs="?", default=DEFAULT_LISTEN)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    args = p.parse_args(argv)
    from .ping import ping
    try:
        info = ping(args.address, args.timeout)
    except (TimeoutError, OSError, ValueError) as exc:
        print(f"adserver ping: {exc}", file=sys.stderr)
        return 1
    workers = f", {info['workers']} workers" if "workers" in info else ""
    print(f"{args.address}: {info.get('server')} ({info.get('sessions')} session(s){workers})")
    return 0


def status_main(argv):
    p = argparse.ArgumentParser(
        prog="adserver status",
        description="Report a daemon's sessions, live handles, bytes held and ops per second "
                    "(exit 1 if it does not answer). Answered to loopback and ipc peers; "
                    "others prove the token (--token-file / ADSERVER_TOKEN_FILE).")
    p.add_argument("address", nargs="?", default=DEFAULT_LISTEN)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait (default 5)")
    p.add_argument("--json", action="store_true", help="print the status_reply as JSON")
    p.add_argument("--token-file", default=None, metavar="PATH",
                   help="token file, if the daemon asks for proof (default as for clients)")
    args = p.parse_args(argv)
    from .ping import status, format_status, StatusError
    from .auth import TokenError
    try:
        info = status(args.address, args.timeout, args.token_file)
    except (TimeoutError, StatusError, TokenError, OSError, ValueError) as exc:
        print(f"adserver status: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(info, indent=2, sort_keys=True) if args.json
          else format_status(args.address, info))
    return 0


def keygen_main(argv):
    p = argparse.ArgumentParser(
        prog="adserver keygen",
        description="Write CURVE key pairs into DIR (made 0700): server.key and "
                    "server.key_secret for the daemon (--curve-secret-key), client.key and "
                    "client.key_secret for clients (ADSERVER_CURVE_CLIENT_KEY, optional). "
                    "Every file is 0600. Clients need server.key: "
                    "ADSERVER_CURVE_SERVER_KEY=DIR/server.key.")
    p.add_argument("dir")
    p.add_argument("--force", action="store_true", help="replace existing keys")
    args = p.parse_args(argv)
    from .keys import keygen
    try:
        paths = keygen(args.dir, force=args.force)
    except (OSError, FileExistsError) as exc:
        print(f"adserver keygen: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    d = os.path.abspath(args.dir)
    print(f"\ndaemon:  adserver --listen tcp://HOST:PORT --curve-secret-key {d}/server.key_secret"
          f"\nclients: export ADSERVER_CURVE_SERVER_KEY={d}/server.key", file=sys.stderr)
    return 0


# --- the daemon -------------------------------------------------------------------------------
def _refuse(message):
    print(f"adserver: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("ping", "status", "keygen"):
        return {"ping": ping_main, "status": status_main, "keygen": keygen_main}[argv[0]](argv[1:])
    args = build_parser().parse_args(argv)
    from .logs import setup, event
    setup(args.log_level, args.log_format)
    log = logging.getLogger("adserver")
    from .server import is_local_address
    ipc = args.listen.startswith(("ipc://", "inproc://"))
    auth = args.auth if args.auth != "auto" else ("none" if ipc else "token")
    if not is_local_address(args.listen):
        if not args.curve_secret_key or auth == "none":
            return _refuse(
                f"refusing to listen on {args.listen}: an address other than loopback or "
                "ipc needs CURVE encryption (--curve-secret-key FILE, made by 'adserver "
                "keygen DIR') and token authentication (--auth token)")
    if args.workers < 0:
        return _refuse("--workers must be 0 or more")
    token = token_path = None
    if auth == "token":
        from .auth import ensure_token, default_token_path, TokenError
        token_path = os.path.abspath(args.token_file or default_token_path())
        try:
            token = ensure_token(token_path)
        except (TokenError, OSError) as exc:
            return _refuse(f"token authentication needs a token file: {exc}; name one with "
                           "--token-file PATH (or run with --auth none on loopback)")
    elif not ipc:
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
    from .server import Server, install_signal_handlers
    try:
        server = Server(args.listen, limits, parent_pid=args.parent_pid, token=token,
                        curve=curve)
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


def _is_local(address):   # kept for callers of the old name
    from .server import is_local_address
    return is_local_address(address)


if __name__ == "__main__":
    sys.exit(main())
