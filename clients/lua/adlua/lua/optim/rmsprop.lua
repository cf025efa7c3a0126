-- optim.rmsprop: RMSprop, as Torch7's.
--
-- config: learningRate (1e-2), alpha (0.99), epsilon (1e-8), weightDecay (0). One step:
--   g = df/dx + weightDecay * x ;  m = alpha * m + (1 - alpha) * g^2
--   x = x - learningRate * g / (sqrt(m) + epsilon)
-- state: m, tmp.

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-2
  local alpha = config.alpha or 0.99
  local epsilon = config.epsilon or 1e-8
  local wd = config.weightDecay or 0

  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx:add(wd, x) end

  state.m = state.m or torch.zeros(dfdx:size()):typeAs(dfdx)
  state.m:mul(alpha):addcmul(1 - alpha, dfdx, dfdx)
  state.tmp = torch.sqrt(state.m):add(epsilon)
  x:addcdiv(-lr, dfdx, state.tmp)
  return x, {fx}
end
