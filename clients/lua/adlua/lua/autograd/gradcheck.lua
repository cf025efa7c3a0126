-- autograd.gradcheck: torch-autograd's gradient checker.
--
--   local gradcheck = require 'autograd.gradcheck' {randomizeInput = true}
--   assert(gradcheck(f, params, x, y))
--
-- For every tensor of params (argument 1), in sorted key order, the gradient autograd gives
-- is compared with central finite differences (a perturbation of 1e-6; the check passes
-- when no element differs by 1e-5 or more). With randomizeInput (the default) each tensor
-- is first refilled with uniform numbers in [-1, 1], in place. Two autograd runs must also
-- agree exactly.
--
-- The perturbed evaluations are queued together (the perturbed tensor is traced, so f's
-- reductions stay on the daemon) and their values fetched a few hundred per round trip.

local torch = require 'torch'
local B = _ADLUA
local isTensor = torch.isTensor
local sizeOf = torch._sizeOf
local unpack = unpack or table.unpack

local perturbation = 1e-6
local threshold = 1e-5

local function pack(...) return {n = select('#', ...), ...} end

local numel = torch._internals.numel

-- the gradient of x: the entry of dst at x's place in ref
local function findGrad(ref, x, dst)
  for k, v in pairs(ref) do
    if rawequal(v, x) then
      return dst[k]
    elseif type(v) == 'table' and not isTensor(v) and type(dst) == 'table' then
      local res = findGrad(v, x, dst[k])
      if res then return res end
    end
  end
end

local function flatValues(t)
  local size = sizeOf(t)
  if #size == 0 then return {(torch._fetchNumbers(t._h))} end
  local v = B.values(t._h)
  local out = {}
  for i = 1, numel(size) do out[i] = v[i] end
  return out
end

local function swap(var, t)
  local saved = {rawget(var, '_h'), rawget(var, '_level'), rawget(var, '_size'),
                 rawget(var, '_dtype')}
  rawset(var, '_h', t._h)
  rawset(var, '_level', t._level)
  rawset(var, '_size', t._size)
  rawset(var, '_dtype', t._dtype)
  return saved
end

local function restore(var, saved)
  rawset(var, '_h', saved[1])
  rawset(var, '_level', saved[2])
  rawset(var, '_size', saved[3])
  rawset(var, '_dtype', saved[4])
end

-- the numbers behind many 0-d tensors, fetched FETCH_CHUNK at a time: one round trip each,
-- and never more values than an engine can pass at once (LuaJIT's unpack and call stack
-- stop near 8000, fewer than the evaluations of a layer's weights)
local FETCH_CHUNK = 256
local function fetchAll(tensors)
  local values = {}
  for first = 1, #tensors, FETCH_CHUNK do
    local handles = {}
    for i = first, math.min(first + FETCH_CHUNK - 1, #tensors) do
      handles[#handles + 1] = tensors[i]._h
    end
    local chunk = {torch._fetchNumbers(unpack(handles, 1, #handles))}
    for k = 1, #handles do values[first + k - 1] = chunk[k] end
  end
  return values
end

-- var with element i of its flat view moved by delta: a one-hot step, made on the daemon
-- (an identity matrix to take rows from would hold n^2 numbers)
local function stepped(flat, n, i, delta)
  local step = torch.zeros(n):type(torch.type(flat))
  step[i] = delta
  return flat + step
end

local function jacobianFromFiniteDifferences(func, inputs, var)
  local size = sizeOf(var)
  local n = numel(size)
  local flat = torch.view(var, n)
  local level = B.push_level()
  local saved
  local outputs = {}
  local ok, err = pcall(function()
    for i = 1, n do
      for side = 1, 2 do
        local perturbed = stepped(flat, n, i, (side == 1 and -perturbation or perturbation) / 2)
        perturbed = torch.view(perturbed, torch.LongStorage(size))
        local traced = torch._fromhandle(B.op('box', perturbed._h, level), level, size,
                                         var._dtype)
        saved = swap(var, traced)
        local pred = func(unpack(inputs, 1, inputs.n))
        restore(var, saved)
        saved = nil
        if isTensor(pred) and #sizeOf(pred) ~= 0 then
          pred = torch.view(pred, torch.LongStorage({}))
        end
        outputs[#outputs + 1] = pred
      end
    end
  end)
  if saved then restore(var, saved) end
  B.pop_level(level)
  if not ok then error(err, 0) end
  local tensors, where = {}, {}
  for i, pred in ipairs(outputs) do
    if isTensor(pred) then
      tensors[#tensors + 1] = pred
      where[#tensors] = i
    end
  end
  local values = fetchAll(tensors)
  for k, i in ipairs(where) do outputs[i] = values[k] end
  local grads = {}
  for i = 1, n do
    grads[i] = (outputs[2 * i] - outputs[2 * i - 1]) / perturbation
  end
  return grads
end

local function jacobianFromAutograd(func, inputs, var)
  local autograd = require 'autograd'
  local df = autograd(func)
  local grads = df(unpack(inputs, 1, inputs.n))
  local gradsVerify = df(unpack(inputs, 1, inputs.n))
  local g, gVerify
  if rawequal(inputs[1], var) then
    g, gVerify = grads, gradsVerify
  else
    g = findGrad(inputs[1], var, grads)
    gVerify = findGrad(inputs[1], var, gradsVerify)
  end
  if g == nil then error('gradcheck: no gradient was returned for a parameter', 0) end
  local a, b = flatValues(g), flatValues(gVerify)
  for i = 1, #a do
    if a[i] ~= b[i] then error('autograd gradient not deterministic', 0) end
  end
  return a
end

local function gradcheckvar(func, inputs, var, randomizeInput)
  if randomizeInput then var:uniform(-1, 1) end
  local jacobian1 = jacobianFromFiniteDifferences(func, inputs, var)
  local jacobian2 = jacobianFromAutograd(func, inputs, var)
  local err = 0
  for i = 1, #jacobian1 do
    local d = math.abs(jacobian1[i] - jacobian2[i])
    if d ~= d then d = math.huge end
    if d > err then err = d end
  end
  local pass = err < threshold
  if not pass then print('error = ' .. err) end
  return pass
end

return function(opt)
  opt = opt or {}
  local randomizeInput = opt.randomizeInput
  if randomizeInput == nil then randomizeInput = true end
  local util = require 'autograd.util'
  return function(func, ...)
    local args = pack(...)
    local vars = util.sortedFlatten(args[1])
    local ok = true
    for _, var in ipairs(vars) do
      if isTensor(var) then
        ok = ok and gradcheckvar(func, args, var, randomizeInput)
      end
    end
    return ok
  end
end
