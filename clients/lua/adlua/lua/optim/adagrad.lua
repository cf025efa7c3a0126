-- optim.adagrad: AdaGrad, as Torch7's.
--
-- config: learningRate (1e-3), learningRateDecay (0), weightDecay (0). One step:
--   g = df/dx + weightDecay * x ;  s = s + g^2
--   x = x - learningRate / (1 + evalCounter * learningRateDecay) * g / (sqrt(s) + 1e-10)
-- state: evalCounter, paramVariance (s), paramStd.

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local wd = config.weightDecay or 0
  state.evalCounter = state.evalCounter or 0

  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx:add(wd, x) end

  local clr = lr / (1 + state.evalCounter * lrd)
  state.paramVariance = state.paramVariance or torch.zeros(dfdx:size()):typeAs(dfdx)
  state.paramVariance:addcmul(1, dfdx, dfdx)
  state.paramStd = state.paramVariance:clone():sqrt()
  x:addcdiv(-clr, dfdx, state.paramStd:add(1e-10))
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end
