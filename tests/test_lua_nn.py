"""nn: Torch7's module library over the torch mirror (`require 'nn'`), on real lupa engines
(LuaJIT 2.1 and Lua 5.4) against a real daemon.

Every module's gradInput and parameter gradients come from the daemon's vjp of its traced
forward; they are checked here against central finite differences, the way Torch7's
nn.Jacobian does (perturb one element, forward, compare), and a few outputs against
Torch7's documented formulas.
"""

import numpy as np
import pytest

from lua_hosts import ENGINES, host_fixture, printed  # noqa: E402,F401

PRELUDE = """
require 'nn'
unpack = unpack or table.unpack
-- the largest Jacobian error of a module: for its input and for each of its parameters
function jacobianErrors(m, input)
  local err = nn.Jacobian.testJacobian(m, input)
  local params, grads = m:parameters()
  for i = 1, params and #params or 0 do
    err = math.max(err, nn.Jacobian.testJacobianParameters(m, input, params[i], grads[i]))
  end
  return err
end
-- Torch7's evaluate() returns nothing
function evaluated(m) m:evaluate(); return m end
-- a criterion's gradInput against central differences of its loss
function criterionError(c, input, target)
  local loss = c:forward(input, target)
  local g = c:backward(input, target):clone()
  local flat = input:view(input:nElement())
  local err = 0
  for i = 1, input:nElement() do
    local orig = flat[i]
    flat[i] = orig + 1e-6
    local b = c:forward(input, target)
    flat[i] = orig - 1e-6
    local a = c:forward(input, target)
    flat[i] = orig
    err = math.max(err, math.abs((b - a) / 2e-6 - g:view(g:nElement())[i]))
  end
  return err, loss
end
"""


lua = host_fixture("adlua-nn-test", PRELUDE)


def run(host, code):
    host.lua.execute("torch.manualSeed(1)")
    return host.lua.execute(code)



def table(host, t):
    """A Lua array of numbers (or of arrays) as a numpy array."""
    def conv(v):
        if hasattr(v, "values"):
            return [conv(x) for x in v.values()]
        return v
    return np.array(conv(t))


def errors(host, cases):
    """{name: largest Jacobian error} for Lua `cases`: name -> {module, input}."""
    result = run(host, f"""
        local cases = {{{cases}}}
        local out = {{}}
        for name, c in pairs(cases) do out[name] = jacobianErrors(c[1], c[2]) end
        return out
    """)
    return dict(result.items())


# --- gradients against finite differences ------------------------------------------------

def test_weighted_and_elementwise_modules(lua):
    errs = errors(lua, """
        Linear = {nn.Linear(3, 2), torch.randn(3)},
        LinearBatch = {nn.Linear(3, 2), torch.randn(2, 3)},
        LinearNoBias = {nn.Linear(3, 2, false), torch.randn(2, 3)},
        Tanh = {nn.Tanh(), torch.randn(2, 3)},
        Sigmoid = {nn.Sigmoid(), torch.randn(2, 3)},
        ReLU = {nn.ReLU(), torch.randn(2, 3)},
        ELU = {nn.ELU(0.7), torch.randn(2, 3)},
        LeakyReLU = {nn.LeakyReLU(0.1), torch.randn(2, 3)},
        SoftMax = {nn.SoftMax(), torch.randn(2, 3)},
        LogSoftMax = {nn.LogSoftMax(), torch.randn(3)},
        SoftPlus = {nn.SoftPlus(2), torch.randn(2, 3)},
        Identity = {nn.Identity(), torch.randn(4)},
    """)
    assert errs and max(errs.values()) < 1e-6, errs


