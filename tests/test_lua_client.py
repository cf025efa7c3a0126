"""The Lua client in-process: real lupa engines, a real daemon, autograd as the oracle."""
import gc

import numpy as np
import pytest

import autograd
import autograd.numpy as anp

from adproto import Ref
from adclient.session import Session
from adlua.host import Host

ENGINES = ["luajit21", "5.1", "5.4"]


@pytest.fixture(params=ENGINES)
def lua(request, tcp_daemon):
    session = Session(tcp_daemon.address, client="adlua-test")
    host = Host(request.param, session=session)
    host.lua.execute("grad = require 'autograd'")
    yield host
    host.close()


def value(host, tensor):
    """A Lua tensor's value, fetched as a numpy array."""
    (v,), _ = host.session.sync(fetch=[Ref(tensor._h.__adhandle__)])
    return v


def upload(host, array):
    return host.lua.globals().torch.Tensor(host.lua.table_from(array.tolist(), recursive=True))


def test_gradients_of_a_small_net_match_autograd(lua):
    rng = np.random.default_rng(0)
    W, b, x = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4))
    f = lua.lua.eval("""function(W, b, x)
        local function loss(p, x)
            local h = torch.tanh(x * p.W + p.b)
            return torch.sum(torch.cmul(h, h)) / 2 + torch.mean(torch.exp(p.b))
        end
        local g, l = grad(loss)({W = W, b = b}, x)
        return g.W, g.b, l
    end""")
    gW, gb, loss = f(upload(lua, W), upload(lua, b), upload(lua, x))

    def aloss(p):
        h = anp.tanh(anp.dot(x, p[0]) + p[1])
        return anp.sum(h * h) / 2 + anp.mean(anp.exp(p[1]))

    want = autograd.grad(aloss)((W, b))
    np.testing.assert_allclose(value(lua, gW), want[0], rtol=1e-9)
    np.testing.assert_allclose(value(lua, gb), want[1], rtol=1e-9)
    assert loss == pytest.approx(aloss((W, b)), rel=1e-12)


def test_numbers_in_nested_tables_and_unused_parameters(lua):
    out = lua.lua.eval("""function()
        local function f(p) return p.a * p.b[1] + torch.sum(p.t) * p.b[2] end
        local g, v = grad(f)({a = 2, b = {3, 4}, t = torch.ones(2, 2), unused = 5,
                              unusedT = torch.ones(3)})
        return g.a, g.b[1], g.b[2], g.unused, torch.sum(g.t), torch.sum(g.unusedT),
               g.unusedT:size(1), v
    end""")()
    assert tuple(out) == (3, 2, 4, 0, 16, 0, 3, 22)


def test_grad_of_grad(lua):
    # The outer function returns the inner gradient and value, so grad returns the second
    # derivative, then the first derivative and the value.
    out = lua.lua.eval("""function()
        local df = grad(function(x) return x * x * x end)
        return grad(function(x) return df(x) end)(2)
    end""")()
    assert tuple(out) == (12, 12, 8)


def test_torch_semantics(lua):
    t = lua.lua.eval("""function()
        local v = torch.Tensor{1, 2, 3}
        local m = torch.Tensor{{1, 2, 3}, {4, 5, 6}}
        return v * v, (m * v):size(1), (m * m:t()):size(2), m:size(2), m:dim(),
               m:nElement(), torch.type(m), torch.type(m:float()), m[2][3], v:sum(),
               torch.isTensor(m), torch.isTensor(3)
    end""")()
    assert tuple(t) == (14, 2, 2, 3, 2, 6, "torch.DoubleTensor", "torch.FloatTensor", 6, 6,
                        True, False)


def test_in_place_methods_rebind_the_tensor(lua):
    out = lua.lua.eval("""function()
        local x = torch.ones(2, 2)
        local y = x:mul(3)
        x:add(1)
        return torch.sum(x), rawequal(x, y)
    end""")()
    assert tuple(out) == (16, True)


def test_print_uses_torch7_format(lua):
    written = []
    lua.stdout = type("W", (), {"write": lambda self, s: written.append(s)})()
    lua.lua.execute("print(torch.sin(torch.eye(2)))")
    assert "".join(written).splitlines()[:3] == [
        " 0.8415  0.0000", " 0.0000  0.8415", "[torch.DoubleTensor of size 2x2]"]


def test_overloaded_module_gradient_runs_in_lua(lua):
    out = lua.lua.eval("""function()
        local mod = {}
        mod.clip = function(x) return torch.cmin(x, 1) end
        grad.overload.module("mod", mod, function(module)
            module.gradient("clip", {function(g, ans, x) return g * 10 end})
        end)
        local g = grad(function(x) return torch.sum(mod.clip(x * 2)) end)(torch.ones(3))
        return torch.sum(g)
    end""")()
    assert out == 60


def test_missing_gradient_is_reported(lua):
    f = lua.lua.eval("""function()
        local mod = {twice = function(x, y) return x * 2 + y end}
        grad.overload.module("mod", mod, function(module)
            module.gradient("twice", {function(g, ans, x, y) return g * 2 end})
        end)
        return pcall(grad(function(y) return torch.sum(mod.twice(torch.ones(2), y)) end),
                     torch.ones(2))
    end""")
    ok, message = f()
    assert not ok
    assert "missing gradient for argument 2 in function mod.twice" in str(message)


def test_dropped_tensors_are_released_on_every_engine(lua):
    s = lua.session
    s.sync()
    before = s.releases_sent + len(s._releases)
    lua.lua.execute("""
        for i = 1, 200 do local t = torch.zeros(2) + i end
        collectgarbage('collect'); collectgarbage('collect')
    """)
    # Handles that queued ops still name are held until their batch is sent.
    s.flush()
    gc.collect()
    assert s.releases_sent + len(s._releases) - before >= 390   # two tensors per iteration
