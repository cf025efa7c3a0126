"""adlua's interactive prompt (``adlua -i``), in the manner of Lua's and Torch7's ``th``.

A line that is an expression has its values printed; a statement runs; a chunk that is not
complete yet (an open ``for`` or ``function``) continues on the next line. An error prints
Lua's message and traceback and the prompt goes on. Prompts are shown only when the input
is a terminal, so that piped input gives clean output.

Ctrl-C, as in Lua's prompt: while a line runs, it stops it (the daemon cancels the batch
under way; the session and its values stay) and the prompt comes back; at the prompt, it
discards the line being typed. End of input (Ctrl-D) leaves.
"""
import sys

PROMPT, CONTINUE = "> ", ">> "


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
    errors = 0
    buffer = []
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
        source = "\n".join(buffer)
        # An expression first (its values are printed), then a statement.
        expression = f"print({source})"
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
            stderr.write(f"adlua: {message}\n")
            errors += 1
    if interactive:
        host.stdout.write("\n")
    return errors
