"""autograd(f, {optimize = true}) under adlua: each signature recorded once, then replayed.

Every check compares a replayed call with the traced one on inputs the tape was not
recorded with, on LuaJIT 2.1 and Lua 5.4, against a real daemon.
"""
import pytest

from adclient.errors import DaemonError
from adclient.session import Session
from adlua.host import Host

ENGINES = ["luajit21", "5.4"]

PRELUDE = r"""
autograd = require 'autograd'
optim = require 'autograd.optim'
function maxdiff(a, b)
  if type(a) == 'number' then return math.abs(a - b) end
  if torch.isTensor(a) then return (a - b):abs():max() end
  local m = 0
  for k, v in pairs(a) do m = math.max(m, maxdiff(v, b[k])) end
  return m
end
function opsFor(f)
  local before = _ADLUA_SEQ()
  local r = {f()}
  return _ADLUA_SEQ() - before, unpack(r)
end
unpack = unpack or table.unpack
"""


@pytest.fixture(params=ENGINES, scope="module")
def lua(request, ipc_daemon):
    session = Session(ipc_daemon.address, client="adlua-optimize-test")
    host = Host(request.param, session=session)
    host.lua.globals()._ADLUA_SEQ = lambda: session._seq
    host.lua.globals()._ADLUA_LAST_TAPE = lambda: session._next_tape
    host.lua.globals()._ADLUA_QUEUED_FREES = lambda: (len(session._dropped_tapes) +
                                                      len(session._releases))
    host.lua.execute(PRELUDE)
    yield host
    host.close()


def run(lua, code):
    lua.lua.execute("torch.manualSeed(1)")
    return lua.lua.execute(code)


def test_replay_matches_tracing_on_new_inputs(lua):
    worst, replay_ops, record_ops = run(lua, r"""
    local function f(params, x, y)
      local h = torch.tanh(x * params.W + torch.expand(params.b:view(1, 2), x:size(1), 2))
      local relu = torch.cmax(h, 0)                     -- a comparison, recomputed
      local d = relu - y
      return torch.sum(torch.cmul(d, d)) + params.s * torch.sum(h), h, 'label', {n = 3}
    end
    local fast, slow = autograd(f, {optimize = true}), autograd(f)
    local params = {W = torch.randn(3, 2), b = torch.randn(2), s = 0.5}
    local worst, replayOps, recordOps = 0, 0, 0
    for i = 1, 4 do
      local x, y = torch.randn(5, 3), torch.randn(5, 2)
      params.s = i / 4
      local n, g1, l1, h1, label, tbl = opsFor(function() return fast(params, x, y) end)
      if i == 1 then recordOps = n else replayOps = math.max(replayOps, n) end
      local g2, l2, h2 = slow(params, x, y)
      assert(type(l1) == 'number' and type(g1.s) == 'number' and label == 'label')
      assert(tbl.n == 3 and torch.isTensor(h1) and h1:size(1) == 5)
      worst = math.max(worst, maxdiff(g1, g2), math.abs(l1 - l2), maxdiff(h1, h2))
    end
    return worst, replayOps, recordOps
    """)
    assert worst < 1e-12
    assert replay_ops <= 4 < record_ops


def test_signature_changes_record_again(lua):
    counts = run(lua, r"""
    local df = autograd(function(x, k) return torch.sum(torch.pow(x, k)) end,
                        {optimize = true})
    local counts = {}
    for i, case in ipairs({{3, 2}, {3, 2}, {4, 2}, {4, 2}, {4, 3}, {4, 3}}) do
      local x = torch.randn(case[1])
      local n, g = opsFor(function() return df(x, case[2]) end)
      local want = torch.pow(x, case[2] - 1) * case[2]
      assert(maxdiff(g, want) < 1e-12, 'gradient ' .. i)
      counts[i] = n
    end
    return counts
    """)
    counts = [counts[i] for i in range(1, 7)]
    assert counts[1] < counts[0] and counts[3] < counts[2] and counts[5] < counts[4]


def test_reading_values_or_drawing_random_numbers_keeps_tracing(lua, capfd):
    worst = run(lua, r"""
    local branchy = autograd(function(x)
      if torch.sum(x) > 0 then return torch.sum(torch.cmul(x, x)) end
      return torch.sum(torch.sin(x))
    end, {optimize = true})
    local noisy = autograd(function(x)
      return torch.sum(torch.cmul(x, torch.rand(x:size(1))))
    end, {optimize = true})
    local worst = 0
    for _, s in ipairs({1, -1, 1, -1}) do
      local x = torch.ones(3) * s
      local g = branchy(x)
      local want = s > 0 and x * 2 or torch.cos(x)
      worst = math.max(worst, maxdiff(g, want))
    end
    torch.manualSeed(7)
    local a = noisy(torch.ones(4))
    local b = noisy(torch.ones(4))
    assert(maxdiff(a, b) > 0, 'each call draws new numbers')
    return worst
    """)
    assert worst < 1e-12
    err = capfd.readouterr().err
    assert err.count("reads traced values") == 1
    assert "draws random numbers" in err