def test_table_and_shape_modules(lua):
    errs = errors(lua, """
        Bilinear = {nn.Bilinear(2, 3, 2), {torch.randn(2, 2), torch.randn(2, 3)}},
        MM = {nn.MM(false, true), {torch.randn(2, 3), torch.randn(2, 3)}},
        MMBatch = {nn.MM(true), {torch.randn(2, 3, 2), torch.randn(2, 3, 2)}},
        CAddTable = {nn.CAddTable(), {torch.randn(2, 2), torch.randn(2, 2)}},
        CMulTable = {nn.CMulTable(), {torch.randn(3), torch.randn(3), torch.randn(3)}},
        JoinTable = {nn.JoinTable(1), {torch.randn(2), torch.randn(3)}},
        SplitTable = {nn.SplitTable(2), torch.randn(2, 3)},
        Narrow = {nn.Narrow(2, 2, 2), torch.randn(2, 4)},
        Select = {nn.Select(1, -1), torch.randn(3, 2)},
        Reshape = {nn.Reshape(6), torch.randn(2, 3)},
        View = {nn.View(3, 2), torch.randn(2, 3)},
        Transpose = {nn.Transpose({1, 2}), torch.randn(2, 3)},
        Mean = {nn.Mean(2), torch.randn(2, 3)},
        Sum = {nn.Sum(1), torch.randn(2, 3)},
        Max = {nn.Max(2), torch.randn(3, 4)},
    """)
    assert errs and max(errs.values()) < 1e-6, errs


def test_spatial_and_normalization_modules(lua):
    errs = errors(lua, """
        Conv = {nn.SpatialConvolution(2, 2, 3, 2, 1, 1, 1, 0), torch.randn(2, 3, 4)},
        ConvMM = {nn.SpatialConvolutionMM(1, 2, 2, 2, 2, 2), torch.randn(2, 1, 4, 5)},
        MaxPool = {nn.SpatialMaxPooling(2, 2, 2, 2), torch.randn(1, 4, 4)},
        MaxPoolPadded = {nn.SpatialMaxPooling(3, 3, 2, 2, 1, 1), torch.randn(1, 1, 5, 5)},
        AvgPool = {nn.SpatialAveragePooling(2, 2, 1, 1), torch.randn(1, 3, 3)},
        BatchNorm = {nn.BatchNormalization(3), torch.randn(4, 3)},
        BatchNormEval = {evaluated(nn.BatchNormalization(2)), torch.randn(3, 2)},
        SpatialBN = {nn.SpatialBatchNormalization(2), torch.randn(2, 2, 2, 2)},
        DropoutEval = {evaluated(nn.Dropout(0.3)), torch.randn(5)},
        LookupTable = {nn.LookupTable(5, 2), torch.LongTensor{2, 5, 2}},
    """)
    assert errs and max(errs.values()) < 1e-6, errs


def test_containers(lua):
    errs = errors(lua, """
        Sequential = {nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh()):add(nn.Linear(4, 2)),
                      torch.randn(2, 3)},
        Concat = {nn.Concat(2):add(nn.Linear(3, 2)):add(nn.Linear(3, 1)), torch.randn(2, 3)},
        ConcatTable = {nn.ConcatTable():add(nn.Linear(2, 2)):add(nn.Identity()), torch.randn(2)},
        ParallelTable = {nn.ParallelTable():add(nn.Linear(2, 3)):add(nn.Tanh()),
                         {torch.randn(2), torch.randn(3)}},
        Residual = {nn.Sequential():add(nn.ConcatTable():add(nn.Linear(2, 2)):add(nn.Identity()))
                                   :add(nn.CAddTable()):add(nn.ReLU()), torch.randn(3, 2)},
    """)
    assert errs and max(errs.values()) < 1e-6, errs


