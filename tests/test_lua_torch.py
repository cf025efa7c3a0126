"""The `torch` mirror of adlua on real Lua engines against a real daemon.

Every differentiable function the mirror offers is checked twice: its forward value
against numpy, and the gradient that `autograd.grad` computes through it against central
finite differences of the same Lua function (run on perturbed, untraced inputs). The rest
checks Torch7's semantics: 1-based indices, kept dims, in-place methods that rebind the
tensor, writes through views, range inclusivity, cat's default dim, index/gather/scatter,
printing, and comparisons of traced values with Lua numbers on each engine.
"""
import gc
import io

import numpy as np
import pytest

from adproto import Ref
from adclient.session import Session
from adlua.host import Host

ENGINES = ["luajit21", "5.4"]


@pytest.fixture(scope="module", params=ENGINES)
def lua(request, tcp_daemon):
    host = Host(request.param, session=Session(tcp_daemon.address, client="adlua-torch-test"))
    host.lua.execute("grad = require 'autograd'")
    yield host
    host.close()


def run(lua, body, *args):
    """Run a Lua function body (its arguments are a, b, c, ...) and return its results."""
    names = ", ".join("abcdefgh"[:len(args)])
    return lua.lua.eval(f"function({names})\n{body}\nend")(*args)


def tensor(lua, array, typename="DoubleTensor"):
    array = np.asarray(array)
    data = lua.lua.table_from(array.tolist(), recursive=True) if array.ndim else array.item()
    return lua.lua.globals().torch[typename](data)


def value(lua, t):
    """A Lua tensor's value as a numpy array (numbers pass through)."""
    if isinstance(t, (int, float, bool)):
        return t
    handle = lua.lua.eval("function(t) return t._h end")(t)
    (v,), _ = lua.session.sync(fetch=[Ref(handle.__adhandle__)])
    return v


def meta(lua, t):
    """(size, Torch type, trace level) as the Lua tensor records them."""
    size, typename, level = lua.lua.eval(
        "function(t) return t:size():totable(), torch.type(t), t._level end")(t)
    return list(size.values()), typename, level


# --- gradient checks ------------------------------------------------------------------

RNG = np.random.default_rng(7)


def positive(*shape):
    return RNG.uniform(0.3, 1.7, shape)


def signed(*shape):
    # away from 0 and from integers, where abs/floor/round/sign have kinks
    x = RNG.uniform(0.15, 0.85, shape) + RNG.integers(-2, 2, shape)
    return np.where(np.abs(x) < 0.1, x + 0.3, x)


def distinct(*shape):
    # no ties, so that max/min/sort have a unique choice
    n = int(np.prod(shape))
    return (RNG.permutation(n) * 0.37 + RNG.uniform(0, 0.1, n) - n * 0.15).reshape(shape)


def gradcheck(lua, body, x, eps=1e-6, rtol=1e-5, atol=1e-8):
    """autograd.grad of `function(x) <body> end` against central finite differences."""
    f = lua.lua.eval(f"function(x)\n{body}\nend")
    check = lua.lua.eval("function(f, x) return grad(f)(x) end")
    g, v = check(f, tensor(lua, x))
    g = np.asarray(value(lua, g), dtype=np.float64)
    assert g.shape == x.shape
    assert v == pytest.approx(f(tensor(lua, x)), rel=1e-12, abs=1e-12)
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        fd[i] = (f(tensor(lua, up)) - f(tensor(lua, down))) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=max(atol, 1e-6 * np.abs(fd).max()),
                               err_msg=body)


# Lua constants the functions use (made inside each call, so they are never traced)
C = """local c = torch.Tensor{{0.5, -1.5, 2.0}, {1.25, 0.75, -0.5}}
local v3 = torch.Tensor{0.3, -0.7, 1.1}
"""

