"""The ``adlua`` command: run Lua scripts written for torch-autograd against adserver."""
import argparse
import os
import sys

from . import __version__
from .host import Host, ENGINES, DEFAULT_ENGINE

INTERRUPTED = 130   # the exit status of a run stopped by Ctrl-C, as shells report SIGINT


def build_parser():
    p = argparse.ArgumentParser(
        prog="adlua",
        description="Run a Lua script with torch-autograd's `autograd` and Torch7's `torch`, "
                    "its tensors and gradients computed by an adserver daemon. With no "
                    "--address (and ADSERVER_ADDRESS unset) a private daemon is started for "
                    "the run.")
    p.add_argument("script", nargs="?",
                   help="Lua file to run ('-': standard input). With no script, -e or -i: "
                        "the prompt on a terminal, else the script piped in")
    p.add_argument("args", nargs=argparse.REMAINDER, help="arguments, as the Lua `arg` table")
    p.add_argument("--lua", default=DEFAULT_ENGINE, choices=sorted(ENGINES),
                   help=f"Lua engine (default {DEFAULT_ENGINE}, Torch7's runtime)")
    p.add_argument("--address", default=None,
                   help="join the daemon at this ZeroMQ address (default: $ADSERVER_ADDRESS, "
                        "else a private daemon)")
    p.add_argument("-e", dest="code", metavar="CODE", help="run this Lua code")
    p.add_argument("-i", dest="interactive", action="store_true",
                   help="an interactive prompt, after the script and -e code if given")
    p.add_argument("--seed", type=int, default=None,
                   help="seed torch's random generator before the script runs")
    p.add_argument("--version", action="version", version=f"adlua {__version__}")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.script is None and args.code is None and not args.interactive:
        # as lua and th: a prompt on a terminal, else the script piped in
        if _stdin_is_terminal():
            args.interactive = True
        else:
            args.script = "-"
    try:
        host = Host(args.lua, args.address)
    except ValueError as exc:
        print(f"adlua: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(host, args)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("adlua: interrupted", file=sys.stderr)
        return INTERRUPTED
    finally:
        sys.stdout.flush()
        host.close()


def _run(host, args):
    """The script, -e code and prompt that ``args`` ask for; the exit status."""
    if args.seed is not None:
        host.lua.globals().torch.manualSeed(args.seed)
    if args.code is not None:
        ok, message = host.run_string(args.code)
        if not ok:
            return _fail(message)
    if args.script == "-":
        ok, message = host.run_string(sys.stdin.read(), "=stdin", args.args)
        if not ok:
            return _fail(message)
    elif args.script is not None:
        if not os.path.exists(args.script):
            print(f"adlua: cannot open {args.script}", file=sys.stderr)
            return 1
        ok, message = host.run_file(args.script, args.args)
        if not ok:
            return _fail(message)
    if args.interactive:
        from .repl import interact
        interact(host)
    return 0


def _stdin_is_terminal():
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _fail(message):
    sys.stdout.flush()
    print(f"adlua: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