def test_criterions(lua):
    out = run(lua, """
        local C = {}
        local function case(name, c, x, t) C[name] = criterionError(c, x, t) end
        case('MSE', nn.MSECriterion(), torch.randn(2, 3), torch.randn(2, 3))
        case('MSE sum', nn.MSECriterion(false), torch.randn(3), torch.randn(3))
        case('Abs', nn.AbsCriterion(), torch.randn(2, 3), torch.randn(2, 3))
        case('SmoothL1', nn.SmoothL1Criterion(), torch.randn(2, 3) * 2, torch.randn(2, 3))
        case('ClassNLL', nn.ClassNLLCriterion(), torch.randn(3, 4), torch.LongTensor{1, 4, 2})
        case('ClassNLL weights', nn.ClassNLLCriterion(torch.Tensor{1, 2, 0.5}),
             torch.randn(2, 3), torch.LongTensor{2, 3})
        case('CrossEntropy', nn.CrossEntropyCriterion(), torch.randn(2, 3), torch.LongTensor{3, 1})
        case('CrossEntropy 1-D', nn.CrossEntropyCriterion(), torch.randn(3), 2)
        case('BCE', nn.BCECriterion(), torch.rand(2, 3) * 0.8 + 0.1,
             torch.Tensor{{0, 1, 1}, {1, 0, 0}})
        case('DistKLDiv', nn.DistKLDivCriterion(), torch.randn(4), torch.Tensor{0.2, 0, 0.5, 0.3})
        case('Margin', nn.MarginCriterion(), torch.randn(4), torch.Tensor{1, -1, 1, -1})
        case('MultiMargin', nn.MultiMarginCriterion(), torch.randn(2, 4), torch.LongTensor{2, 4})
        case('MultiMargin p=2', nn.MultiMarginCriterion(2, torch.Tensor{1, 2, 3}, 0.5),
             torch.randn(3), 3)
        return C
    """)
    errs = dict(out.items())
    assert len(errs) == 13 and max(errs.values()) < 1e-6, errs


def test_parallel_criterion_composes_its_children(lua):
    a, b, g1, g2 = run(lua, """
        local x1, x2 = torch.randn(2, 3), torch.randn(4)
        local t1, t2 = torch.LongTensor{1, 3}, torch.randn(4)
        local nll, mse = nn.ClassNLLCriterion(), nn.MSECriterion()
        local pc = nn.ParallelCriterion():add(nll, 0.5):add(mse)
        local l = pc:forward({x1, x2}, {t1, t2})
        local g = pc:backward({x1, x2}, {t1, t2})
        local expect = 0.5 * nll:forward(x1, t1) + mse:forward(x2, t2)
        local d1 = torch.max(torch.abs(g[1] - nll:backward(x1, t1) * 0.5))
        local d2 = torch.max(torch.abs(g[2] - mse:backward(x2, t2)))
        return l, expect, d1, d2
    """)
    assert a == pytest.approx(b, rel=1e-12) and g1 == 0 and g2 == 0


# --- outputs against Torch7's formulas ----------------------------------------------------

def test_linear_is_x_w_transposed_plus_b(lua):
    x, w, b, y, wsize = run(lua, """
        local m = nn.Linear(4, 3)
        local x = torch.randn(2, 4)
        local y = m:forward(x)
        return x:totable(), m.weight:totable(), m.bias:totable(), y:totable(),
               m.weight:size():totable()
    """)
    x, w, b, y = (table(lua, v) for v in (x, w, b, y))
    assert table(lua, wsize).tolist() == [3, 4]
    np.testing.assert_allclose(y, x @ w.T + b, rtol=1e-12, atol=1e-12)
    # nn's initialization: uniform in +-1/sqrt(inputSize)
    assert np.abs(w).max() <= 0.5 and np.abs(b).max() <= 0.5