GRADIENTS = [
    # arithmetic and the operators
    ("add", "return torch.sum(torch.cmul(torch.add(x, c), x))", positive(2, 3)),
    ("add scaled", "return torch.sum(torch.cmul(torch.add(c, 2.5, x), x))", positive(2, 3)),
    ("operators", "return torch.sum(torch.cmul(x + c - 2 * x / 3, -x + 1))", positive(2, 3)),
    ("cmul mul", "return torch.sum(torch.mul(torch.cmul(x, c), 3))", positive(2, 3)),
    ("div cdiv", "return torch.sum(torch.div(torch.cdiv(c, x), 2) + torch.cdiv(x, c + 3))",
     positive(2, 3)),
    ("number / tensor", "return torch.sum(2 / x)", positive(2, 3)),
    ("pow tensor^number", "return torch.sum(torch.pow(x, 3)) + torch.sum(x ^ 2)", signed(2, 3)),
    ("pow number^tensor", "return torch.sum(torch.pow(2, x)) + torch.sum(1.5 ^ x)",
     signed(2, 3)),
    ("pow tensor^tensor", "return torch.sum(torch.pow(x, x))", positive(2, 3)),
    # math
    ("exp log", "return torch.sum(torch.log(torch.exp(x) + 1))", signed(2, 3)),
    ("log1p sqrt", "return torch.sum(torch.log1p(x) + torch.sqrt(x))", positive(2, 3)),
    ("sin cos tan", "return torch.sum(torch.sin(x) + torch.cos(x) + torch.tan(x / 2))",
     signed(2, 3)),
    ("sinh cosh tanh", "return torch.sum(torch.sinh(x) + torch.cosh(x) + torch.tanh(x))",
     signed(2, 3)),
    ("sigmoid abs", "return torch.sum(torch.sigmoid(x) + torch.abs(x))", signed(2, 3)),
    ("clamp", "return torch.sum(torch.cmul(torch.clamp(x, -0.5, 0.6), x))", signed(3, 4)),
    ("cmin cmax", "return torch.sum(torch.cmax(x, c) + torch.cmin(x, 0.4) + "
                  "torch.cmin(x, c))", signed(2, 3)),
    ("neg rsqrt", "return torch.sum(torch.neg(x) + torch.rsqrt(x))", positive(2, 3)),
    # reductions
    ("sum mean", "return torch.sum(x) * torch.mean(x) + torch.sum(torch.exp(x:sum(1)))"
                 " + torch.sum(torch.exp(torch.mean(x, 2)))", signed(2, 3)),
    ("max min", "return torch.max(x) * 2 + torch.min(x)", distinct(2, 3)),
    ("max min dim", "local m = torch.max(x, 1); local n = torch.min(x, 2)\n"
                    "return torch.sum(torch.exp(m)) + torch.sum(n * 3)", distinct(3, 4)),
    ("cumsum", "return torch.sum(torch.cmul(torch.cumsum(x, 2), c)) + "
               "torch.sum(torch.cumsum(x):pow(2))", signed(2, 3)),
    ("cumprod", "return torch.sum(torch.cumprod(x, 2))", positive(2, 3)),
    ("prod", "return torch.prod(x) + torch.sum(torch.prod(x, 1))", positive(2, 3)),
    ("norm", "return torch.norm(x) + torch.norm(x, 1) + torch.norm(x, 3)", signed(2, 3)),
    ("norm dim", "return torch.sum(torch.norm(x, 2, 2)) + torch.sum(torch.norm(x, 3, 1))",
     signed(2, 3)),
    ("dist", "return torch.dist(x, c) + torch.dist(x, c, 1)", signed(2, 3)),
    ("std var", "return torch.std(x) + torch.var(x) + torch.sum(torch.std(x, 2)) + "
                "torch.sum(torch.var(x, 1, true))", signed(3, 4)),
    # linear algebra and `*`
    ("dot", "return torch.dot(x, v3) + x:dot(x)", signed(3)),
    ("mm", "return torch.sum(torch.exp(torch.mm(x, c:t())))", signed(2, 3) / 2),
    ("mv", "return torch.sum(torch.mv(x, v3) ^ 2)", signed(2, 3)),
    ("star dispatch", "return x[1] * x[1] + torch.sum(x * v3) + torch.sum(x * x:t()) + "
                      "torch.sum(2 * x * 0.5)", signed(2, 3)),
    ("ger", "return torch.sum(torch.cmul(torch.ger(x, v3), torch.ger(v3, x)))", signed(3)),
    ("addmm", "return torch.sum(torch.addmm(torch.ones(2, 2), x, c:t())) + torch.sum("
              "torch.addmm(0.5, c, 2, x, torch.ones(3, 3)) ^ 2)", signed(2, 3)),
    ("addmv", "return torch.sum(torch.addmv(v3:narrow(1, 1, 2), x, v3) + "
              "torch.addmv(2, v3:narrow(1, 1, 2), 3, c, x[1]))", signed(2, 3)),
    ("addr", "return torch.sum(torch.addr(c, x:narrow(1, 1, 2), x) ^ 2)", signed(3)),
    ("bmm baddbmm", "local b = x:view(2, 2, 3)\nreturn torch.sum(torch.bmm(b, b:transpose(2, 3))"
                    ") + torch.sum(torch.baddbmm(b:narrow(3, 1, 2), b, b:transpose(2, 3)))",
     signed(4, 3)),
    ("inverse", "return torch.sum(torch.cmul(torch.inverse(x), c:narrow(2, 1, 2)))",
     np.array([[2.0, 0.3], [-0.4, 1.5]])),
    # shapes
    ("view reshape viewAs", "return torch.sum(torch.cmul(x:view(3, 2), c:t())) + "
                            "torch.sum(torch.cmul(torch.reshape(x, 6), c:view(6))) + "
                            "torch.sum(torch.cmul(x:viewAs(c:t()), c:t()))", signed(2, 3)),
    ("view -1", "return torch.sum(torch.cmul(x:view(-1, 2), c:view(3, -1)))", signed(2, 3)),
    ("transpose t", "return torch.sum(torch.cmul(x:t(), c:t())) + "
                    "torch.sum(torch.cmul(torch.transpose(x, 1, 2), c:t() * 2))", signed(2, 3)),
    ("expand expandAs", "return torch.sum(torch.cmul(x:expand(2, 3), c)) + "
                        "torch.sum(torch.cmul(torch.expandAs(x, c), c))", signed(1, 3)),
    ("squeeze", "return torch.sum(torch.cmul(x:squeeze(), v3)) + "
                "torch.sum(torch.cmul(torch.squeeze(x, 1), v3 * 2))", signed(1, 3)),
    ("contiguous clone", "return torch.sum(torch.cmul(x:contiguous():clone(), c))",
     signed(2, 3)),
    ("repeatTensor", "return torch.sum(torch.cmul(x:repeatTensor(2, 2), c:repeatTensor(2, 1)"
                     ":narrow(2, 1, 2)))", signed(2, 1)),
    ("cat", "return torch.sum(torch.cmul(torch.cat(x, c), torch.cat(c, x))) + "
            "torch.sum(torch.cmul(torch.cat({x, c, x}, 1), torch.ones(6, 3) * 2))",
     signed(2, 3)),
    ("select narrow", "return torch.sum(x:select(2, 2) * 3) + torch.sum(torch.exp("
                      "x:narrow(1, 2, 1))) + torch.sum(x:narrow(2, 2, 2):select(1, 1))",
     signed(2, 3)),
    ("indexing", "return x[2][3] * x[1][1] + torch.sum(torch.exp(x[{{1, 2}, {2, 3}}])) + "
                 "x[{2, -1}] + torch.sum(x[1])", signed(2, 3)),
    ("index", "return torch.sum(torch.cmul(x:index(1, torch.LongTensor{3, 1, 3}), "
              "torch.ones(3, 2) + 1))", signed(3, 2)),
    ("gather", "return torch.sum(torch.exp(torch.gather(x, 2, "
               "torch.LongTensor{{3, 1}, {2, 2}})))", signed(2, 3)),
    ("scatter src", "local z = torch.zeros(2, 3)\nreturn torch.sum(torch.exp(torch.scatter("
                    "z, 2, torch.LongTensor{{3, 1}, {2, 3}}, x)))", signed(2, 2)),
    ("scatter into", "return torch.sum(torch.exp(torch.scatter(x, 1, "
                     "torch.LongTensor{{2, 1, 2}}, 0.5)))", signed(2, 3)),
    ("setitem", "local z = torch.zeros(3, 3)\nz[2] = x\nz[{{1}, {1, 2}}] = x:narrow(1, 2, 2)\n"
                "z[3][3] = x[1] * 2\nreturn torch.sum(torch.exp(z))", signed(3)),
    ("setitem into traced", "local y = x * 1\ny[1][2] = 5\ny[{2, {}}] = y[1] * 2\n"
                            "return torch.sum(torch.exp(y))", signed(2, 3)),
    ("in-place methods", "local y = x:clone()\ny:mul(2):add(1):add(2, x):exp():cmul(c):div(3)"
                         ":pow(2):addcmul(0.5, x, x)\nreturn y:sum()", signed(2, 3)),
    ("in-place view", "local y = x * 1\ny:narrow(2, 1, 1):mul(3)\ny[2]:add(x[1])\n"
                      "return torch.sum(y ^ 2)", signed(2, 3)),
    ("in-place through shared views", "local y = x * 1\ny:t():mul(2)\n"
                                      "y:view(-1):narrow(1, 2, 3):add(x:view(-1):narrow(1, 1, 3))\n"
                                      "y:transpose(1, 2)[2][1] = x[1][1] * 3\n"
                                      "return torch.sum(torch.cmul(y, y)) + "
                                      "torch.sum(torch.exp(y:t()))", signed(2, 3)),
    ("traced values written through views", "local z = torch.zeros(3, 2)\nlocal w = z:t()\n"
                                            "w:copy(x)\nz:view(6):narrow(1, 1, 2):mul(3)\n"
                                            "w[2]:add(torch.sum(x))\n"
                                            "return torch.sum(torch.exp(z)) + torch.sum(w[1])",
     signed(2, 3)),
    ("writes through an expanded view", "local z = torch.zeros(1, 3)\n"
                                        "z:expand(2, 3):copy(torch.cat(x, x * 2, 1))\n"
                                        "return torch.sum(torch.exp(z))", signed(1, 3)),
    ("stale views follow the storage's level", "local z = torch.zeros(2, 3)\nlocal v = z:t()\n"
                                               "z[1][1] = 1\nz:narrow(1, 2, 1):copy(x:view(1, 3))\n"
                                               "return torch.sum(torch.pow(v, 2))", signed(3)),
    ("in-place on views of the argument", "x:view(6):mul(2)\nx:t()[1]:add(1)\n"
                                          "x:unsqueeze(1):expand(2, 2, 3)[1]:pow(2)\n"
                                          "return torch.sum(torch.cmul(x, x))", signed(2, 3)),
    ("copy typeAs", "local y = torch.zeros(3, 2)\ny:copy(x)\nreturn torch.sum(torch.cmul(y, "
                    "c:t())) + torch.sum(torch.typeAs(x, c) * 2)", signed(2, 3)),
    ("fill with traced", "local y = torch.zeros(2, 2)\ny:fill(torch.sum(x))\n"
                         "return torch.sum(y) * torch.sum(y)", signed(3)),
    ("double", "return torch.sum(torch.cmul(x:double(), c)) + "
               "torch.sum(torch.cmul(x:type('torch.DoubleTensor'), c))", signed(2, 3)),
    # zero-gradient functions leave only the other paths
    ("sort", "local v = torch.sort(x, 2)\nlocal w = torch.sort(x, 1, true)\n"
             "return torch.sum(torch.cmul(v, c)) + torch.sum(torch.cmul(w, c * 2))",
     distinct(2, 3)),
    ("maskedSelect maskedFill", "local m = torch.gt(c, 0)\nlocal y = x * 1\n"
                                "y:maskedFill(torch.lt(c, 0), 2)\nreturn torch.sum("
                                "torch.exp(x:maskedSelect(m))) + torch.sum(torch.cmul(y, y))",
     signed(2, 3)),
    ("indexAdd indexCopy", "local y = torch.zeros(3, 2)\ny:indexAdd(1, torch.LongTensor{1, 1,"
                           " 3}, x)\nlocal z = torch.zeros(4, 2):indexCopy(1, "
                           "torch.LongTensor{4, 2, 1}, x * 2)\nreturn torch.sum(torch.exp(y))"
                           " + torch.sum(z ^ 2)", signed(3, 2)),
    ("atan2 addcdiv lerp", "return torch.sum(torch.atan2(x, c) + torch.addcdiv(c, 0.5, x, c)"
                           " + torch.lerp(c, x, 0.3))", signed(2, 3)),
    ("cross diag trace", "return torch.sum(torch.cmul(torch.cross(x, c), c)) + "
                         "torch.sum(torch.diag(x:narrow(2, 1, 2)) ^ 2) + torch.trace(x * "
                         "c:t())", signed(2, 3)),
    ("permute unsqueeze split", "local p = x:view(1, 2, 3):permute(3, 1, 2)\n"
                                "local parts = torch.split(x, 2, 2)\nreturn torch.sum("
                                "torch.cmul(p:squeeze(), c:t())) + torch.sum(torch.exp("
                                "parts[2])) + torch.sum(x:unsqueeze(2):select(2, 1))",
     signed(2, 3)),
    ("zero gradients", "local m = torch.gt(x, 0):double() + torch.lt(x, 0.5):double() + "
                       "torch.le(x, c):double() + torch.ge(x, 1):double() + "
                       "torch.eq(x, x):double() + torch.ne(x, c):double()\n"
                       "return torch.sum(torch.cmul(m, x)) + torch.sum(torch.cmul(torch.floor(x)"
                       " + torch.ceil(x) + torch.round(x) + torch.sign(x), x))", signed(2, 3)),
    ("comparisons in branches", "local s = torch.sum(x)\nif s > 0 then return s * 2 end\n"
                                "if -1 < s then return s * 3 end\nreturn s", signed(2, 3)),
]


