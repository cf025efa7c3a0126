-- torch.math: elementwise math, comparisons, reductions and linear algebra.
--
-- Each torch.X is functional: it returns a new tensor (or, where Torch7 returns a number,
-- a number; a traced one stays a 0-d tensor). Torch7's optional leading result tensor,
-- torch.X(res, ...), is accepted where the arguments leave no doubt; res is rebound to
-- the answer and returned. The in-place methods (x:add, x:exp, ...) are in tensor.lua.

return function(torch, T)

local isTensor, sizeOf, numel = T.isTensor, T.sizeOf, T.numel
local apply, applyk, number, elementwise = T.apply, T.applyk, T.number, T.elementwise
local userError, rebind, axis, int = T.userError, T.rebind, T.axis, T.int
local FLOAT, HAS_OP = T.FLOAT, T.HAS_OP
local copySize = T.copySize
local floor, ceil, abs, exp, log, huge = math.floor, math.ceil, math.abs, math.exp, math.log,
                                         math.huge

local function floatType(dtype)
  return FLOAT[dtype] and dtype or 'float64'
end

------------------------------------------------------------------------------------------
-- math on plain Lua numbers (torch.exp(2) is a number, as in Torch7). Lua 5.3+ has no
-- math.sinh/cosh/tanh, and no Lua has log1p, so they are written out.

local function sinh(x) return (exp(x) - exp(-x)) / 2 end
local function cosh(x) return (exp(x) + exp(-x)) / 2 end
local function tanh(x)
  if x > 20 then return 1 elseif x < -20 then return -1 end
  local e = exp(2 * x)
  return (e - 1) / (e + 1)
end
local function log1p(x)
  local u = 1 + x
  if u == 1 then return x end
  return log(u) * x / (u - 1)     -- exact to rounding where log(1 + x) is not
end
local function expm1(x)
  if abs(x) < 1e-5 then return x + x * x / 2 + x * x * x / 6 end
  return exp(x) - 1
