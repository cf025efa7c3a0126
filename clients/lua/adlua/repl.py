"""adlua's interactive prompt (``adlua -i``), in the manner of Lua's and Torch7's ``th``.

A line that is an expression has its values printed (tables as th prints them), and so
does ``=expr``, as in Lua 5.1's prompt; a statement runs; a chunk that is not complete yet
(an open ``for`` or ``function``) continues on the next line. An error prints Lua's message
and the frames of the user's own code (not this library's) and the prompt goes on. The
banner and prompts are shown only when the input is a terminal, so that piped input gives
clean output.

Ctrl-C, as in Lua's prompt: while a line runs, it stops it (the daemon cancels the batch
under way; the session and its values stay) and the prompt comes back; at the prompt, it
discards the line being typed. End of input (Ctrl-D) leaves.
"""
import sys

from . import __version__

PROMPT, CONTINUE = "> ", ">> "


def banner(host):
    """What the prompt says first: the version, the engine, and how to leave."""
    engine = host.lua.eval("jit and jit.version or _VERSION")
    where = host.address or "a private daemon"
    return (f"adlua {__version__} on {engine}, torch and autograd computed by {where}\n"
            f"Ctrl-D (end of input) or os.exit() leaves; Ctrl-C stops a running line\n")


def user_frames(message):
    """Lua's error message with only the traceback lines of the user's code: the library's
    frames (argument checks, the host's xpcall) say nothing about the mistake."""
    lines = str(message).split("\n")
    kept = [lines[0]]
    for line in lines[1:]:
        text = line.strip()
        if text == "stack traceback:" or "/adlua/lua/" in text or text.startswith("[adlua]") \
                or text.startswith("[C]:"):
            continue
        kept.append(line)
    if len(kept) > 1:
        kept.insert(1, "stack traceback:")
    return "\n".join(kept)


def _source(text):
    """Lua 5.1's prompt reads ``=expr`` as ``return expr``: its values are printed."""
    if text.startswith("="):
        return text[1:]
    return text


def _incomplete(message):
    # Lua reports an unfinished chunk as a syntax error "near <eof>" ('<eof>' in 5.1).
    return message is not None and "<eof>" in str(message)


def interact(host, stdin=None, stderr=None):
    """Read, run and print until end of input; returns the number of errors seen."""
    stdin = stdin or sys.stdin
    stderr = stderr or sys.stderr
    interactive = stdin.isatty()
    # Always two results (chunk or nil, message or nil), whatever the engine returns.
    compile_lua = host.lua.eval(
        "function(source) local chunk, message = (loadstring or load)(source, '=stdin') "
        "return chunk, message end")
    # as Lua's prompt: a call that returns nothing (print(x)) prints nothing more
    host.lua.execute("function _ADLUA_SHOW(...) if select('#', ...) > 0 then print(...) end end")
    errors = 0
    buffer = []
    if interactive:
        host.stdout.write(banner(host))
    while True:
        try:
            if interactive:
                host.stdout.write(CONTINUE if buffer else PROMPT)
                host.stdout.flush()
            line = stdin.readline()
        except KeyboardInterrupt:
            host.stdout.write("\n")
            buffer = []
            continue
        if not line:
            break
        buffer.append(line.rstrip("\n"))
        source = _source("\n".join(buffer))
        # An expression first (its values, if any, are printed), then a statement.
        expression = f"_ADLUA_SHOW({source})"
        chunk, _ = compile_lua(expression, "=stdin")
        if chunk is None:
            chunk, message = compile_lua(source, "=stdin")
            if chunk is None:
                if _incomplete(message):
                    continue
                stderr.write(f"adlua: {message}\n")
                errors += 1
                buffer = []
                continue
        else:
            source = expression
        buffer = []
        try:
            ok, message = host.run_string(source, "=stdin")
        except KeyboardInterrupt:
            ok, message = False, "interrupted"
        host.stdout.flush()
        if not ok:
            stderr.write(f"adlua: {user_frames(message)}\n")
            errors += 1
    if interactive:
        host.stdout.write("\n")
    return errors
