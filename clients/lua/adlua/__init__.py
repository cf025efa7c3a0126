"""adlua: Lua scripts written for torch-autograd, run against an adserver daemon.

The Lua sources (``autograd``, the ``torch`` mirror) ship in ``adlua/lua``; ``adlua.host``
embeds a lupa Lua runtime and bridges it to a daemon session; ``adlua.cli`` is the
``adlua`` command.
"""
__version__ = "0.1.0"
