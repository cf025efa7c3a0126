"""What the Lua test files share: the engines they run on, a module-scoped host fixture
maker, and a helper that captures what Lua code prints."""
import io

import pytest

from adclient.session import Session
from adlua.host import Host

ENGINES = ["luajit21", "5.4"]


def host_fixture(client, prelude="", daemon="tcp_daemon"):
    """A pytest fixture: one adlua Host per engine for the module, joined to ``daemon``
    as ``client``, with ``prelude`` run once."""
    @pytest.fixture(params=ENGINES, scope="module")
    def lua(request):
        address = request.getfixturevalue(daemon).address
        host = Host(request.param, session=Session(address, client=client))
        if prelude:
            host.lua.execute(prelude)
        yield host
        host.close()
    return lua


def printed(host, code):
    """What ``code`` writes to stdout."""
    out = io.StringIO()
    old, host.stdout = host.stdout, out
    try:
        host.lua.execute(code)
    finally:
        host.stdout = old
    return out.getvalue()