def test_spatial_convolution_output_size_and_values(lua):
    x, w, b, y = run(lua, """
        local m = nn.SpatialConvolution(2, 3, 3, 2, 2, 1, 1, 1)
        local x = torch.randn(1, 2, 5, 7)
        return x:totable(), m.weight:totable(), m.bias:totable(), m:forward(x):totable()
    """)
    x, w, b, y = (table(lua, v) for v in (x, w, b, y))
    kH, kW, dH, dW, padH, padW = 2, 3, 1, 2, 1, 1
    # Torch7: oW = floor((iW - kW + 2 padW) / dW) + 1
    oH, oW = (5 - kH + 2 * padH) // dH + 1, (7 - kW + 2 * padW) // dW + 1
    assert y.shape == (1, 3, oH, oW) == (1, 3, 6, 4)
    xp = np.pad(x, ((0, 0), (0, 0), (padH, padH), (padW, padW)))
    ref = np.zeros_like(y)
    for i in range(oH):
        for j in range(oW):
            patch = xp[:, :, i * dH:i * dH + kH, j * dW:j * dW + kW]
            ref[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w) + b
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


def test_pooling_values(lua):
    x, mx, avg, ceil = run(lua, """
        local x = torch.randn(1, 4, 5)
        return x:totable(), nn.SpatialMaxPooling(2, 2):forward(x):totable(),
               nn.SpatialAveragePooling(2, 2, 1, 1):forward(x):totable(),
               nn.SpatialMaxPooling(2, 2):ceil():forward(x):size():totable()
    """)
    x, mx, avg = table(lua, x)[0], table(lua, mx)[0], table(lua, avg)[0]
    np.testing.assert_allclose(mx, x[:4, :4].reshape(2, 2, 2, 2).max(axis=(1, 3)))
    ref = (x[:-1, :-1] + x[1:, :-1] + x[:-1, 1:] + x[1:, 1:]) / 4
    np.testing.assert_allclose(avg, ref, rtol=1e-12)
    assert table(lua, ceil).tolist() == [1, 2, 3]


def test_class_nll_size_average(lua):
    avg, total, weighted, x = run(lua, """
        local x = torch.randn(3, 4)
        local t = torch.LongTensor{2, 4, 1}
        return nn.ClassNLLCriterion():forward(x, t),
               nn.ClassNLLCriterion(nil, false):forward(x, t),
               nn.ClassNLLCriterion(torch.Tensor{1, 2, 3, 4}):forward(x, t), x:totable()
    """)
    x = table(lua, x)
    picked = np.array([x[0, 1], x[1, 3], x[2, 0]])
    assert total == pytest.approx(-picked.sum(), rel=1e-12)
    assert avg == pytest.approx(-picked.sum() / 3, rel=1e-12)
    w = np.array([2, 4, 1])
    assert weighted == pytest.approx(-(picked * w).sum() / w.sum(), rel=1e-12)


