-- optim.adam: Adam (Kingma and Ba, 2014), as Torch7's.
--
-- config: learningRate (1e-3), learningRateDecay (0), beta1 (0.9), beta2 (0.999),
-- epsilon (1e-8), weightDecay (0). One step, t counting from 1:
--   g = df/dx + weightDecay * x
--   m = beta1 * m + (1 - beta1) * g ;  v = beta2 * v + (1 - beta2) * g^2
--   x = x - lr' * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)
-- with lr' = learningRate / (1 + (t - 1) * learningRateDecay). state: t, m, v, denom.

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local lr = config.learningRate or 1e-3
  local lrd = config.learningRateDecay or 0
  local beta1 = config.beta1 or 0.9
  local beta2 = config.beta2 or 0.999
  local eps = config.epsilon or 1e-8
  local wd = config.weightDecay or 0

  local fx, dfdx = opfunc(x)
  if wd ~= 0 then dfdx:add(wd, x) end

  state.t = state.t or 0
  state.m = state.m or torch.zeros(dfdx:size()):typeAs(dfdx)
  state.v = state.v or torch.zeros(dfdx:size()):typeAs(dfdx)
  state.denom = state.denom or torch.zeros(dfdx:size()):typeAs(dfdx)

  local clr = lr / (1 + state.t * lrd)
  state.t = state.t + 1

  state.m:mul(beta1):add(1 - beta1, dfdx)
  state.v:mul(beta2):addcmul(1 - beta2, dfdx, dfdx)
  state.denom:copy(state.v):sqrt():add(eps)

  local biasCorrection1 = 1 - beta1 ^ state.t
  local biasCorrection2 = 1 - beta2 ^ state.t
  local stepSize = clr * math.sqrt(biasCorrection2) / biasCorrection1
  x:addcdiv(-stepSize, state.m, state.denom)
  return x, {fx}
end
