-- autograd.optim: optim's algorithms, wrapped as torch-autograd wraps them.
--
--   local df = autograd(f)
--   local step, states = autograd.optim.adam(df, {learningRate = 1e-2}, params)
--   for i = 1, n do local grads, loss = step(x, y) end
--
-- step(...) calls df(params, ...), then updates every tensor of params in place (in sorted
-- key order), each with its own state: a copy of the given config, which the algorithm
-- also keeps its running values in (optim's convention: state.t, state.m, state.v, ...).
-- step returns whatever df returned. The algorithms themselves are in autograd.optim.raw,
-- with optim's signature: raw.sgd(opfunc, x, config, state) -> x, {fx}.

local torch = require 'torch'
local util = require 'autograd.util'

local raw = {}

-- x updated "in place": the tensor table is rebound to the new value
local function assign(x, value)
  x:copy(value)
  return x
end

function raw.sgd(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  local mom = config.momentum or 0
  local damp = config.dampening or mom
  local nesterov = config.nesterov or false
  state.evalCounter = state.evalCounter or 0
  if nesterov and (mom <= 0 or damp ~= 0) then
    error('Nesterov momentum requires a momentum and zero dampening', 2)
  end
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  if mom ~= 0 then
    if not state.dfdx then
      state.dfdx = dfdx
    else
      state.dfdx = state.dfdx * mom + dfdx * (1 - damp)
    end
    if nesterov then dfdx = dfdx + state.dfdx * mom else dfdx = state.dfdx end
  end
  local clr = lr / (1 + state.evalCounter * lrd)
  if config.learningRates then
    assign(x, x - torch.cmul(config.learningRates, dfdx) * clr)
  else
    assign(x, x - dfdx * clr)
  end
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end

function raw.adam(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 0.001
  local lrd = config.learningRateDecay or 0
  local beta1 = config.beta1 or 0.9
  local beta2 = config.beta2 or 0.999
  local epsilon = config.epsilon or 1e-8
  local wd = config.weightDecay or 0
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  state.t = state.t or 0
  state.m = state.m or util.zerosLike(x, dfdx)
  state.v = state.v or util.zerosLike(x, dfdx)
  local clr = lr / (1 + state.t * lrd)
  state.t = state.t + 1
  state.m = state.m * beta1 + dfdx * (1 - beta1)
  state.v = state.v * beta2 + torch.cmul(dfdx, dfdx) * (1 - beta2)
  state.denom = torch.sqrt(state.v) + epsilon
  local biasCorrection1 = 1 - beta1 ^ state.t
  local biasCorrection2 = 1 - beta2 ^ state.t
  local stepSize = clr * math.sqrt(biasCorrection2) / biasCorrection1
  assign(x, x - torch.cdiv(state.m, state.denom) * stepSize)
  return x, {fx}
end

function raw.adamax(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 0.002
  local beta1 = config.beta1 or 0.9
  local beta2 = config.beta2 or 0.999
  local epsilon = config.epsilon or 1e-38
  local wd = config.weightDecay or 0
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  state.t = state.t or 0
  state.m = state.m or util.zerosLike(x, dfdx)
  state.u = state.u or util.zerosLike(x, dfdx)
  state.t = state.t + 1
  state.m = state.m * beta1 + dfdx * (1 - beta1)
  state.u = torch.cmax(state.u * beta2, torch.abs(dfdx) + epsilon)
  local stepSize = lr / (1 - beta1 ^ state.t)
  assign(x, x - torch.cdiv(state.m, state.u) * stepSize)
  return x, {fx}
end

function raw.adagrad(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  state.evalCounter = state.evalCounter or 0
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  local clr = lr / (1 + state.evalCounter * lrd)
  state.paramVariance = (state.paramVariance or util.zerosLike(x, dfdx))
                        + torch.cmul(dfdx, dfdx)
  state.paramStd = torch.sqrt(state.paramVariance) + 1e-10
  assign(x, x - torch.cdiv(dfdx, state.paramStd) * clr)
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end

function raw.adadelta(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local rho = config.rho or 0.9
  local eps = config.eps or 1e-6
  local wd = config.weightDecay or 0
  state.evalCounter = state.evalCounter or 0
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  state.paramVariance = state.paramVariance or util.zerosLike(x, dfdx)
  state.accDelta = state.accDelta or util.zerosLike(x, dfdx)
  state.paramVariance = state.paramVariance * rho + torch.cmul(dfdx, dfdx) * (1 - rho)
  state.paramStd = torch.sqrt(state.paramVariance + eps)
  state.delta = torch.cmul(torch.cdiv(torch.sqrt(state.accDelta + eps), state.paramStd), dfdx)
  assign(x, x - state.delta)
  state.accDelta = state.accDelta * rho + torch.cmul(state.delta, state.delta) * (1 - rho)
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end

function raw.rmsprop(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-2
  local alpha = config.alpha or 0.99
  local epsilon = config.epsilon or 1e-8
  local wd = config.weightDecay or 0
  local mfill = config.initialMean or 0
  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx = dfdx + x * wd end
  state.m = state.m or util.zerosLike(x, dfdx) + mfill
  state.m = state.m * alpha + torch.cmul(dfdx, dfdx) * (1 - alpha)
  state.tmp = torch.sqrt(state.m) + epsilon
  assign(x, x - torch.cdiv(dfdx, state.tmp) * lr)
  return x, {fx}
end

local optim = {raw = raw}

local unpack = unpack or table.unpack
local function pack(...) return {n = select('#', ...), ...} end

local function wrap(optimfn)
  return function(fn, state, params)
    local states = {}
    local flatParams = util.sortedFlatten(params)
    for i = 1, #flatParams do states[i] = util.deepCopy(state or {}) end
    return function(...)
      local out = pack(fn(params, ...))
      local grads, loss = out[1], out[2]
      local flatGrads = util.sortedFlatten(grads)
      for i = 1, #flatGrads do
        local grad = flatGrads[i]
        if torch.isTensor(flatParams[i]) then
          optimfn(function() return loss, grad end, flatParams[i], states[i])
        end
      end
      return unpack(out, 1, out.n)
    end, states
  end
end

for name, fn in pairs(raw) do optim[name] = wrap(fn) end

return optim