end
local function sign(x) return x > 0 and 1 or (x < 0 and -1 or 0) end
-- Torch7 rounds halves away from zero (C's round), numpy to even
local function round(x) if x >= 0 then return floor(x + 0.5) end return ceil(x - 0.5) end
local function trunc(x) if x >= 0 then return floor(x) end return ceil(x) end
local function sigmoid(x) return 1 / (1 + exp(-x)) end
T.numberMath = {sinh = sinh, cosh = cosh, tanh = tanh, log1p = log1p, sign = sign}

------------------------------------------------------------------------------------------
-- elementwise functions of one tensor

-- result type: these keep integer types; the others give floats from integers
local KEEPS_TYPE = {absolute = true, negative = true, sign = true, floor = true, ceil = true,
                    trunc = true}

local function unary(opName)
  local keeps = KEEPS_TYPE[opName]
  return function(x)
    local dtype = x._dtype
    if not keeps then dtype = floatType(dtype) end
    return apply(opName, sizeOf(x), dtype, x)
  end
end

local UNARY = {
  exp = {'exp', exp}, log = {'log', log}, log1p = {'log1p', log1p}, expm1 = {'expm1', expm1},
  sqrt = {'sqrt', math.sqrt}, sin = {'sin', math.sin}, cos = {'cos', math.cos},
  tan = {'tan', math.tan}, asin = {'arcsin', math.asin}, acos = {'arccos', math.acos},
  atan = {'arctan', math.atan}, sinh = {'sinh', sinh}, cosh = {'cosh', cosh},
  tanh = {'tanh', tanh}, abs = {'absolute', abs}, floor = {'floor', floor},
  ceil = {'ceil', ceil}, trunc = {'trunc', trunc}, sign = {'sign', sign},
  neg = {'negative', function(x) return -x end},
  cinv = {'reciprocal', function(x) return 1 / x end},
}
T.unaryNames = {}
for torchName, spec in pairs(UNARY) do
  local onTensor, onNumber = unary(spec[1]), spec[2]
  T.unaryNames[#T.unaryNames + 1] = torchName
  torch[torchName] = function(x, y)
    if type(x) == 'number' then return onNumber(x) end
    if y ~= nil then return rebind(x, onTensor(y)) end     -- torch.exp(res, y)
    if not isTensor(x) then
      userError('torch.' .. torchName .. ': expected a tensor or a number, got ' .. type(x))
    end
    return onTensor(x)
  end
end

-- Torch7's round (halves away from zero): sign(x) * floor(|x| + 0.5), all zero-gradient
function torch.round(x, y)
  if type(x) == 'number' then return round(x) end
  if y ~= nil then return rebind(x, torch.round(y)) end
  if not FLOAT[x._dtype] then return torch.clone(x) end
  local size, dtype = sizeOf(x), x._dtype
  local r = apply('floor', size, dtype, apply('add', size, dtype, apply('absolute', size,
                  dtype, x), 0.5))
  return apply('multiply', size, dtype, apply('sign', size, dtype, x), r)
end
T.unaryNames[#T.unaryNames + 1] = 'round'

function torch.sigmoid(x, y)
  if type(x) == 'number' then return sigmoid(x) end
  if y ~= nil then return rebind(x, torch.sigmoid(y)) end
  local size, dtype = sizeOf(x), floatType(x._dtype)
  if HAS_OP['scipy.special.expit'] then return apply('scipy.special.expit', size, dtype, x) end
  local e = apply('exp', size, dtype, apply('negative', size, dtype, x))
  return apply('divide', size, dtype, 1, apply('add', size, dtype, e, 1))
end
T.unaryNames[#T.unaryNames + 1] = 'sigmoid'

function torch.rsqrt(x, y)
  if type(x) == 'number' then return 1 / math.sqrt(x) end
  if y ~= nil then return rebind(x, torch.rsqrt(y)) end
  return apply('power', sizeOf(x), floatType(x._dtype), x, -0.5)
end
function torch.frac(x, y)
  if type(x) == 'number' then return x - trunc(x) end
  if y ~= nil then return rebind(x, torch.frac(y)) end
  return x - torch.trunc(x)
end
function torch.square(x)
  if type(x) == 'number' then return x * x end
  return apply('square', sizeOf(x), x._dtype, x)
end

------------------------------------------------------------------------------------------
-- elementwise functions of two operands (tensors or numbers, broadcasting as numpy)

-- integer / integer stays integer in Torch7 (C division, truncating toward zero); numpy
-- divides integers into float64, which astype truncates back
local function divide(a, b)
  local r = elementwise('divide', a, b)
  local want = r._dtype
  if FLOAT[want] then return r end
  rawset(T.unwrap(r), '_dtype', 'float64')
  return apply('astype', r._size, want, r, want)
end
T.divide = divide

local function add(a, b) return elementwise('add', a, b) end
local function sub(a, b) return elementwise('subtract', a, b) end
local function mul(a, b) return elementwise('multiply', a, b) end
T.add, T.sub, T.mul = add, sub, mul

-- a + v * b
local function addScaled(a, v, b)
  if v == 1 then return add(a, b) end
  return add(a, mul(b, v))
end

-- torch.add(a, b), torch.add(a, v, b) = a + v*b, and with a leading result tensor
function torch.add(a, b, c, d)
  if d ~= nil then return rebind(a, addScaled(b, c, d)) end
  if c ~= nil then
    if type(b) == 'number' then return addScaled(a, b, c) end
    return rebind(a, add(b, c))
  end
  return add(a, b)
end
function torch.csub(a, b, c, d)
  if d ~= nil then return rebind(a, sub(b, mul(d, c))) end
  if c ~= nil then
    if type(b) == 'number' then return sub(a, mul(c, b)) end
    return rebind(a, sub(b, c))
  end
  return sub(a, b)
end

-- two-operand functions, with an optional leading result tensor
local function binary(f)
  return function(a, b, c)
    if c ~= nil then return rebind(a, f(b, c)) end
    return f(a, b)
  end
end
torch.mul = binary(mul)
torch.cmul = binary(mul)
torch.div = binary(divide)
torch.cdiv = binary(divide)
T.binary = binary

local function pow(a, b)
  if type(a) == 'number' and type(b) == 'number' then return a ^ b end
  return elementwise('power', a, b)
end
T.pow = pow
torch.pow = binary(pow)
torch.cpow = torch.pow
torch.tpow = torch.pow

local function numberOr(f, onNumbers)
  return function(a, b)
    if type(a) == 'number' and type(b) == 'number' then return onNumbers(a, b) end
    return f(a, b)
  end
end
torch.cmax = binary(numberOr(function(a, b) return elementwise('maximum', a, b) end, math.max))
torch.cmin = binary(numberOr(function(a, b) return elementwise('minimum', a, b) end, math.min))
torch.atan2 = binary(numberOr(function(a, b) return elementwise('arctan2', a, b) end,
                              math.atan2 or math.atan))
torch.fmod = binary(numberOr(function(a, b) return elementwise('fmod', a, b) end, math.fmod))
torch.remainder = binary(numberOr(function(a, b) return elementwise('remainder', a, b) end,
                                  function(a, b) return a - floor(a / b) * b end))

-- torch.clamp(x, min, max)
local function clamp(x, lo, hi)
  if type(x) == 'number' then
    if lo ~= nil and x < lo then x = lo end
    if hi ~= nil and x > hi then x = hi end
    return x
  end
  return apply('clip', sizeOf(x), x._dtype, x, lo, hi)
end
T.clamp = clamp
function torch.clamp(a, b, c, d)
  if isTensor(b) then return rebind(a, clamp(b, c, d)) end
  return clamp(a, b, c)
end

-- x + v * t1 .* t2 and x + v * t1 ./ t2
local function addc(f)
  return function(x, v, t1, t2)
    if t2 == nil then v, t1, t2 = 1, v, t1 end
    return addScaled(x, v, f(t1, t2))
  end
end
T.addcmul, T.addcdiv = addc(mul), addc(divide)
torch.addcmul, torch.addcdiv = T.addcmul, T.addcdiv

-- a + w * (b - a)
function torch.lerp(a, b, w)
  return add(a, mul(sub(b, a), w))
end

------------------------------------------------------------------------------------------
-- comparisons: ByteTensors of 0 and 1, never traced

local COMPARE = {lt = 'less', le = 'less_equal', gt = 'greater', ge = 'greater_equal',
                 eq = 'equal', ne = 'not_equal'}
local function compare(opName)
  return function(a, b)
    local r = elementwise(opName, a, b)
    return apply('astype', r._size, 'uint8', r, 'uint8')
  end
end
T.compare = {}
for torchName, opName in pairs(COMPARE) do
  local f = compare(opName)
  T.compare[torchName] = f
  torch[torchName] = function(a, b, c)
    -- torch.lt(res, a, b): Torch7 writes the answer into res, in res's type
    if c ~= nil then return rebind(a, T.Tensor.type(f(b, c), torch.type(a))) end
    return f(a, b)
  end
end

local function truth(x, opName)
  if type(x) == 'boolean' then return x end
  if numel(sizeOf(x)) == 0 then return opName == 'min' end
  return number(apply(opName, {}, x._dtype, apply('astype', sizeOf(x), 'uint8', x,
                                                   'uint8'))) ~= 0
end
function torch.all(x) return truth(x, 'min') end
function torch.any(x) return truth(x, 'max') end

-- true if both tensors have the same size and the same elements
function torch.equal(a, b)
  if not (isTensor(a) and isTensor(b)) then return false end
  if not T.sameSize(sizeOf(a), sizeOf(b)) then return false end
  return torch.all(T.compare.eq(a, b))
end

------------------------------------------------------------------------------------------
-- reductions: over everything (a number, as Torch7) or over one dim, which stays (size 1)

local function reducedSize(x, ax)
  local out = copySize(sizeOf(x))
  out[ax + 1] = 1
  return out
end
T.reducedSize = reducedSize

-- the accumulating dtype: Torch7 sums integers in a long, numpy in its own choice
local function sumType(dtype)
  if FLOAT[dtype] then return nil end
  return 'int64'
end

-- Torch7 reduces a whole FloatTensor in double precision (its accreal) into a Lua number;
-- numpy would stay in float32. Traced values keep their type (the gradient's).
local function allReduction(opName, x, dtype, kw)
  dtype = dtype or x._dtype
  if x._dtype == 'float32' and x._level == 0 then
    kw = kw or {}
    kw.dtype = 'float64'
    dtype = 'float64'
  end
  if kw then return number(applyk(opName, kw, {}, dtype, x)) end
  return number(apply(opName, {}, dtype, x))
end

local function summing(opName)
  return function(x, dim)
    if type(x) == 'number' then return x end
    if dim == nil then
      local acc = sumType(x._dtype)
      if acc then return number(applyk(opName, {dtype = acc}, {}, acc, x)) end
      return allReduction(opName, x)
    end
    local ax = axis(x, dim, 'torch.' .. opName)
    local kw = {axis = ax, keepdims = true}
    if not FLOAT[x._dtype] then kw.dtype = x._dtype end
    return applyk(opName, kw, reducedSize(x, ax), x._dtype, x)
  end
end
torch.sum = summing('sum')
torch.prod = summing('prod')

function torch.mean(x, dim)
  if type(x) == 'number' then return x end
  local dtype = floatType(x._dtype)
  if dim == nil then return allReduction('mean', x, dtype) end
  local ax = axis(x, dim, 'torch.mean')
  return applyk('mean', {axis = ax, keepdims = true}, reducedSize(x, ax), dtype, x)
end

-- cumulative sums and products along a dim (Torch7's default: the first)
local function scan(opName)
  return function(x, dim)
    local ax = axis(x, dim or 1, 'torch.' .. opName)
    local kw = {axis = ax}
    if not FLOAT[x._dtype] then kw.dtype = x._dtype end
    return applyk(opName, kw, sizeOf(x), x._dtype, x)
  end
end
torch.cumsum = scan('cumsum')
torch.cumprod = scan('cumprod')

-- torch.max(x): a number; torch.max(x, dim): the values and their 1-based indices (a
-- LongTensor), the dim kept; torch.max(a, b) of two tensors: Torch7's cmax.
local function extremum(opName, argName, pairwise)
  return function(x, dim, c)
    if isTensor(dim) then
      if c ~= nil then return rebind(x, pairwise(dim, c)) end
      return pairwise(x, dim)
    end
    if type(x) == 'number' then
      if type(dim) == 'number' then return pairwise(x, dim) end
      return x
    end
    if dim == nil then return number(apply(opName, {}, x._dtype, x)) end
    local ax = axis(x, dim, 'torch.' .. opName)
    local size = reducedSize(x, ax)
    local index = applyk(argName, {axis = ax, keepdims = true}, size, 'int64', x)
    -- the values are read at the indices, so that the gradient reaches the element
    -- the index names (as in torch-autograd), even where values tie
    local values = applyk('take_along_axis', {axis = ax}, size, x._dtype, x, index)
    return values, apply('add', size, 'int64', index, 1)
  end
end
torch.max = extremum('max', 'argmax', torch.cmax)
torch.min = extremum('min', 'argmin', torch.cmin)

-- torch.sort(x [, dim] [, descending]): values and 1-based indices along dim (default last)
function torch.sort(x, dim, descending)
  if type(dim) == 'boolean' then dim, descending = nil, dim end
  local size = sizeOf(x)
  local ax = axis(x, dim or #size, 'torch.sort')
  local key = descending and apply('negative', size, x._dtype, x) or x
  local index = applyk('argsort', {axis = ax, kind = 'stable'}, size, 'int64', key)
  local values = applyk('take_along_axis', {axis = ax}, size, x._dtype, x, index)
  return values, apply('add', size, 'int64', index, 1)
end

-- variance and standard deviation: Torch7's default is the unbiased estimate (n - 1);
-- flag = true divides by n
local function spread(opName)
  return function(x, dim, flag)
    local dtype = floatType(x._dtype)
    local ddof = flag and 0 or 1
    if dim == nil then return allReduction(opName, x, dtype, {ddof = ddof}) end
    local ax = axis(x, dim, 'torch.' .. opName)
    return applyk(opName, {axis = ax, ddof = ddof, keepdims = true}, reducedSize(x, ax),
                  dtype, x)
  end
end
torch.var = spread('var')
torch.std = spread('std')

-- torch.norm(x [, p]): the p-norm of all elements, a number; torch.norm(x, p, dim): over
-- one dim, kept. Composed from elementwise ops and sums, whose gradients the daemon has.
local function norm(x, p, dim)
  p = p or 2
  local size, dtype = sizeOf(x), floatType(x._dtype)
  local kw, out = {}, {}
  if dim ~= nil then
    local ax = axis(x, dim, 'torch.norm')
    kw = {axis = ax, keepdims = true}
    out = reducedSize(x, ax)
  end
  local r
  if p == 2 then
    r = apply('sqrt', out, dtype, applyk('sum', kw, out, dtype, apply('square', size, dtype, x)))
  elseif p == 1 then
    r = applyk('sum', kw, out, dtype, apply('absolute', size, dtype, x))
  elseif p == huge then
    r = applyk('max', kw, out, dtype, apply('absolute', size, dtype, x))
  elseif p == 0 then
    r = applyk('sum', kw, out, dtype, apply('astype', size, dtype,
                                            apply('not_equal', size, 'bool', x, 0), dtype))
  else
    local s = applyk('sum', kw, out, dtype,
                     apply('power', size, dtype, apply('absolute', size, dtype, x), p))
    r = apply('power', out, dtype, s, 1 / p)
  end
  if dim == nil then return number(r) end
  return r
end
function torch.norm(x, p, dim)
  if type(x) == 'number' then return abs(x) end
  return norm(x, p, dim)
end
function torch.dist(a, b, p)
  return norm(sub(a, b), p)
end

function torch.trace(x)
  return number(apply('trace', {}, x._dtype, x))
end

------------------------------------------------------------------------------------------
-- linear algebra

local function dims(x) return #sizeOf(x) end
local function need(cond, message) if not cond then userError(message) end end

-- Torch7's dot treats both tensors as vectors of their elements
local function dot(a, b)
  local dtype = T.promote(a._dtype, b._dtype)
  need(numel(sizeOf(a)) == numel(sizeOf(b)),
       'torch.dot: inconsistent tensor size (' .. numel(sizeOf(a)) .. ' and ' ..
       numel(sizeOf(b)) .. ' elements)')
  if dims(a) == 1 and dims(b) == 1 then return number(apply('dot', {}, dtype, a, b)) end
  return number(apply('sum', {}, dtype, apply('multiply', sizeOf(a), dtype,
                      a, T.reshape(b, sizeOf(a)))))
end
T.dot = dot
torch.dot = dot

local function mm(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  need(#sa == 2 and #sb == 2, 'torch.mm: expected two matrices, got ' .. #sa .. 'D and ' ..
       #sb .. 'D tensors')
  need(sa[2] == sb[1], string.format('torch.mm: size mismatch, %dx%d times %dx%d',
                                     sa[1], sa[2], sb[1], sb[2]))
  return apply('matmul', {sa[1], sb[2]}, T.promote(a._dtype, b._dtype), a, b)
end
local function mv(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  need(#sa == 2 and #sb == 1, 'torch.mv: expected a matrix and a vector, got ' .. #sa ..
       'D and ' .. #sb .. 'D tensors')
  need(sa[2] == sb[1], string.format('torch.mv: size mismatch, %dx%d times %d',
                                     sa[1], sa[2], sb[1]))
  return apply('matmul', {sa[1]}, T.promote(a._dtype, b._dtype), a, b)
end
local function bmm(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  need(#sa == 3 and #sb == 3, 'torch.bmm: expected two 3D tensors')
  need(sa[1] == sb[1] and sa[3] == sb[2], string.format(
       'torch.bmm: size mismatch, %dx%dx%d times %dx%dx%d', sa[1], sa[2], sa[3], sb[1],
       sb[2], sb[3]))
  return apply('matmul', {sa[1], sa[2], sb[3]}, T.promote(a._dtype, b._dtype), a, b)
end
local function ger(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  need(#sa == 1 and #sb == 1, 'torch.ger: expected two vectors')
  local dtype = T.promote(a._dtype, b._dtype)
  if HAS_OP.outer then return apply('outer', {sa[1], sb[1]}, dtype, a, b) end
  return mul(T.reshape(a, {sa[1], 1}), T.reshape(b, {1, sb[1]}))
end
T.mm, T.mv, T.bmm, T.ger = mm, mv, bmm, ger
torch.mm = binary(mm)
torch.mv = binary(mv)
torch.bmm = binary(bmm)
torch.ger = binary(ger)

-- sum over the batch of matrix products (torch.addbmm)
local function bsum(p)
  local s = sizeOf(p)
  return applyk('sum', {axis = 0}, {s[2], s[3]}, p._dtype, p)
end

-- Torch7's addmm family: torch.addmm([res,] [v1,] M [, v2], A, B) = v1*M + v2*(A B).
-- The method form x:addmm([v1,] [M,] [v2,] A, B) writes into x, M defaulting to x.
local function accumulate(product, argsOf)
  local function parse(self, ...)
    local n = select('#', ...)
    local args = {...}
    local A, B = args[n - 1], args[n]
    -- what comes before A and B: [res,] [v1,] [M,] [v2]
    local lead, tensors = {}, 0
    for i = 1, n - 2 do
      lead[i] = args[i]
      if isTensor(args[i]) then tensors = tensors + 1 end
    end
    local res
    if tensors == 2 then res = table.remove(lead, 1) end
    local v1, M, v2 = 1, nil, 1
    if tensors == 0 then
      -- the method form without M: x:addmm([v1,] [v2,] A, B) adds to x
      M = self
      if #lead == 1 then v2 = lead[1] elseif #lead == 2 then v1, v2 = lead[1], lead[2] end
    else
      local seen = false
      for _, a in ipairs(lead) do
        if isTensor(a) then M, seen = a, true
        elseif seen then v2 = a
        else v1 = a end
      end
    end
    if M == nil or not isTensor(A) or not isTensor(B) then
      userError('addmm/addmv/addr/baddbmm: expected ([v1,] M, [v2,] A, B)')
    end
    local r = addScaled(v1 == 1 and M or mul(M, v1), v2, product(A, B))
    return r, res
  end
  local function functional(...)
    local r, res = parse(nil, ...)
    if res ~= nil then return rebind(res, r) end
    return r
  end
  local function method(x, ...)
    local r = parse(x, ...)
    return rebind(x, r)
  end
  return functional, method
end
T.inplace = T.inplace or {}
torch.addmm, T.inplace.addmm = accumulate(mm)
torch.addmv, T.inplace.addmv = accumulate(mv)
torch.addr, T.inplace.addr = accumulate(ger)
torch.baddbmm, T.inplace.baddbmm = accumulate(bmm)
torch.addbmm, T.inplace.addbmm = accumulate(function(a, b) return bsum(bmm(a, b)) end)

function torch.inverse(x, y)
  if y ~= nil then return rebind(x, torch.inverse(y)) end
  local s = sizeOf(x)
  need(#s == 2 and s[1] == s[2], 'torch.inverse: expected a square matrix')
  return apply('linalg.inv', s, floatType(x._dtype), x)
end

function torch.diag(x, k)
  k = int(k or 0)
  local s = sizeOf(x)
  local out
  if #s == 1 then
    local n = s[1] + (k < 0 and -k or k)
    out = {n, n}
  else
    local n = math.min(s[1] - (k < 0 and -k or 0), s[2] - (k > 0 and k or 0))
    out = {math.max(n, 0)}
  end
  return apply('diag', out, x._dtype, x, k)
end
function torch.tril(x, k) return apply('tril', sizeOf(x), x._dtype, x, int(k or 0)) end
function torch.triu(x, k) return apply('triu', sizeOf(x), x._dtype, x, int(k or 0)) end

-- torch.cross(a, b [, dim]): along the first dim of size 3 (Torch7's default)
function torch.cross(a, b, dim)
  local s = sizeOf(a)
  if dim == nil then
    for i = 1, #s do if s[i] == 3 then dim = i; break end end
    need(dim ~= nil, 'torch.cross: no dimension of size 3')
  end
  local ax = axis(a, dim, 'torch.cross')
  return applyk('cross', {axis = ax}, s, T.promote(a._dtype, b._dtype), a, b)
end

end