def test_options_and_nesting(lua, capfd):
    worst = run(lua, r"""
    local function f(s, x, seed) return torch.cmul(torch.sin(x), x) * s end
    local worst = 0
    -- partialGrad: the last argument is the gradient of the output
    local fast = autograd(f, {optimize = true, partialGrad = true, gradArg = 2})
    local slow = autograd(f, {partialGrad = true, gradArg = 2})
    for i = 1, 3 do
      local x, seed = torch.randn(4), torch.randn(4)
      worst = math.max(worst, maxdiff(fast(2.0, x, seed), slow(2.0, x, seed)))
    end
    -- withForward = false
    local g = autograd(function(x) return torch.sum(torch.exp(x)) end,
                       {optimize = true, withForward = false})
    for i = 1, 2 do
      local x = torch.randn(3)
      local a, extra = g(x)
      assert(extra == nil)
      worst = math.max(worst, maxdiff(a, torch.exp(x)))
    end
    -- a gradient inside f is traced, and so is an optimized f inside another gradient
    local inner = autograd(function(x) return torch.sum(torch.pow(x, 3)) end,
                           {optimize = true})
    local outer = autograd(function(x)
      local g = inner(x)
      return torch.sum(g)
    end, {optimize = true})
    for i = 1, 2 do
      local x = torch.randn(3)
      worst = math.max(worst, maxdiff(outer(x), x * 6))
    end
    return worst
    """)
    assert worst < 1e-12
    assert "differentiates inside" in capfd.readouterr().err


def test_an_error_while_recording_is_raised_and_forgotten(lua):
    result = run(lua, r"""
    local df = autograd(function(x, fail)
      if fail then error('bad input') end
      return torch.sum(torch.exp(x))
    end, {optimize = true})
    local ok, msg = pcall(df, torch.zeros(2), true)
    assert(not ok and tostring(msg):find('bad input'), tostring(msg))
    local a = df(torch.zeros(2), false)
    local b = df(torch.ones(2), false)
    return maxdiff(a, torch.ones(2)) + maxdiff(b, torch.exp(torch.ones(2)))
    """)
    assert result < 1e-12


def test_a_training_loop_replays_to_the_same_parameters(lua):
    worst = run(lua, r"""
    local function loss(p, x, y)
      local h = torch.tanh(x * p.W1) * p.W2
      local d = h - y
      return torch.sum(torch.cmul(d, d)) / x:size(1)
    end
    local function train(opt)
      torch.manualSeed(3)
      local p = {W1 = torch.randn(4, 6) * 0.3, W2 = torch.randn(6, 1) * 0.3}
      local x, y = torch.randn(16, 4), torch.randn(16, 1)
      local df = autograd(loss, {optimize = opt})
      local state = {learningRate = 0.05}
      local step, params = optim.adam(function(p) return df(p, x, y) end, state, p)
      local last
      for i = 1, 30 do
        local _, l = step(params)
        last = l
      end
      return params, last
    end
    local p1, l1 = train(true)
    local p2, l2 = train(false)
    return math.max(maxdiff(p1, p2), math.abs(l1 - l2))
    """)
    assert worst < 1e-12


def test_a_classifier_with_integer_targets_replays(lua, capfd):
    worst = run(lua, r"""
    local nn = autograd.nn
    local lin, params = nn.Linear(4, 3)
    local lsm = nn.LogSoftMax()
    local nll = nn.ClassNLLCriterion()
    local function loss(p, x, y) return nll(lsm(lin(p, x)), y) end
    local fast, slow = autograd(loss, {optimize = true}), autograd(loss)
    local worst = 0
    for i = 1, 4 do
      local x = torch.randn(6, 4)
      local y = torch.LongTensor(6)
      for k = 1, 6 do y[k] = (k + i) % 3 + 1 end
      local g1, l1 = fast(params, x, y)
      local g2, l2 = slow(params, x, y)
      worst = math.max(worst, maxdiff(g1, g2), math.abs(l1 - l2))
    end
    return worst
    """)
    assert worst < 1e-12
    assert "traced on every call" not in capfd.readouterr().err


def test_the_collector_running_inside_a_recorded_call_does_not_spoil_it(lua, capfd):
    # Another optimized function (with its tape) and a tensor become garbage; the
    # recorded function runs Lua's collector, whose finalizers queue a tape.drop and a
    # release in the middle of the recording. Those frees are no part of the call.
    queued, worst, replay_ops, old_tape = run(lua, r"""
    local function garbage()
      local old = autograd(function(x) return torch.sum(torch.cmul(x, x)) end,
                           {optimize = true})
      old(torch.randn(3))
      local big = torch.randn(1000)
      return _ADLUA_LAST_TAPE()
    end
    local oldTape = garbage()
    local queued
    local function loss(x)
      local y = torch.sin(x)
      collectgarbage('collect')
      collectgarbage('collect')
      queued = queued or _ADLUA_QUEUED_FREES()
      return torch.sum(torch.cmul(torch.cos(y), x))
    end
    local fast, slow = autograd(loss, {optimize = true}), autograd(loss)
    local worst, replayOps = 0, 0
    for i = 1, 3 do
      local x = torch.randn(4)
      local n, g1, l1 = opsFor(function() return fast(x) end)
      if i > 1 then replayOps = math.max(replayOps, n) end
      local g2, l2 = slow(x)
      worst = math.max(worst, maxdiff(g1, g2), math.abs(l1 - l2))
    end
    return queued, worst, replayOps, oldTape
    """)
    assert queued >= 2              # the tape.drop and the release, queued mid-recording
    assert worst < 1e-12
    assert "traced on every call" not in capfd.readouterr().err
    assert replay_ops <= 4
    s = lua.session
    s.op("tape.run", [old_tape, [1.0]], out=1)
    with pytest.raises(DaemonError, match=f"no tape {old_tape}"):
        s.sync()                    # the collected tape was dropped all the same
