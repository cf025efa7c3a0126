-- optim.adadelta: ADADELTA (Zeiler, 2012), as Torch7's.
--
-- config: rho (0.9), eps (1e-6), lr (1), weightDecay (0). One step:
--   g = df/dx + weightDecay * x ;  v = rho * v + (1 - rho) * g^2
--   delta = sqrt(a + eps) / sqrt(v + eps) * g
--   x = x - lr * delta ;  a = rho * a + (1 - rho) * delta^2
-- state: evalCounter, paramVariance (v), paramStd, delta, accDelta (a).

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local rho = config.rho or 0.9
  local eps = config.eps or 1e-6
  local lr = config.lr or 1
  local wd = config.weightDecay or 0
  state.evalCounter = state.evalCounter or 0

  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx:add(wd, x) end

  if not state.paramVariance then
    state.paramVariance = torch.zeros(dfdx:size()):typeAs(dfdx)
    state.accDelta = torch.zeros(dfdx:size()):typeAs(dfdx)
  end
  state.paramVariance:mul(rho):addcmul(1 - rho, dfdx, dfdx)
  state.paramStd = state.paramVariance:clone():add(eps):sqrt()
  state.delta = state.accDelta:clone():add(eps):sqrt():cdiv(state.paramStd):cmul(dfdx)
  x:add(-lr, state.delta)
  state.accDelta:mul(rho):addcmul(1 - rho, state.delta, state.delta)
  state.evalCounter = state.evalCounter + 1
  return x, {fx}
end