@pytest.mark.parametrize("name,body,x", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_gradient_matches_finite_differences(lua, name, body, x):
    gradcheck(lua, C + body, x)


def test_type_conversions_pass_the_gradient_through_as_torch_autograd(lua):
    # torch-autograd's gradient of x:long() is g (typeAs x), not the zero of a step
    g = run(lua, "return (grad(function(x) return torch.sum(x:long()) end)(a))",
            tensor(lua, [1.5, 2.5]))
    np.testing.assert_array_equal(value(lua, g), [1, 1])
    # through float32 (finite differences would only see float32's rounding)
    g = run(lua, "return (grad(function(x) return torch.sum(torch.cmul(x:float(), "
                 "torch.FloatTensor{2, 3})) end)(a))", tensor(lua, [1.5, 2.5]))
    np.testing.assert_array_equal(value(lua, g), [2, 3])


def test_mixed_comparisons_pick_the_branch_both_ways(lua):
    f = lua.lua.eval("""function(x)
        local s = torch.sum(x)
        local r = s * 0
        if s > 0 then r = r + s * 2 else r = r + s * 3 end
        if 0 < s then r = r + 1 end
        if s >= 1 and torch.sum(x) <= 100 then r = r + torch.sum(torch.exp(x)) end
        if x[1] > x[2] then r = r + x[1] end
        if x[1] <= x[2] then r = r - x[2] end
        return r
    end""")
    d = lua.lua.eval("function(f, x) return grad(f)(x) end")
    for x in (np.array([3.0, 1.0, 2.0]), np.array([-3.0, 1.0, 1.5])):
        g, v = d(f, tensor(lua, x))
        s = x.sum()
        want_v = (s * 2 if s > 0 else s * 3) + (1 if s > 0 else 0) + \
            (np.exp(x).sum() if 1 <= s <= 100 else 0) + (x[0] if x[0] > x[1] else -x[1])
        want_g = np.full(3, 2.0 if s > 0 else 3.0) + (np.exp(x) if 1 <= s <= 100 else 0)
        want_g[0 if x[0] > x[1] else 1] += 1 if x[0] > x[1] else -1
        assert v == pytest.approx(want_v)
        np.testing.assert_allclose(value(lua, g), want_g)


def test_traced_values_behave_like_numbers(lua):
    out = run(lua, """
        local seen = {}
        grad(function(x)
            local s = torch.sum(x)
            seen = {torch.isTensor(s), torch.type(s), s:dim(), tostring(s), 'v=' .. s,
                    s == s * 1, s ~= s + 1}
            return s
        end)(torch.Tensor{1, 2})
        return (unpack or table.unpack)(seen)""")
    assert tuple(out) == (True, "torch.DoubleTensor", 0, "3", "v=3", True, True)


def test_luajit_compares_traced_values_with_numbers_for_equality(lua):
    if lua.engine != "luajit21":
        pytest.skip("Lua 5.2+ never calls __eq for a table and a number")
    out = run(lua, """
        local r
        grad(function(x) local s = torch.sum(x); r = {s == 3, s == 4, 3 == s}; return s end)(
            torch.Tensor{1, 2})
        return r[1], r[2], r[3]""")
    assert tuple(out) == (True, False, True)


@pytest.mark.parametrize("engine", ["5.1"])
def test_lua51_names_the_mixed_comparison_it_cannot_do(engine, tcp_daemon):
    host = Host(engine, session=Session(tcp_daemon.address))
    try:
        host.lua.execute("grad = require 'autograd'")
        ok, message = host.lua.eval("""function()
            return pcall(grad(function(x) if torch.sum(x) > 0 then return torch.sum(x) end
                                          return torch.sum(x) end), torch.ones(2))
        end""")()
        assert not ok and "attempt to compare number with table" in message
        # two traced values, and untraced ones, compare on every engine
        assert host.lua.eval("""function()
            local g = grad(function(x) if torch.sum(x) > x[1] then return torch.sum(x) * 2 end
                                       return torch.sum(x) end)(torch.ones(2))
            return torch.sum(g), torch.sum(torch.ones(2)) > 1
        end""")() == (4, True)
    finally:
        host.close()


# --- forward values against numpy ------------------------------------------------------

X = np.array([[0.5, -1.2, 2.0], [3.1, 0.0, -0.4]])
Y = np.array([[1.5, 0.2, -2.0], [0.1, 4.0, 0.4]])
V = np.array([1.0, -2.0, 0.5])

VALUES = [
    ("torch.add(a, b)", lambda: X + Y),
    ("torch.add(a, 2, b)", lambda: X + 2 * Y),
    ("a - b * 2 + 1", lambda: X - Y * 2 + 1),
    ("-a / 4", lambda: -X / 4),
    ("torch.cmul(a, b)", lambda: X * Y),
    ("torch.cdiv(a, b)", lambda: X / Y),
    ("torch.pow(torch.abs(a), 1.5)", lambda: np.abs(X) ** 1.5),
    ("torch.pow(2, a)", lambda: 2.0 ** X),
    ("a ^ 2", lambda: X ** 2),
    ("torch.exp(a)", lambda: np.exp(X)),
    ("torch.log(torch.abs(a) + 1)", lambda: np.log(np.abs(X) + 1)),
    ("torch.log1p(torch.abs(a))", lambda: np.log1p(np.abs(X))),
    ("torch.sqrt(torch.abs(a))", lambda: np.sqrt(np.abs(X))),
    ("torch.sin(a) + torch.cos(a) + torch.tan(a / 4)", lambda: np.sin(X) + np.cos(X) +
     np.tan(X / 4)),
    ("torch.sinh(a) + torch.cosh(a) + torch.tanh(a)", lambda: np.sinh(X) + np.cosh(X) +
     np.tanh(X)),
    ("torch.sigmoid(a)", lambda: 1 / (1 + np.exp(-X))),
    ("torch.abs(a)", lambda: np.abs(X)),
    ("torch.sign(a)", lambda: np.sign(X)),
    ("torch.floor(a) + torch.ceil(a)", lambda: np.floor(X) + np.ceil(X)),
    ("torch.round(torch.Tensor{0.5, 1.5, -0.5, -2.5, 2.4})",
     lambda: np.array([1.0, 2.0, -1.0, -3.0, 2.0])),       # halves away from zero
    ("torch.clamp(a, -1, 1)", lambda: np.clip(X, -1, 1)),
    ("torch.cmax(a, b)", lambda: np.maximum(X, Y)),
    ("torch.cmin(a, 0)", lambda: np.minimum(X, 0)),
    ("torch.sum(a, 2)", lambda: X.sum(1, keepdims=True)),
    ("torch.mean(a, 1)", lambda: X.mean(0, keepdims=True)),
    ("torch.prod(a, 2)", lambda: X.prod(1, keepdims=True)),
    ("torch.cumsum(a, 2)", lambda: X.cumsum(1)),
    ("torch.cumsum(a)", lambda: X.cumsum(0)),          # Torch7's default dim: the first
    ("torch.std(a, 2)", lambda: X.std(1, ddof=1, keepdims=True)),
    ("torch.var(a, 1, true)", lambda: X.var(0, keepdims=True)),
    ("torch.norm(a, 2, 2)", lambda: np.linalg.norm(X, axis=1, keepdims=True)),
    ("torch.norm(a, 1, 1)", lambda: np.abs(X).sum(0, keepdims=True)),
    ("torch.mm(a, b:t())", lambda: X @ Y.T),
    ("torch.mv(a, c)", lambda: X @ V),
    ("torch.ger(c, c)", lambda: np.outer(V, V)),
    ("a * b:t()", lambda: X @ Y.T),
    ("a * c", lambda: X @ V),
    ("torch.addmm(torch.ones(2, 2), a, b:t())", lambda: 1 + X @ Y.T),
    ("torch.addmm(2, torch.ones(2, 2), 3, a, b:t())", lambda: 2 + 3 * X @ Y.T),
    ("torch.addmv(torch.ones(2), a, c)", lambda: 1 + X @ V),
    ("torch.bmm(a:view(1, 2, 3), b:view(1, 3, 2))", lambda: (X @ Y.reshape(3, 2))[None]),
    ("torch.inverse(torch.Tensor{{2, 1}, {1, 3}})", lambda: np.linalg.inv([[2, 1], [1, 3]])),
    ("torch.range(1, 4)", lambda: np.array([1.0, 2, 3, 4])),         # both ends included
    ("torch.range(0, 1, 0.25)", lambda: np.linspace(0, 1, 5)),
    ("torch.range(3, 1, -1)", lambda: np.array([3.0, 2, 1])),
    ("torch.linspace(-1, 1, 5)", lambda: np.linspace(-1, 1, 5)),
    ("torch.eye(2, 3)", lambda: np.eye(2, 3)),
    ("torch.zeros(2, 3) + torch.ones(2, 3)", lambda: np.ones((2, 3))),
    ("torch.cat(a, b)", lambda: np.concatenate([X, Y], 1)),          # the last dim
    ("torch.cat(a, b, 1)", lambda: np.concatenate([X, Y], 0)),
    ("torch.cat({a, b, a}, 2)", lambda: np.concatenate([X, Y, X], 1)),
    ("torch.cat(c, c, 2)", lambda: np.stack([V, V], 1)),              # a new last dim
    ("torch.cat(torch.Tensor(), c)", lambda: V),                     # empty ones skipped
    ("a:narrow(2, 2, 2)", lambda: X[:, 1:3]),
    ("a:select(2, 3)", lambda: X[:, 2]),
    ("a:sub(1, 2, 2, -1)", lambda: X[:, 1:]),
    ("a[2]", lambda: X[1]),
    ("a[{{}, {2, 3}}]", lambda: X[:, 1:3]),
    ("a[{2, {1, -2}}]", lambda: X[1, 0:2]),
    ("a[{{-1}, {-2}}]", lambda: X[1:2, 1:2]),
    ("a:index(2, torch.LongTensor{3, 1, 3})", lambda: X[:, [2, 0, 2]]),
    ("a:index(1, torch.LongTensor{2})", lambda: X[[1]]),
    ("a[torch.LongTensor{2, 1}]", lambda: X[[1, 0]]),
    ("a:gather(1, torch.LongTensor{{2, 1, 2}})", lambda: X[[1, 0, 1], [0, 1, 2]][None]),
    ("a:gather(2, torch.LongTensor{{3, 3}, {1, 2}})",
     lambda: np.array([[X[0, 2], X[0, 2]], [X[1, 0], X[1, 1]]])),
    ("a:view(3, 2)", lambda: X.reshape(3, 2)),
    ("a:view(-1)", lambda: X.reshape(-1)),
    ("a:t()", lambda: X.T),
    ("a:transpose(1, 2)", lambda: X.T),
    ("a:view(1, 2, 3):permute(3, 1, 2)", lambda: X.reshape(1, 2, 3).transpose(2, 0, 1)),
    ("a:view(2, 1, 3):squeeze()", lambda: X),
    ("a:view(2, 1, 3):squeeze(2)", lambda: X),
    ("a:view(2, 1, 3):squeeze(1)", lambda: X.reshape(2, 1, 3)),     # size 2: unchanged
    ("c:view(1, 3):expand(2, 3)", lambda: np.broadcast_to(V, (2, 3))),
    ("c:repeatTensor(2, 2)", lambda: np.tile(V, (2, 2))),
    ("torch.diag(c)", lambda: np.diag(V)),
    ("torch.triu(a)", lambda: np.triu(X)),
    ("a:maskedSelect(torch.gt(a, 0))", lambda: X[X > 0]),
    ("torch.lt(a, b)", lambda: (X < Y).astype(np.uint8)),
    ("a:ge(0.5)", lambda: (X >= 0.5).astype(np.uint8)),
    ("torch.LongTensor{7, -7}:div(2)", lambda: np.array([3, -3])),    # C's truncation
    ("torch.LongTensor{7, 8} / torch.LongTensor{2, 3}", lambda: np.array([3, 2])),
    ("torch.LongTensor{1, 2} * 3 + 1", lambda: np.array([4, 7])),
    ("torch.LongTensor{1, 2} * 0.5", lambda: np.array([0.5, 1.0])),
]


@pytest.mark.parametrize("expr,want", VALUES, ids=[v[0] for v in VALUES])
def test_values_match_numpy(lua, expr, want):
    got = run(lua, f"return {expr}", tensor(lua, X), tensor(lua, Y), tensor(lua, V))
    np.testing.assert_allclose(value(lua, got), want(), rtol=1e-12, atol=1e-12, err_msg=expr)
    size, _, _ = meta(lua, got)
    assert size == list(np.shape(want())), expr      # the size inferred locally is right


NUMBERS = [
    ("torch.sum(a)", X.sum()), ("a:mean()", X.mean()), ("torch.max(a)", X.max()),
    ("torch.min(a)", X.min()), ("torch.prod(a)", X.prod()), ("torch.std(a)", X.std(ddof=1)),
    ("torch.var(a)", X.var(ddof=1)), ("torch.norm(a)", np.linalg.norm(X)),
    ("torch.norm(a, 3)", (np.abs(X) ** 3).sum() ** (1 / 3)), ("torch.dot(a, b)", (X * Y).sum()),
    ("c * c", V @ V), ("torch.trace(a:narrow(2, 1, 2))", X[0, 0] + X[1, 1]),
    ("a[2][1]", X[1, 0]), ("a[{1, -1}]", X[0, -1]), ("c[3]", V[2]),
    ("torch.dist(a, b)", np.linalg.norm(X - Y)),
    ("torch.exp(2)", np.exp(2)), ("torch.log(3)", np.log(3)), ("torch.log1p(1e-12)", 1e-12),
    ("torch.sqrt(2)", np.sqrt(2)), ("torch.tanh(0.5)", np.tanh(0.5)),
    ("torch.sinh(0.5)", np.sinh(0.5)), ("torch.cosh(0.5)", np.cosh(0.5)),
    ("torch.sigmoid(1)", 1 / (1 + np.exp(-1))), ("torch.abs(-2)", 2), ("torch.floor(2.5)", 2),
    ("torch.round(-2.5)", -3), ("torch.sign(-0.1)", -1), ("torch.pow(2, 10)", 1024),
    ("torch.clamp(5, 0, 1)", 1), ("torch.cmax(1, 2)", 2), ("torch.sum(torch.ByteTensor{1, 1})", 2),
    ("torch.squeeze(torch.Tensor{{7}})", 7), ("torch.sum(torch.LongTensor{2, 3})", 5),
    # Torch7 reduces FloatTensors in double precision
    ("torch.FloatTensor{0.1, 0.2}:sum()", float(np.float32(0.1)) + float(np.float32(0.2))),
    ("torch.FloatTensor{1, 0, 1}:mean()", 2 / 3),
    ("torch.mean(torch.LongTensor{1, 2})", 1.5),
    ("torch.gt(a, 0):sum()", 3), ("(1 - torch.gt(a, 0)):sum()", 3),
]


@pytest.mark.parametrize("expr,want", NUMBERS, ids=[n[0] for n in NUMBERS])
def test_number_results_are_lua_numbers(lua, expr, want):
    got = run(lua, f"local r = {expr}\nreturn type(r), r", tensor(lua, X), tensor(lua, Y),
              tensor(lua, V))
    assert got[0] == "number", expr
    assert got[1] == pytest.approx(want, rel=1e-12, abs=1e-15), expr


# --- Torch7's semantics -----------------------------------------------------------------

def test_max_and_min_with_a_dim_give_values_and_one_based_long_indices(lua):
    x = np.array([[1.0, 5.0, 3.0], [7.0, 2.0, 7.0]])
    vals, idx = run(lua, "return torch.max(a, 2)", tensor(lua, x))
    np.testing.assert_array_equal(value(lua, vals), [[5], [7]])
    np.testing.assert_array_equal(value(lua, idx), [[2], [1]])     # the first of a tie
    assert meta(lua, idx)[:2] == ([2, 1], "torch.LongTensor")
    vals, idx = run(lua, "return a:min(1)", tensor(lua, x))
    np.testing.assert_array_equal(value(lua, vals), [[1, 2, 3]])
    np.testing.assert_array_equal(value(lua, idx), [[1, 2, 1]])
    vals, idx = run(lua, "return torch.sort(a, 2, true)", tensor(lua, x))
    np.testing.assert_array_equal(value(lua, vals), [[5, 3, 1], [7, 7, 2]])
    np.testing.assert_array_equal(value(lua, idx), [[2, 3, 1], [1, 3, 2]])
    # with a tensor second argument, max is Torch7's cmax
    m = run(lua, "return torch.max(a, a * 0 + 4)", tensor(lua, x))
    np.testing.assert_array_equal(value(lua, m), np.maximum(x, 4))


def test_in_place_methods_rebind_and_return_the_same_table(lua):
    out = run(lua, """
        local x = torch.ones(2, 2)
        local same = rawequal(x:mul(3), x) and rawequal(x:add(1), x) and rawequal(x:exp(), x)
            and rawequal(x:fill(2), x) and rawequal(x:zero(), x) and rawequal(x:add(2, x), x)
            and rawequal(x:clamp(0, 1), x) and rawequal(x:copy(torch.eye(2)), x)
            and rawequal(x:cmul(torch.ones(2, 2) * 3), x) and rawequal(x:div(3), x)
        local y = torch.ones(3)
        local s = y:sum()               -- not in place: a number
        local t = y:view(3, 1)          -- not in place: a new tensor
        local z = torch.exp(y)          -- functional: y unchanged
        y:add(torch.ones(3), torch.ones(3) * 4)   -- y = a + b
        return same, torch.sum(x), s, y:dim(), t:dim(), torch.sum(z), torch.sum(y)""")
    assert out[0] is True
    assert out[1] == 2 and out[2] == 3 and out[3] == 1 and out[4] == 2
    assert out[5] == pytest.approx(3 * np.e) and out[6] == 15


def test_writes_through_views_reach_the_tensor(lua):
    x = run(lua, """
        local x = torch.zeros(3, 4)
        x[1][2] = 5                      -- a row view's element
        x[2] = 1                         -- a whole row
        x[{3, {2, 3}}] = torch.Tensor{7, 8}
        x[{{1, 2}, 4}] = -1
        x:narrow(2, 1, 1):add(10)        -- an in-place method on a view
        local row = x:select(1, 3)
        row[4] = 9
        x[x:gt(8)] = 100                 -- a mask
        return x""")
    want = np.zeros((3, 4))
    want[0, 1] = 5
    want[1] = 1
    want[2, 1:3] = [7, 8]
    want[0:2, 3] = -1
    want[:, 0] += 10
    want[2, 3] = 9
    want[want > 8] = 100
    np.testing.assert_array_equal(value(lua, x), want)


def test_views_of_views_write_to_the_first_tensor(lua):
    x = run(lua, """
        local x = torch.zeros(4, 5)
        local inner = x:narrow(1, 2, 3):narrow(2, 2, 3)[2]   -- x[3][2..4], via two views
        collectgarbage('collect')                            -- the middle views are gone
        inner:fill(7)
        x:sub(1, 2, 4, 5):select(2, 1)[2] = 9                -- x[2][4]
        x[{{3, 4}, {}}][{2, {-2, -1}}] = 5                   -- x[4][4..5]
        local y = x * 1
        for i = 1, 3 do y = y:narrow(1, 1, 3) end            -- a chain of views
        y[1][1] = -1
        return x""")
    want = np.zeros((4, 5))
    want[2, 1:4] = 7
    want[1, 3] = 9
    want[3, 3:5] = 5
    np.testing.assert_array_equal(value(lua, x), want)


# Writes through every kind of Torch7 view reach the tensor: x starts as
# {{1, 2, 3}, {4, 5, 6}} and the statement writes through a view of it.
X6 = np.array([[1.0, 2, 3], [4, 5, 6]])


def _set(a, index, v):
    a = a.copy()
    a[index] = v
    return a


VIEW_WRITES = [
    ("x:t():fill(1)", np.ones((2, 3))),
    ("x:t():zero()", np.zeros((2, 3))),
    ("x:narrow(2, 2, 1):fill(5)", _set(X6, (slice(None), 1), 5)),
    ("x:select(1, 2):copy(torch.Tensor{7, 8, 9})", _set(X6, 1, [7, 8, 9])),
    ("x[1]:fill(3)", _set(X6, 0, 3)),
    ("x:view(6):add(1)", X6 + 1),
    ("x:view(3, 2):mul(2)", X6 * 2),
    ("x:viewAs(torch.zeros(3, 2))[3][2] = 9", _set(X6, (1, 2), 9)),
    ("x:view(-1)[4] = 0", _set(X6, (1, 0), 0)),
    ("x:transpose(1, 2)[1][2] = 4", _set(X6, (1, 0), 4)),
    ("x:t()[2] = torch.Tensor{8, 9}", _set(X6, (slice(None), 1), [8, 9])),
    ("x:t()[{{2, 3}, 1}] = 0", _set(X6, (0, slice(1, 3)), 0)),
    ("x:t()[{{}, 2}] = -1", _set(X6, 1, -1)),
    ("x:permute(2, 1):select(1, 3):fill(-1)", _set(X6, (slice(None), 2), -1)),
    ("x:sub(1, 2, 2, 3):zero():add(7)", _set(X6, (slice(None), slice(1, 3)), 7)),
    ("x:view(3, 2):narrow(1, 2, 2):t():fill(0)", _set(X6, (slice(None), slice(None)),
                                                      [[1, 2, 0], [0, 0, 0]])),
    ("x:view(1, 2, 3):squeeze(1):t():mul(10)", X6 * 10),
    ("x:unsqueeze(3):select(3, 1)[2][3] = 0", _set(X6, (1, 2), 0)),
    ("x:t():t()[1][1] = 0", _set(X6, (0, 0), 0)),
    ("x:split(2, 2)[2]:fill(4)", _set(X6, (slice(None), 2), 4)),
    ("x:chunk(2, 1)[2]:zero()", _set(X6, 1, 0)),
    ("x:narrow(1, 1, 1):expand(4, 3):copy(torch.range(1, 12):view(4, 3))",
     _set(X6, 0, [10, 11, 12])),
    ("x:select(1, 2):view(1, 3):expand(2, 3):fill(0)", _set(X6, 1, 0)),
    ("x:select(2, 1):expandAs(torch.zeros(2, 2, 2)):fill(0)", _set(X6, (slice(None), 0), 0)),
    ("x:view(2, 1, 3):expand(2, 4, 3)[2][3]:fill(0)", _set(X6, 1, 0)),
    ("x:narrow(1, 2, 1):expand(3, 3):narrow(2, 2, 2)[3]:copy(torch.Tensor{8, 9})",
     _set(X6, (1, slice(1, 3)), [8, 9])),
    ("x:view(1, 6):expand(2, 6)[{{1, 2}, {2, 3}}]:copy(torch.Tensor{{7, 8}, {9, 10}})",
     _set(X6, (0, slice(1, 3)), [9, 10])),
    ("x:t():indexAdd(1, torch.LongTensor{1, 3}, torch.ones(2, 2))",
     X6 + np.array([[1, 0, 1], [1, 0, 1]])),
    ("x:t():indexFill(2, torch.LongTensor{2}, 0)", _set(X6, 1, 0)),
    ("x:t():maskedFill(torch.ByteTensor{{1, 0}, {0, 0}, {0, 1}}, 0)",
     _set(_set(X6, (0, 0), 0), (1, 2), 0)),
    ("x:t():scatter(1, torch.LongTensor{{3, 1}}, 0)", _set(_set(X6, (0, 2), 0), (1, 0), 0)),
    ("x:t():apply(function(v) return v * 2 end)", X6 * 2),
    ("x:t():clamp(2, 5)", np.clip(X6, 2, 5)),
    ("x:view(6):exp():log():add(0.5)", X6 + 0.5),
    ("x:t():addmm(torch.ones(3, 2), torch.eye(2))", X6 + 1),
    ("torch.add(x:t(), torch.ones(3, 2), torch.ones(3, 2))", np.full((2, 3), 2.0)),
    ("torch.cat(x:t(), torch.zeros(1, 2), torch.ones(2, 2), 1)",
     np.array([[0.0, 1, 1], [0, 1, 1]])),
    ("x:t():copy(torch.range(1, 6))", np.array([[1.0, 3, 5], [2, 4, 6]])),
    ("x:t()[{{1, 2}}]:resize(2, 2):fill(0)", _set(X6, (slice(None), slice(0, 2)), 0)),
    ("torch.Tensor(x:t()):fill(2)", np.full((2, 3), 2.0)),
    ("torch.Tensor():set(x:t()):select(1, 1):fill(0)", _set(X6, (slice(None), 0), 0)),
]


@pytest.mark.parametrize("stmt,want", VIEW_WRITES, ids=[w[0] for w in VIEW_WRITES])
def test_writes_through_shared_views_reach_the_tensor(lua, stmt, want):
    x, typename = run(lua, f"""
        local x = torch.Tensor{{{{1, 2, 3}}, {{4, 5, 6}}}}
        {stmt}
        collectgarbage('collect')
        return x, torch.type(x)""")
    np.testing.assert_array_equal(value(lua, x), want)
    assert typename == "torch.DoubleTensor"


def test_writes_through_views_from_the_brief_start_from_zeros(lua):
    out = run(lua, """
        local a = torch.zeros(2, 3); a:t():fill(1)
        local b = torch.zeros(2, 3); b:narrow(2, 2, 1):fill(5)
        local c = torch.zeros(2, 3); c:select(1, 2):copy(torch.Tensor{7, 8, 9})
        local d = torch.zeros(2, 3); d[1]:fill(3)
        local e = torch.zeros(2, 3); e:view(6):add(1)
        local f = torch.zeros(2, 3); f:transpose(1, 2)[1][2] = 4
        return a, b, c, d, e, f""")
    a, b, c, d, e, f = (value(lua, t) for t in out)
    np.testing.assert_array_equal(a, np.ones((2, 3)))
    np.testing.assert_array_equal(b, [[0, 5, 0], [0, 5, 0]])
    np.testing.assert_array_equal(c, [[0, 0, 0], [7, 8, 9]])
    np.testing.assert_array_equal(d, [[3, 3, 3], [0, 0, 0]])
    np.testing.assert_array_equal(e, np.ones((2, 3)))
    np.testing.assert_array_equal(f, [[0, 0, 0], [4, 0, 0]])


def test_every_view_sees_every_write(lua):
    out = run(lua, """
        local x = torch.zeros(2, 3)
        local row, col, flat, t = x[2], x:select(2, 3), x:view(6), x:t()
        local tt = t:view(6)                      -- a view of a view
        x:fill(1)                                 -- through the tensor itself
        row:add(1)                                -- x[2] = 2
        t[3][1] = 5                               -- x[1][3]
        flat:narrow(1, 2, 1):fill(-1)             -- x[1][2]
        local seen = {torch.sum(row), torch.sum(col), col[1], tt[5]}
        x[{2, 1}] = 9                             -- through x[{...}] on the tensor
        tt:narrow(1, 6, 1):mul(10)                -- x[2][3], through t:view(6)
        return x, row, col, flat, t, tt, seen[1], seen[2], seen[3], seen[4]""")
    want = np.array([[1.0, -1, 5], [9, 2, 20]])
    x, row, col, flat, t, tt = (value(lua, v) for v in out[:6])
    np.testing.assert_array_equal(x, want)
    np.testing.assert_array_equal(row, want[1])
    np.testing.assert_array_equal(col, want[:, 2])
    np.testing.assert_array_equal(flat, want.reshape(6))
    np.testing.assert_array_equal(t, want.T)
    np.testing.assert_array_equal(tt, want.T.reshape(6))
    assert tuple(out[6:]) == (6, 7, 5, 5)


def test_random_fills_through_a_view(lua):
    x = run(lua, """
        local x = torch.zeros(2, 3)
        torch.manualSeed(5)
        x:t():uniform(-1, 1)
        return x""")
    rs = np.random.RandomState(5)
    np.testing.assert_array_equal(value(lua, x), rs.uniform(-1, 1, (3, 2)).T)


def test_copies_do_not_share_and_layouts_are_torch7s(lua):
    out = run(lua, """
        local x = torch.Tensor{{1, 2, 3}, {4, 5, 6}}
        x:clone():fill(0); torch.reshape(x, 6):fill(0); x:t():contiguous():fill(0)
        x:index(1, torch.LongTensor{1}):fill(0); (x + 0):fill(0); x:t():clone():zero()
        x:repeatTensor(2, 1):zero(); x:maskedSelect(torch.gt(x, 2)):zero()
        local same = rawequal(x:contiguous(), x)
        local t, n = x:t(), x:narrow(2, 2, 2)
        return x, same, t:isContiguous(), x:isContiguous(), n:isContiguous(),
               x:narrow(1, 2, 1):isContiguous(), t:stride(1), t:stride(2),
               n:storageOffset(), x:select(1, 2):storageOffset(), x:view(3, 2):stride(1),
               x:select(2, 1):view(2, 1):expand(2, 4):stride(2), t:contiguous():stride(1)""")
    np.testing.assert_array_equal(value(lua, out[0]), [[1, 2, 3], [4, 5, 6]])
    assert tuple(out[1:]) == (True, False, True, False, True, 1, 3, 2, 4, 2, 0, 2)


def test_views_keep_their_type_and_resize_or_set_as_torch7(lua):
    out = run(lua, """
        local l = torch.LongTensor{{1, 2, 3}, {4, 5, 6}}
        local v = l:t()
        v:copy(torch.Tensor{{1.5, 2.5}, {3.5, 4.5}, {5.5, 6.5}})   -- stored as longs
        local x = torch.zeros(2, 3)
        local old = x:view(6)
        x:resize(4):fill(1)               -- a new size: x gets new memory, old keeps its own
        local y = torch.zeros(2, 2)
        local yv = y:view(4)
        y:resize(4):fill(3)               -- same element count: still shared with yv
        local z = torch.zeros(3)
        local s = torch.ones(2, 3)
        z:set(s:t())                      -- z is now a view of s
        z[1][2] = 7                       -- s[2][1]
        return l, torch.type(l), torch.type(v), v, x, old, yv, z:dim(), s""")
    l, tl, tv, v, x, old, yv, zdim, s = out
    np.testing.assert_array_equal(value(lua, l), [[1, 3, 5], [2, 4, 6]])
    assert tl == tv == "torch.LongTensor"
    np.testing.assert_array_equal(value(lua, v), [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(value(lua, x), np.ones(4))
    np.testing.assert_array_equal(value(lua, old), np.zeros(6))
    np.testing.assert_array_equal(value(lua, yv), np.full(4, 3.0))
    assert zdim == 2
    np.testing.assert_array_equal(value(lua, s), [[1, 1, 1], [7, 1, 1]])


def test_views_cost_no_ops_until_read_after_a_write(lua):
    # a write marks the other views stale without an op; a stale view derives its value
    # again only when it is read, and reading a fresh view costs nothing
    s = lua.session
    before = s._next_handle
    x, rows, n = run(lua, """
        local x = torch.zeros(200, 3)
        local rows = {}
        for i = 1, 200 do rows[i] = x[i] end       -- 200 views: a getitem each
        for i = 1, 200 do rows[i]:fill(i) end      -- a full and a setitem each
        local n = 0
        for i = 1, 200 do n = n + rows[i]:size(1) + rows[i]:dim() end   -- no ops
        return x, rows, n""")
    ops = s._next_handle - before
    assert n == 800
    assert 600 <= ops <= 610
    want = np.repeat(np.arange(1, 201, dtype=float)[:, None], 3, axis=1)
    np.testing.assert_array_equal(value(lua, x), want)
    np.testing.assert_array_equal(value(lua, rows[200]), want[199])
    np.testing.assert_array_equal(value(lua, rows[1]), want[0])    # derived again: one op
    assert s._next_handle - before == ops + 1


def test_seed_09_assignments(lua):
    targets, labels = run(lua, """
        local classes = {1, 2, 3, 4}
        local targets = torch.zeros(6, #classes)
        for i = 1, 6 do targets[i][(i % #classes) + 1] = 1 end
        local labels = torch.LongTensor(6)
        for i = 1, 6 do labels[i] = (i % #classes) + 1 end
        return targets, labels""")
    want = np.zeros((6, 4))
    for i in range(1, 7):
        want[i - 1, i % 4] = 1
    np.testing.assert_array_equal(value(lua, targets), want)
    np.testing.assert_array_equal(value(lua, labels), [i % 4 + 1 for i in range(1, 7)])
    assert meta(lua, labels)[1] == "torch.LongTensor"


def test_scatter_and_index_variants(lua):
    x = run(lua, """
        local x = torch.zeros(3, 3)
        x:scatter(1, torch.LongTensor{{3, 1, 2}}, 5)
        x:indexFill(2, torch.LongTensor{3}, -1)
        x:indexAdd(1, torch.LongTensor{1, 1}, torch.ones(2, 3))
        local y = torch.zeros(2, 3):indexCopy(2, torch.LongTensor{3, 1},
                                              torch.Tensor{{1, 2}, {3, 4}})
        return x, y""")
    want = np.zeros((3, 3))
    want[[2, 0, 1], [0, 1, 2]] = 5
    want[:, 2] = -1
    want[0] += 2
    np.testing.assert_array_equal(value(lua, x[0]), want)
    np.testing.assert_array_equal(value(lua, x[1]), [[2, 0, 1], [4, 0, 3]])


def test_constructors_types_and_sizes(lua):
    out = run(lua, """
        local s = torch.Tensor(2, 3):size()
        local l = torch.LongStorage{4, 5}
        return torch.type(torch.Tensor{1}), torch.type(torch.FloatTensor(2)),
               torch.type(torch.LongTensor{{1}}), torch.type(torch.IntTensor(1)),
               torch.type(torch.ByteTensor(1)), torch.type(torch.Tensor{1}:float():double()),
               torch.type(s), #s, s[2], torch.Tensor(l):size(2), torch.typename(l),
               torch.Tensor(2, 3):nElement(), torch.zeros(l):dim(), torch.Tensor():dim(),
               torch.ones(2):type(), torch.Tensor{1, 2}:long():type(),
               torch.isTensor(torch.ones(1)), torch.isTensor({}), torch.isTensor(1),
               torch.typename(1), torch.Tensor{{1, 2}}:size(-1)""")
    assert tuple(out) == (
        "torch.DoubleTensor", "torch.FloatTensor", "torch.LongTensor", "torch.IntTensor",
        "torch.ByteTensor", "torch.DoubleTensor", "torch.LongStorage", 2, 3, 5,
        "torch.LongStorage", 6, 2, 0, "torch.DoubleTensor", "torch.LongTensor",
        True, False, False, None, 2)


def test_random_numbers_follow_the_seed(lua):
    out = run(lua, """
        torch.manualSeed(123)
        local a = torch.randn(3, 2)
        local u = torch.Tensor(4):uniform(-2, -1)
        local n = torch.FloatTensor(5):normal(10, 0.001)
        torch.manualSeed(123)
        local b = torch.randn(3, 2)
        return torch.equal(a, b), torch.max(u) <= -1 and torch.min(u) >= -2,
               math.abs(torch.mean(n) - 10) < 0.01, torch.type(n), torch.rand(2, 2):dim(),
               torch.randperm(5):sum()""")
    assert tuple(out) == (True, True, True, "torch.FloatTensor", 2, 15)
    rs = np.random.RandomState(123)
    a = run(lua, "torch.manualSeed(123); return torch.randn(3, 2)")
    np.testing.assert_array_equal(value(lua, a), rs.standard_normal((3, 2)))


def test_totable_and_apply(lua):
    out = run(lua, """
        local t = torch.Tensor{{1, 2}, {3, 4}}:totable()
        local x = torch.Tensor{1, 2, 3}
        x:apply(function(v) return v * 10 end)
        return t[2][1], #t, torch.sum(x)""")
    assert tuple(out) == (3, 2, 60)


def test_errors_name_the_users_line(lua):
    ok, message = run(lua, """
        return pcall(function()
            local x = torch.ones(2, 3)
            return torch.mm(x, x)     -- line 4 of this chunk
        end)""")
    assert not ok
    assert "torch.mm: size mismatch, 2x3 times 2x3" in message
    ok, message = run(lua, "return pcall(function() return torch.ones(2)[3] end)")
    assert not ok and "index 3 out of range for dim 1 of size 2" in message


# --- printing ---------------------------------------------------------------------------

def printed(lua, source):
    out = io.StringIO()
    old, lua.stdout = lua.stdout, out
    try:
        lua.lua.execute(source)
    finally:
        lua.stdout = old
    return out.getvalue()


def test_print_formats_each_tensor_type_as_torch7(lua):
    assert printed(lua, "print(torch.LongTensor{1, -20, 3})") == (
        "  1\n-20\n  3\n[torch.LongTensor of size 3]\n\n")
    assert printed(lua, "print(torch.ByteTensor{{1, 0}, {0, 1}})") == (
        " 1  0\n 0  1\n[torch.ByteTensor of size 2x2]\n\n")
    assert printed(lua, "print(torch.FloatTensor{0.5, 1.25})") == (
        " 0.5000\n 1.2500\n[torch.FloatTensor of size 2]\n\n")
    assert printed(lua, "print(torch.IntTensor{7})") == " 7\n[torch.IntTensor of size 1]\n\n"
    assert printed(lua, "print(torch.gt(torch.Tensor{1, -1}, 0))") == (
        " 1\n 0\n[torch.ByteTensor of size 2]\n\n")
    assert printed(lua, "print(torch.Tensor())") == "[torch.DoubleTensor with no dimension]\n\n"
    assert printed(lua, "print(torch.ones(2, 3):size())") == (
        " 2\n 3\n[torch.LongStorage of size 2]\n\n")
    assert printed(lua, "io.write('x: ' .. torch.eye(1))") == (
        "x:  1\n[torch.DoubleTensor of size 1x1]\n")
    assert printed(lua, "grad(function(x) print(torch.sum(x)); return torch.sum(x) end)("
                        "torch.ones(2) / 4)") == "0.5\n"


# --- releases and lifetimes -------------------------------------------------------------

def test_bridge_objects_survive_aggressive_collection(lua):
    # lupa frees a Python object Lua still holds if the same object is pushed to Lua again
    # while its previous wrapper awaits finalization (a staticmethod read from Lua did
    # this, and print's cached writer turned into a freed Handle); see host.Bridge
    out = printed(lua, """
        collectgarbage('setpause', 10); collectgarbage('setstepmul', 400)
        local x = torch.ones(2, 3)
        for i = 1, 300 do
            local y = x + i
            io.write(tostring(y:size()):sub(1, 2), tostring(torch.sum(y[1]) > 0):sub(1, 1))
        end
        collectgarbage('setpause', 200); collectgarbage('setstepmul', 200)""")
    assert out == " 2t" * 300


def test_dropped_tensors_and_traced_scalars_are_released(lua):
    s = lua.session
    s.sync()
    before = s.releases_sent + len(s._releases)
    lua.lua.execute("""
        local df = grad(function(x)
            local r = torch.sum(x) * 0
            for i = 1, 50 do r = r + torch.sum(x * i) end   -- traced 0-d values, dropped
            return r
        end)
        for i = 1, 4 do df(torch.ones(3)) end
        for i = 1, 50 do local t = torch.zeros(2) + i; local v = t[{{1, 1}}] end
        collectgarbage('collect'); collectgarbage('collect')
    """)
    s.flush()
    gc.collect()
    # four passes of ~200 ops each, and three tensors per loop iteration
    assert s.releases_sent + len(s._releases) - before >= 4 * 150 + 140


def test_reading_a_vectors_elements_one_by_one_costs_one_round_trip(lua):
    s = lua.session
    before = s.round_trips
    total, trips = run(lua, """
        local x = torch.range(1, 200)
        local before = a()
        local total = 0
        for i = 1, x:size(1) do total = total + x[i] end
        return total, a() - before
    """, lambda: s.round_trips)
    assert total == 200 * 201 / 2
    assert trips == 1
    got = run(lua, """
        local x = torch.Tensor{1, 2, 3, 4}
        local first = x[2]
        x[2] = 20                        -- a write gives x a new handle: read afresh
        local second = x[2]
        x:add(1)
        local third = x[2]
        local y = x:narrow(1, 1, 2)      -- a write through a view reaches x
        y:fill(7)
        return first, second, third, x[1], x[3], x[-1]
    """)
    assert list(got) == [2, 20, 21, 7, 4, 5]
