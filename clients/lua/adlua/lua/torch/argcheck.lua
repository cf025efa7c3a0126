-- torch.argcheck: the torch functions that take tensors check their arguments on the way
-- in, so that a mistake in the user's line is reported at that line, naming the function
-- and the argument:
--
--   stdin:1: torch.sum: argument 1 is nil (expected a tensor; an undefined variable?)
--
-- rather than as an "attempt to index a nil value" deep inside this library. Every
-- torch.X that is also a tensor method (x:X) gets the check: its first argument must be a
-- tensor, a number or a table (a list of tensors, a size), and the functions of several
-- operands below must have that many. The methods of several operands check their
-- operands too (x:add(nil) names x:add's argument 1).

return function(torch, T)

local select, type = select, type
local isTensor, userError = T.isTensor, T.userError

-- torch.X that are tensor methods but do not take a tensor first
local NOT_TENSOR_FIRST = {
  random = true, uniform = true, normal = true, rand = true, randn = true,
  bernoulli = true, type = true, typename = true, isTensor = true, new = true,
}

-- operands each function needs (a leading result tensor, torch.add(res, a, b), only adds)
local OPERANDS = {
  add = 2, csub = 2, mul = 2, cmul = 2, div = 2, cdiv = 2, pow = 2, cpow = 2, dot = 2,
  mm = 2, mv = 2, bmm = 2, ger = 2, cross = 2, dist = 2, cmax = 2, cmin = 2, atan2 = 2,
  fmod = 2, remainder = 2, eq = 2, ne = 2, lt = 2, le = 2, gt = 2, ge = 2, equal = 2,
  addcmul = 3, addcdiv = 3, lerp = 3, expandAs = 2, viewAs = 2, typeAs = 2,
  maskedSelect = 2, index = 3, gather = 3, select = 3, narrow = 4, view = 2,
  reshape = 2, expand = 2, copy = 2, resizeAs = 2, set = 2, clamp = 3,
}

local function describe(x)
  if isTensor(x) then return torch.type(x) end
  return type(x)
end

local function checkFirst(what, x)
  if x == nil then
    userError(what .. ': argument 1 is nil (expected a tensor; an undefined variable?)')
  end
  local tx = type(x)
  if tx == 'string' or tx == 'boolean' or tx == 'function' then
    userError(what .. ': argument 1 must be a tensor, got ' .. describe(x))
  end
end

local function checkOperands(what, need, first, ...)
  for i = 1, need do
    if select(i, ...) == nil then
      userError(string.format('%s: argument %d is nil (expected a tensor or a number; ' ..
                              'an undefined variable?)', what, i + first - 1))
    end
  end
end

local function guardFunction(name, f)
  local what = 'torch.' .. name
  local need = OPERANDS[name]
  if need then
    return function(...)
      checkFirst(what, (...))
      checkOperands(what, need, 1, ...)
      return f(...)
    end
  end
  return function(...)
    checkFirst(what, (...))
    return f(...)
  end
end

-- a method's operands after self (x:add(y) needs y); self itself is the caller's tensor
local function guardMethod(name, f, need)
  local what = 'x:' .. name
  return function(self, ...)
    checkOperands(what, need, 1, ...)
    return f(self, ...)
  end
end

local Tensor = T.Tensor
local guarded = {}        -- the names of the torch functions to check
for name, f in pairs(Tensor) do
  if type(f) == 'function' and rawget(torch, name) == f then guarded[name] = true end
end
for name in pairs(OPERANDS) do guarded[name] = true end
for _, name in ipairs(T.unaryNames or {}) do guarded[name] = true end
for _, name in ipairs({'sum', 'prod', 'mean', 'max', 'min', 'cumsum', 'cumprod', 'var',
                       'std', 'norm', 'trace', 'sort', 'abs', 'sqrt', 'sigmoid', 'round',
                       'transpose', 't', 'squeeze', 'unsqueeze', 'clone', 'contiguous',
                       'cat', 'diag', 'inverse', 'all', 'any', 'numel', 'nElement',
                       'size', 'dim', 'nDimension', 'permute', 'split', 'chunk'}) do
  guarded[name] = true
end
for name in pairs(guarded) do
  local f = rawget(torch, name)
  if type(f) == 'function' and not NOT_TENSOR_FIRST[name] then
    torch[name] = guardFunction(name, f)
  end
end
-- x:method(operands): only those of several operands, where a nil operand would surface
-- as an error inside the library
for name, need in pairs(OPERANDS) do
  local f = Tensor[name]
  if type(f) == 'function' and need > 1 then Tensor[name] = guardMethod(name, f, need - 1) end
end

end