def test_batch_normalization_running_averages_and_evaluate(lua):
    x, rm, rv, y_eval, w, b = run(lua, """
        local bn = nn.BatchNormalization(3, 1e-5, 0.1)
        local x = torch.randn(5, 3)
        bn:forward(x)
        local rm, rv = bn.running_mean:clone(), bn.running_var:clone()
        bn:evaluate()
        local y = bn:forward(x)
        return x:totable(), rm:totable(), rv:totable(), y:totable(), bn.weight:totable(),
               bn.bias:totable()
    """)
    x, rm, rv, y_eval, w, b = (table(lua, v) for v in (x, rm, rv, y_eval, w, b))
    np.testing.assert_allclose(rm, 0.1 * x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(y_eval, (x - rm) / np.sqrt(rv + 1e-5) * w + b, rtol=1e-10)


def test_batch_normalization_training_output(lua):
    x, y = run(lua, """
        local bn = nn.BatchNormalization(2, 1e-5, 0.1, false)
        local x = torch.randn(4, 2)
        return x:totable(), bn:forward(x):totable()
    """)
    x, y = table(lua, x), table(lua, y)
    np.testing.assert_allclose(y, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-10)


def test_dropout_scales_in_training_and_passes_in_evaluate(lua):
    kept, scaled_ok, grad_ok, ev, v1ev = run(lua, """
        local d = nn.Dropout(0.25)
        local x = torch.ones(2000)
        local y = d:forward(x)
        local kept = torch.sum(torch.ne(y, 0)) / 2000
        -- every kept element is 1 / (1 - p); the gradient is the same mask
        local scaled = torch.sum(torch.eq(y, 0)) + torch.sum(torch.eq(y, 1 / 0.75)) == 2000
        local g = d:backward(x, torch.ones(2000) * 2)
        local gradOk = torch.max(torch.abs(g - y * 2)) == 0
        d:evaluate()
        local v1 = evaluated(nn.Dropout(0.25, true))
        return kept, scaled, gradOk, torch.sum(d:forward(x)), torch.sum(v1:forward(x))
    """)
    assert 0.7 < kept < 0.8 and scaled_ok and grad_ok
    assert ev == 2000 and v1ev == pytest.approx(1500)


# --- the Module interface -----------------------------------------------------------------

def test_printing_follows_torch7(lua):
    out = printed(lua, """
        local m = nn.Sequential()
        m:add(nn.SpatialConvolution(3, 8, 5, 5, 1, 1, 2, 2))
        m:add(nn.SpatialMaxPooling(2, 2, 2, 2))
        m:add(nn.View(8 * 4 * 4))
        m:add(nn.Linear(128, 10, false))
        m:add(nn.Concat(2):add(nn.Linear(10, 2)):add(nn.Sequential():add(nn.Tanh())))
        m:add(nn.ConcatTable():add(nn.Identity()):add(nn.ReLU()))
        m:add(nn.ParallelTable():add(nn.Dropout(0.5)):add(nn.LogSoftMax()))
        print(m)
        print(nn.BatchNormalization(4))
        print(nn.ClassNLLCriterion())
    """)
    assert out == """nn.Sequential {
  [input -> (1) -> (2) -> (3) -> (4) -> (5) -> (6) -> (7) -> output]
  (1): nn.SpatialConvolution(3 -> 8, 5x5, 1,1, 2,2)
  (2): nn.SpatialMaxPooling(2x2, 2,2)
  (3): nn.View(128)
  (4): nn.Linear(128 -> 10) without bias
  (5): nn.Concat {
    input
      |`-> (1): nn.Linear(10 -> 2)
       `-> (2): nn.Sequential {
             [input -> (1) -> output]
             (1): nn.Tanh
           }
       ... -> output
  }
  (6): nn.ConcatTable {
    input
      |`-> (1): nn.Identity
       `-> (2): nn.ReLU
       ... -> output
  }
  (7): nn.ParallelTable {
    input
      |`-> (1): nn.Dropout(0.500000)
       `-> (2): nn.LogSoftMax
       ... -> output
  }
}
nn.BatchNormalization (2D) (4)
nn.ClassNLLCriterion
"""


def test_get_parameters_flattens_and_stays_shared(lua):
    n, step_ok, grad_ok, zero = run(lua, """
        local m = nn.Sequential():add(nn.Linear(3, 4)):add(nn.ReLU()):add(nn.Linear(4, 2))
        local p, g = m:getParameters()
        local x, t = torch.randn(5, 3), torch.randn(5, 2)
        local crit = nn.MSECriterion()
        m:zeroGradParameters()
        crit:forward(m:forward(x), t)
        m:backward(x, crit:backward(m.output, t))
        -- the flat gradient holds each module's gradients, in parameters() order
        local _, grads = m:parameters()
        local gradOk = torch.max(torch.abs(g:narrow(1, 1, 12) - grads[1]:view(12))) == 0
                       and torch.max(torch.abs(g:narrow(1, 17, 8) - grads[3]:view(8))) == 0
        -- a step on the flat tensor moves the modules' weights
        local before = m.modules[3].bias:clone()
        p:add(-0.1, g)
        local stepOk = torch.max(torch.abs(m.modules[3].bias - (before - g:narrow(1, 25, 2) * 0.1))) < 1e-15
        m:zeroGradParameters()
        return p:nElement(), stepOk, gradOk, torch.sum(torch.abs(g))
    """)
    assert n == 3 * 4 + 4 + 4 * 2 + 2 and step_ok and grad_ok and zero == 0


def test_training_loop_lowers_the_loss(lua):
    first, last = run(lua, """
        local m = nn.Sequential():add(nn.Linear(2, 8)):add(nn.Tanh()):add(nn.Linear(8, 2))
                                 :add(nn.LogSoftMax())
        local crit = nn.ClassNLLCriterion()
        local x = torch.randn(16, 2)
        local y = torch.gt(x:select(2, 1), 0):long() + 1
        local p, g = m:getParameters()
        local first, last
        for i = 1, 30 do
          g:zero()
          local l = crit:forward(m:forward(x), y)
          m:backward(x, crit:backward(m.output, y))
          p:add(-0.5, g)
          first = first or l
          last = l
        end
        return first, last
    """)
    assert last < first * 0.5


def test_clone_share_and_type(lua):
    same, apart, shared, ftype, fout, dtype = run(lua, """
        local m = nn.Sequential():add(nn.Linear(3, 2))
        local c = m:clone()
        local same = torch.max(torch.abs(c.modules[1].weight - m.modules[1].weight)) == 0
        c.modules[1].weight:fill(0)
        local apart = torch.sum(torch.abs(m.modules[1].weight)) > 0
        local s = m:clone('weight', 'bias')
        s.modules[1].weight:fill(3)
        local shared = torch.sum(m.modules[1].weight) == 18
        m:float()
        local y = m:forward(torch.randn(3):float())
        return same, apart, shared, torch.type(m.modules[1].weight), torch.type(y),
               torch.type(m:double():forward(torch.randn(3)))
    """)
    assert same and apart and shared
    assert (ftype, fout, dtype) == ("torch.FloatTensor", "torch.FloatTensor", "torch.DoubleTensor")


def test_float_gradients(lua):
    err, gtype = run(lua, """
        local m = nn.Linear(3, 2):float()
        local x = torch.randn(2, 3):float()
        m:forward(x)
        local g = m:backward(x, torch.ones(2, 2):float())
        local ref = torch.ones(2, 2):double() * m.weight:double()
        return torch.max(torch.abs(g:double() - ref)), torch.type(m.gradWeight)
    """)
    assert err < 1e-6 and gtype == "torch.FloatTensor"


def test_user_modules_by_torch_class(lua):
    err_auto, err_hand, name, out = run(lua, """
        -- a module that writes only its forward: the daemon gives its gradients
        local Scale, parent = torch.class('nn.TestScale', 'nn.Module')
        function Scale:__init(n)
          parent.__init(self)
          self.weight = torch.randn(n)
          self.gradWeight = torch.zeros(n)
        end
        function Scale:outputOf(x, p) return torch.cmul(torch.tanh(x), p.weight) end
        -- a module with a hand-written backward, as in Torch7
        local Double = torch.class('nn.TestDouble', 'nn.Module')
        function Double:updateOutput(input) self.output = input * 2; return self.output end
        function Double:updateGradInput(input, g) self.gradInput = g * 2; return self.gradInput end
        local m = nn.Sequential():add(nn.TestScale(3)):add(nn.TestDouble()):add(nn.Linear(3, 1))
        return jacobianErrors(nn.TestScale(4), torch.randn(4)), jacobianErrors(m, torch.randn(3)),
               tostring(nn.TestDouble()), torch.type(m:get(1))
    """)
    assert err_auto < 1e-6 and err_hand < 1e-6
    assert name == "nn.TestDouble" and out == "nn.TestScale"


def test_call_and_training_flags(lua):
    out = run(lua, """
        local m = nn.Sequential():add(nn.Dropout(0.5)):add(nn.Linear(2, 2))
        m:evaluate()
        local flags = tostring(m.train) .. tostring(m.modules[1].train)
        m:training()
        flags = flags .. tostring(m.modules[1].train)
        local lin = nn.Linear(2, 1)
        local y, gi = lin(torch.ones(2), torch.ones(1))
        return flags, torch.type(y), gi:nElement()
    """)
    assert out == ("falsefalsetrue", "torch.DoubleTensor", 2)


def test_the_jacobian_check_catches_a_wrong_backward(lua):
    err = run(lua, """
        local Wrong = torch.class('nn.TestWrongSquare', 'nn.Module')
        function Wrong:updateOutput(x) self.output = torch.cmul(x, x); return self.output end
        -- d(x^2)/dx claimed to be 3x
        function Wrong:updateGradInput(x, g) self.gradInput = torch.cmul(g, x) * 3; return self.gradInput end
        return nn.Jacobian.testJacobian(nn.TestWrongSquare(), torch.randn(4), -2, 2)
    """)
    assert err > 0.1


# --- torch-autograd's bridge: functionalize, AutoModule, AutoCriterion ---------------------

def test_functionalized_module_matches_its_backward(lua):
    out = run(lua, """
        local autograd = require 'autograd'
        local model = nn.Sequential():add(nn.Linear(3, 4)):add(nn.Tanh()):add(nn.Linear(4, 2))
                                     :add(nn.LogSoftMax())
        local crit = nn.ClassNLLCriterion()
        local f, params = autograd.functionalize(model)
        local loss = autograd.functionalize(crit)
        local x, y = torch.randn(5, 3), torch.LongTensor{1, 2, 2, 1, 2}
        local grads, l = autograd(function(p, x, y) return loss(f(p, x), y) end)(params, x, y)
        -- the same through nn's forward and backward
        model:zeroGradParameters()
        local want = crit:forward(model:forward(x), y)
        model:backward(x, crit:backward(model.output, y))
        local _, nnGrads = model:parameters()
        local err = 0
        for i = 1, #params do err = math.max(err, torch.max(torch.abs(grads[i] - nnGrads[i]))) end
        -- second order through nn's forward: d/dW of the gradient's squared norm
        local gg = autograd(function(p, x, y)
          local g = autograd(function(q) return loss(f(q, x), y) end)(p)
          return torch.sum(torch.cmul(g[1], g[1]))
        end)(params, x, y)
        local untouched = torch.max(torch.abs(model:forward(x) - model.output)) == 0
        return #params, math.abs(l - want), err, torch.type(gg[1]), gg[1]:nElement(), untouched
    """)
    assert out[0] == 4 and out[1] < 1e-12 and out[2] < 1e-12
    assert out[3:] == ("torch.DoubleTensor", 12, True)


def test_auto_module_and_criterion_are_nn_classes(lua):
    out = run(lua, """
        local autograd = require 'autograd'
        local Affine = autograd.nn.AutoModule('NNTestAffine')
        local m = Affine(function(x, W, b) return torch.tanh(W * x + b) end,
                         torch.randn(2, 3), torch.randn(2))
        local Sq = autograd.nn.AutoCriterion('NNTestSquare')
        local c = Sq(function(x, t) return torch.sum(torch.pow(x - t, 2)) end)
        local seq = nn.Sequential():add(m):add(nn.Linear(2, 1))
        local p = seq:getParameters()
        local x, t = torch.randn(3), torch.randn(2)
        local cerr = criterionError(c, torch.randn(2), t)
        return jacobianErrors(m, x), cerr, torch.isTypeOf(m, 'nn.Module'),
               torch.type(m), p:nElement(), autograd.auto.NNTestAffine == Affine
    """)
    assert out[0] < 1e-6 and out[1] < 1e-6
    assert out[2:] == (True, "autograd.nn.module.NNTestAffine", 6 + 2 + 2 + 1, True)
