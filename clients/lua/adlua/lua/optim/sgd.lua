-- optim.sgd: stochastic gradient descent, as Torch7's.
--
-- config: learningRate (1e-3), learningRateDecay (0), weightDecay (0), momentum (0),
-- dampening (momentum), nesterov (false), learningRates and weightDecays (tensors of
-- per-parameter factors). One step:
--   g = df/dx + weightDecay * x
--   v = g the first time, then momentum * v + (1 - dampening) * g      (with momentum)
--   g = g + momentum * v with nesterov, else g = v
--   x = x - learningRate / (1 + evalCounter * learningRateDecay) * g
-- state: evalCounter, dfdx (the momentum buffer v).

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  local mom = config.momentum or 0
  local damp = config.dampening or mom
  local nesterov = config.nesterov or false
  local lrs, wds = config.learningRates, config.weightDecays
  state.evalCounter = state.evalCounter or 0
  assert(not nesterov or (mom > 0 and damp == 0),
         'Nesterov momentum requires a momentum and zero dampening')

  local fx, dfdx = opfunc(x)

  if wd ~= 0 then
    dfdx:add(wd, x)
  elseif wds then
    dfdx:addcmul(1, wds, x)
  end

  if mom ~= 0 then
    if not state.dfdx then
      state.dfdx = dfdx:clone()
    else
      state.dfdx:mul(mom):add(1 - damp, dfdx)
    end
    if nesterov then
      dfdx:add(mom, state.dfdx)
    else
      dfdx = state.dfdx
    end
  end

  local clr = lr / (1 + state.evalCounter * lrd)
  if lrs then
    x:addcmul(-clr, lrs, dfdx)
  else
    x:add(-clr, dfdx)
  end
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end
