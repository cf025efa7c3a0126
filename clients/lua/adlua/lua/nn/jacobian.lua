-- nn.Jacobian: Torch7's checks of a module's backward against finite differences.
--
--   err = nn.Jacobian.testJacobian(module, input [, minval, maxval, perturbation])
--   err = nn.Jacobian.testJacobianParameters(module, input, param, dparam [, minval, maxval,
--                                             perturbation])
-- Each builds the Jacobian twice, by backward with every one-hot gradOutput and by central
-- differences (perturb one element, forward, compare), and returns the largest difference.
-- With minval and maxval, input (and param) are refilled uniformly in [minval, maxval]
-- first, in place, as Torch7 does. Input may also be a table of tensors (its tensors are
-- taken in order); the differences stay on the daemon until the one error is fetched.

local torch = require 'torch'
local trace = require 'nn.trace'
local isTensor = torch.isTensor

local Jacobian = {}
nn.Jacobian = Jacobian

local function plainTable(x) return type(x) == 'table' and not isTensor(x) end

-- every tensor of x flattened and joined into one vector
local function flatOf(x)
  local list = trace.tensorsOf(x)
  local parts = {}
  for i, t in ipairs(list) do parts[i] = t:contiguous():view(t:nElement()):double() end
  if #parts == 1 then return parts[1] end
  return torch.cat(parts, 1)
end

-- x's structure, with tensor number k (in tensorsOf order) replaced by v
local function replaced(x, k, v, pos)
  pos = pos or {i = 0}
  if isTensor(x) then
    pos.i = pos.i + 1
    if pos.i == k then return v end
    return x
  end
  if plainTable(x) then
    local out = {}
    local n = #x
    for i = 1, n do out[i] = replaced(x[i], k, v, pos) end
    return out
  end
  return x
end

-- the one-hot gradOutput for element j of the joined output, shaped as `output`
local function oneHot(output, j)
  local list = trace.tensorsOf(output)
  local offset = 0
  local parts = {}
  for i, t in ipairs(list) do
    local g = torch.zeros(t:size()):type(torch.type(t))
    local n = t:nElement()
    if j > offset and j <= offset + n then
      local flat = g:view(n)
      flat[j - offset] = 1
    end
    offset = offset + n
    parts[i] = g
  end
  if isTensor(output) then return parts[1] end
  local k = 0
  local function build(x)
    if isTensor(x) then k = k + 1; return parts[k] end
    local out = {}
    for i = 1, #x do out[i] = build(x[i]) end
    return out
  end
  return build(output)
end

-- the central differences of the joined output with respect to each element of the
-- tensors `vars` (numbered as in tensorsOf(input), or a parameter), as rows
local function finiteDifferences(module, input, which, param, perturbation)
  local rows = {}
  local function column(forwardAt)
    local a = flatOf(forwardAt(-perturbation))
    local b = flatOf(forwardAt(perturbation))
    return (b - a) / (2 * perturbation)
  end
  if param then
    local n = param:nElement()
    local orig = param:clone()
    for i = 1, n do
      rows[#rows + 1] = column(function(delta)
        local step = torch.zeros(n):type(torch.type(param))
        step[i] = delta
        param:copy(orig + step:view(param:size()))
        return module:forward(input)
      end)
    end
    param:copy(orig)
  else
    for k, t in ipairs(which) do
      local n = t:nElement()
      for i = 1, n do
        rows[#rows + 1] = column(function(delta)
          local step = torch.zeros(n):type(torch.type(t))
          step[i] = delta
          return module:forward(replaced(input, k, t + step:view(t:size())))
        end)
      end
    end
  end
  return torch.cat(rows, 1)
end

-- the same rows from backward, one gradOutput per output element
local function backpropagated(module, input, param, dparam)
  local output = module:forward(input)
  local m = flatOf(output):nElement()
  local cols = {}
  for j = 1, m do
    local g = oneHot(output, j)
    if param then
      module:zeroGradParameters()
      module:updateGradInput(input, g)
      module:accGradParameters(input, g)
      cols[j] = dparam:clone():view(dparam:nElement()):double()
    else
      cols[j] = flatOf(module:updateGradInput(input, g))
    end
  end
  -- cols[j] holds d out_j / d var_i; the finite differences are laid out by var, then out
  local n = cols[1]:nElement()
  local jac = torch.cat(cols, 1):view(m, n)
  return jac:t():contiguous():view(n * m)
end

local function refill(t, minval, maxval)
  if minval ~= nil then t:copy(torch.rand(t:size()):mul(maxval - minval):add(minval)) end
end

function Jacobian.testJacobian(module, input, minval, maxval, perturbation)
  perturbation = perturbation or 1e-6
  local vars = trace.tensorsOf(input)
  for _, t in ipairs(vars) do refill(t, minval, maxval) end
  local fd = finiteDifferences(module, input, vars, nil, perturbation)
  local bp = backpropagated(module, input)
  return torch.max(torch.abs(fd - bp))
end

function Jacobian.testJacobianParameters(module, input, param, dparam, minval, maxval,
                                         perturbation)
  perturbation = perturbation or 1e-6
  for _, t in ipairs(trace.tensorsOf(input)) do refill(t, minval, maxval) end
  refill(param, minval, maxval)
  local fd = finiteDifferences(module, input, nil, param, perturbation)
  local bp = backpropagated(module, input, param, dparam)
  return torch.max(torch.abs(fd - bp))
end

return Jacobian
