-- torch.tensor: the tensor methods and the metatable (operators, indexing, printing).
--
-- Torch7's methods keep their semantics: the math methods (x:add, x:mul, x:exp, x:clamp,
-- x:fill, x:zero, x:copy, x:scatter, ...) work in place, which here means rebinding the
-- tensor's table to the result (and, for a tensor that shares a storage with views,
-- writing the storage, which every view of it then shows: see core.lua); the others
-- (x:sum, x:size, x:view, x:t, x:narrow, x:index, ...) return something new, a view
-- sharing x's storage where Torch7's is one.

return function(torch, T)

local B = T.B
local Tensor, TensorMT = T.Tensor, T.TensorMT
local isTensor, sizeOf, numel, sameSize = T.isTensor, T.sizeOf, T.numel, T.sameSize
local apply, elementwise, number, rebind = T.apply, T.elementwise, T.number, T.rebind
local userError, unwrap, int = T.userError, T.unwrap, T.int
local fetchNumbers = T.fetchNumbers

------------------------------------------------------------------------------------------
-- size and shape

function Tensor.size(x, dim)
  local s = sizeOf(x)
  if dim ~= nil then
    dim = int(dim)
    if dim < 0 then dim = #s + dim + 1 end
    if dim < 1 or dim > #s then
      userError(string.format('size: dimension %d out of range of %dD tensor', dim, #s))
    end
    return s[dim]
  end
  return torch.LongStorage(s)
end
-- Torch7 tensors without elements have no dimension
function Tensor.dim(x)
  local s = sizeOf(x)
  if numel(s) == 0 then return 0 end
  return #s
end
Tensor.nDimension = Tensor.dim
function Tensor.nElement(x) return numel(sizeOf(x)) end
Tensor.numel = Tensor.nElement
-- strides and offsets as Torch7's views would have them (see core.lua)
function Tensor.stride(x, dim)
  local st = T.layout(x) or T.rowMajor(sizeOf(x))
  if dim ~= nil then
    dim = int(dim)
    if dim < 0 then dim = #st + dim + 1 end
    return st[dim]
  end
  return torch.LongStorage(st)
end
function Tensor.isContiguous(x) return T.isContiguous(x) end
function Tensor.storageOffset(x)
  local _, offset = T.layout(x)
  return offset + 1
end
function Tensor.isSameSizeAs(x, y) return sameSize(sizeOf(x), sizeOf(y)) end
function Tensor.isSize(x, s) return sameSize(sizeOf(x), T.sizesFrom(s)) end
function Tensor.isTensor(x) return isTensor(x) end

-- functional forms, as Torch7's torch.size(x), torch.nElement(x), ...
for _, name in ipairs({'size', 'dim', 'nDimension', 'nElement', 'numel', 'stride',
                       'isContiguous', 'isSameSizeAs', 'isSize'}) do
  torch[name] = Tensor[name]
end

------------------------------------------------------------------------------------------
-- methods that return something new: the functional torch.X with x first

for _, name in ipairs({
  'sum', 'prod', 'mean', 'max', 'min', 'cumsum', 'cumprod', 'std', 'var', 'norm', 'dist',
  'sort', 'trace', 'dot', 'all', 'any', 'equal',
  'view', 'viewAs', 'reshape', 't', 'transpose', 'permute', 'squeeze', 'unsqueeze',
  'expand', 'expandAs', 'repeatTensor', 'contiguous', 'clone', 'cat', 'split', 'chunk',
  'select', 'narrow', 'sub', 'index', 'gather', 'maskedSelect', 'totable', 'typeAs',
  'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'diag', 'tril', 'triu', 'cross', 'square',
}) do
  local f = torch[name]
  if f == nil then error('torch.' .. name .. ' is missing') end
  Tensor[name] = f
end

------------------------------------------------------------------------------------------
-- in-place methods

-- x:f(...) = f(x, ...), rebinding x
local function inplace(f)
  return function(x, ...) return rebind(x, f(x, ...)) end
end

-- the math functions of one tensor: x:exp() sets x to exp(x); x:exp(y) sets it to exp(y)
for _, name in ipairs(T.unaryNames) do
  local f = torch[name]
  Tensor[name] = function(x, y) return rebind(x, f(y or x)) end
end
for _, name in ipairs({'rsqrt', 'frac'}) do
  local f = torch[name]
  Tensor[name] = function(x, y) return rebind(x, f(y or x)) end
end

-- x:f(v) sets x to f(x, v); x:f(a, v) sets it to f(a, v)
local function inplace2(f)
  return function(x, a, b)
    if b ~= nil then return rebind(x, f(a, b)) end
    return rebind(x, f(x, a))
  end
end
Tensor.mul = inplace2(T.mul)
Tensor.cmul = inplace2(T.mul)
Tensor.div = inplace2(T.divide)
Tensor.cdiv = inplace2(T.divide)
Tensor.pow = inplace2(T.pow)
Tensor.cpow = Tensor.pow
Tensor.cmax = inplace2(torch.cmax)
Tensor.cmin = inplace2(torch.cmin)
Tensor.atan2 = inplace2(torch.atan2)
Tensor.fmod = inplace2(torch.fmod)
Tensor.remainder = inplace2(torch.remainder)

-- x:add(v), x:add(y), x:add(v, y) (x + v*y), x:add(a, b), x:add(a, v, b) (a + v*b)
function Tensor.add(x, a, b, c)
  if c ~= nil then return rebind(x, torch.add(a, b, c)) end
  if b ~= nil then
    if type(a) == 'number' then return rebind(x, torch.add(x, a, b)) end
    return rebind(x, torch.add(a, b))
  end
  return rebind(x, torch.add(x, a))
end
function Tensor.csub(x, a, b, c)
  if c ~= nil then return rebind(x, torch.csub(a, b, c)) end
  if b ~= nil then
    if type(a) == 'number' then return rebind(x, torch.csub(x, a, b)) end
    return rebind(x, torch.csub(a, b))
  end
  return rebind(x, torch.csub(x, a))
end

function Tensor.clamp(x, a, b, c)
  if isTensor(a) then return rebind(x, T.clamp(a, b, c)) end
  return rebind(x, T.clamp(x, a, b))
end
function Tensor.addcmul(x, ...) return rebind(x, T.addcmul(x, ...)) end
function Tensor.addcdiv(x, ...) return rebind(x, T.addcdiv(x, ...)) end
function Tensor.lerp(x, a, b, c)
  if c ~= nil then return rebind(x, torch.lerp(a, b, c)) end
  return rebind(x, torch.lerp(x, a, b))
end
for name, f in pairs(T.inplace) do Tensor[name] = f end     -- addmm, addmv, addr, ...

-- x:mm(A, B) sets x to A*B (Torch7); with one argument, x:mm(B) is x*B
local function product(f)
  return function(x, a, b)
    if b ~= nil then return rebind(x, f(a, b)) end
    return f(x, a)
  end
end
Tensor.mm = product(T.mm)
Tensor.mv = product(T.mv)
Tensor.bmm = product(T.bmm)
Tensor.ger = product(T.ger)
function Tensor.inverse(x, y)
  if y ~= nil then return rebind(x, torch.inverse(y)) end
  return torch.inverse(x)
end

function Tensor.fill(x, value)
  if isTensor(value) then
    -- a traced number: x takes its value everywhere, and autograd follows it
    local r = apply('broadcast_to', sizeOf(x), value._dtype, value, sizeOf(x))
    return rebind(x, Tensor.type(r, torch.type(x)))
  end
  return rebind(x, T.filled(sizeOf(x), value, x._dtype))
end
function Tensor.zero(x) return Tensor.fill(x, 0) end
torch.fill = Tensor.fill
torch.zero = Tensor.zero

function Tensor.uniform(x, a, b)
  return rebind(x, T.random('uniform', sizeOf(x), x._dtype, a or 0, b or 1))
end
function Tensor.normal(x, mean, std)
  return rebind(x, T.random('normal', sizeOf(x), x._dtype, mean or 0, std or 1))
end
-- x:bernoulli([p]): p a probability, or (Torch7's other form) a tensor of them, one per
-- element of x; then uniform draws are compared with p on the daemon
function Tensor.bernoulli(x, p)
  if isTensor(p) then
    local u = T.random('rand', sizeOf(x), 'float64')
    return rebind(x, Tensor.type(torch.lt(u, p), torch.type(x)))
  end
  p = p or 0.5
  if type(p) ~= 'number' then
    userError('bernoulli: expected a probability or a tensor of them, got ' .. type(p))
  end
  return rebind(x, T.random('bernoulli', sizeOf(x), x._dtype, p))
end
function Tensor.random(x, a, b)
  return rebind(x, T.random('random', sizeOf(x), x._dtype, a, b))
end
function Tensor.randn(x, ...) return rebind(x, torch.randn(...)) end
function Tensor.rand(x, ...) return rebind(x, torch.rand(...)) end

-- x:copy(y): y's values in x's size and type (Torch7 needs the same element count)
local function copyInto(x, y)
  local sx, sy = sizeOf(x), sizeOf(y)
  if numel(sx) ~= numel(sy) then
    userError(string.format('copy: sizes do not match (%d and %d elements)', numel(sx),
                            numel(sy)))
  end
  if not sameSize(sx, sy) then y = T.reshape(y, sx) end
  return Tensor.type(y, torch.type(x))
end
function Tensor.copy(x, y) return rebind(x, copyInto(x, y)) end
torch.copy = function(x, y) return copyInto(x, y) end

-- x:resize(sizes): the same values if the element count stays (on the same storage, as
-- Torch7 keeps it: views of x still share with x), zeros otherwise (a new storage)
function Tensor.resize(x, ...)
  local s = isTensor(...) and sizeOf((...)) or T.sizesFrom(...)
  if sameSize(s, sizeOf(x)) then return x end
  if numel(s) == numel(sizeOf(x)) then
    if rawget(unwrap(x), '_st') ~= nil then return Tensor.set(x, torch.view(x, s)) end
    return rebind(x, T.reshape(x, s))
  end
  return rebind(x, T.filled(s, 0, x._dtype))
end
function Tensor.resizeAs(x, y) return Tensor.resize(x, sizeOf(y)) end

-- x:set(y): x shares y's storage, with y's size (Torch7); writes through either show
-- in both
function Tensor.set(x, y)
  if not isTensor(y) then userError('set: expected a tensor, got ' .. type(y)) end
  local xt, yt = unwrap(x), unwrap(y)
  if rawequal(xt, yt) then return x end
  local st = T.storageOf(yt)
  T.detach(xt)
  rawset(xt, '_st', st)
  rawset(xt, '_recipe', rawget(yt, '_recipe'))
  rawset(xt, '_size', sizeOf(yt))
  rawset(xt, '_h', yt._h)
  rawset(xt, '_level', yt._level)
  rawset(xt, '_dtype', yt._dtype)
  st.views[xt] = true
  return x
end

Tensor.scatter = inplace(T.scatter)
Tensor.indexFill = inplace(T.indexFill)
Tensor.indexCopy = inplace(T.indexCopy)
Tensor.indexAdd = inplace(T.indexAdd)
Tensor.maskedFill = inplace(T.maskedFill)
Tensor.maskedCopy = inplace(T.maskedCopy)

-- x:apply(f) and x:map(y, f): Lua functions of each element, run here on the values
-- (fetched, then uploaded again; not traced)
local function mapValues(x, ys, f)
  local flat = T.fetchValues(x._h)
  local others = {}
  for i, y in ipairs(ys) do others[i] = T.fetchValues(y._h) end
  for i = 1, #flat do
    local v
    if #others == 0 then v = f(flat[i])
    elseif #others == 1 then v = f(flat[i], others[1][i])
    else v = f(flat[i], others[1][i], others[2][i]) end
    if v ~= nil then flat[i] = v end
  end
  return rebind(x, T.fromValues(flat, sizeOf(x), x._dtype))
end
function Tensor.apply(x, f) return mapValues(x, {}, f) end
function Tensor.map(x, y, f) return mapValues(x, {y}, f) end
function Tensor.map2(x, y, z, f) return mapValues(x, {y, z}, f) end

-- x.new(...) / x:new(): a tensor of x's type
local function newOf(x)
  local make = T.constructors[x._dtype] or T.constructors.float64
  return function(first, ...)
    if rawequal(first, x) then return make() end
    return make(first, ...)
  end
end

------------------------------------------------------------------------------------------
-- the metatable

-- Fields and methods first; a number or a table reads a part of the tensor.
-- A view that a write through another tensor made stale has no _h, _level and _dtype:
-- they are derived again from its storage when read (see core.lua).
local DERIVED = {_h = true, _level = true, _dtype = true}
local refresh = T.refresh
TensorMT.__index = function(t, k)
  local m = Tensor[k]
  if m ~= nil then return m end
  if k == 'new' then return newOf(t) end
  if type(k) == 'string' then
    if DERIVED[k] and rawget(t, '_st') ~= nil then
      refresh(t)
      return rawget(t, k)
    end
    return nil
  end
  return T.getIndex(t, k)
end
TensorMT.__newindex = function(t, k, v)
  if type(k) == 'string' then
    rawset(t, k, v)
    return
  end
  T.setIndex(t, k, v)
end

-- `*` as Torch7: a number scales; vector.vector is a number (dot); matrix*vector and
-- matrix*matrix are products
local function mulOp(a, b)
  if type(a) == 'number' or type(b) == 'number' then return T.mul(a, b) end
  local da, db = #sizeOf(a), #sizeOf(b)
  if da == 0 or db == 0 then return T.mul(a, b) end
  if da == 1 and db == 1 then return T.dot(a, b) end
  if da == 2 and db == 1 then return T.mv(a, b) end
  if da == 2 and db == 2 then return T.mm(a, b) end
  userError(string.format('multiplication between %dD and %dD tensors not yet supported',
                          da, db))
end
TensorMT.__add = T.add
TensorMT.__sub = T.sub
TensorMT.__mul = mulOp
TensorMT.__div = T.divide
TensorMT.__pow = T.pow
TensorMT.__mod = function(a, b) return torch.remainder(a, b) end
TensorMT.__unm = function(a) return apply('negative', sizeOf(a), a._dtype, a) end
-- #x is x:size() in Torch7; Lua 5.2+ asks tables for __len (LuaJIT and 5.1 do not, and
-- give 0)
TensorMT.__len = function(a) return Tensor.size(a) end

------------------------------------------------------------------------------------------
-- comparing single values: `if torch.sum(x) > 0 then`. Where the value is traced this
-- needs the engine's help for mixed operands (see torch/scalar.lua).

-- the numbers behind a and b, fetched together when both are tensors
local function values(a, b, op)
  local ta, tb = isTensor(a), isTensor(b)
  for _, x in ipairs({ta and a or false, tb and b or false}) do
    if x and numel(sizeOf(x)) ~= 1 then
      userError(string.format("cannot compare a tensor of size %s with '%s': compare " ..
        'single values, or use torch.lt/le/gt/ge for elementwise comparisons',
        table.concat(sizeOf(x), 'x'), op))
    end
  end
  if ta and tb then return fetchNumbers(a._h, b._h) end
  if ta then return fetchNumbers(a._h), b end
  if tb then return a, fetchNumbers(b._h) end
  return a, b
end
TensorMT.__lt = function(a, b)
  local x, y = values(a, b, '<')
  return x < y
end
TensorMT.__le = function(a, b)
  local x, y = values(a, b, '<=')
  return x <= y
end
-- 0-d tensors stand for numbers (traced values), so == compares their values; other
-- tensors compare by identity, as Torch7's. Lua calls __eq for two tables (or two
-- proxies, or a proxy and a number on LuaJIT), never for a table and a number.
function T.valueEqual(a, b)
  local na = type(a) == 'number' or (isTensor(a) and #sizeOf(a) == 0)
  local nb = type(b) == 'number' or (isTensor(b) and #sizeOf(b) == 0)
  if not (na and nb) then return rawequal(unwrap(a), unwrap(b)) end
  local x, y = values(a, b, '==')
  return x == y
end
TensorMT.__eq = T.valueEqual

------------------------------------------------------------------------------------------
-- printing: Torch7's exact format (the string ends with a newline, as in Torch7)

local function format(x)
  if #sizeOf(x) == 0 then return B.format_number((values(x, 0, 'tostring'))) end
  return T.fetchString(x._h, x._dtype)
end
TensorMT.__tostring = format
TensorMT.__concat = function(a, b)
  local sa = isTensor(a) and format(a) or a
  local sb = isTensor(b) and format(b) or b
  return sa .. sb
end

end
