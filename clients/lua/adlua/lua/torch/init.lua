-- torch: Torch7's `torch` module, with tensors that live on an adserver daemon.
--
-- A tensor is a Lua table {_h = handle, _level = trace level, _size = {sizes}, _dtype =
-- numpy dtype name}. Every function translates Torch7's conventions (1-based dims, sum
-- over a dim keeping it, `*` choosing mm/mv/dot from the dimensions, in-place methods)
-- into one op of the daemon's numpy vocabulary, and infers the result's size here, so
-- that sizes and dims never cost a round trip. Torch7 functions that return numbers
-- (torch.sum, torch.dot, ...) fetch the number, unless the value is being traced, in
-- which case they return a 0-d tensor that arithmetic and autograd understand.

local B = _ADLUA
local unpack = unpack or table.unpack
local floor = math.floor

local torch = {}

local function pack(...)
  return {n = select('#', ...), ...}
end

-- Errors name the user's line: the first frame that is not part of this library.
local function userLevel()
  local level = 3
  while true do
    local info = debug.getinfo(level, 'S')
    if info == nil then return 1 end
    if info.what ~= 'C' and not info.source:find('/adlua/lua/', 1, true) then
      return level - 1
    end
    level = level + 1
  end
end
local function userError(message)
  error(message, userLevel())
end
torch._userError = userError

-- A bridge call that waits for the daemon; a deferred daemon error is raised at the user's line.
local function waiting(f)
  return function(...)
    local r = pack(pcall(f, ...))
    if not r[1] then userError(tostring(r[2])) end
    return unpack(r, 2, r.n)
  end
end
local fetchNumbers = waiting(B.numbers)
local fetchString = waiting(B.tostring)
local fetchMeta = waiting(B.meta)
torch._fetchNumbers = fetchNumbers

local Tensor = {}          -- methods, shared by every tensor type
local TensorMT = {}        -- the metatable of every tensor
torch._TensorMT = TensorMT
torch.Tensor_methods = Tensor

local TYPENAME = {
  float64 = 'torch.DoubleTensor', float32 = 'torch.FloatTensor', int64 = 'torch.LongTensor',
  int32 = 'torch.IntTensor', int16 = 'torch.ShortTensor', int8 = 'torch.CharTensor',
  uint8 = 'torch.ByteTensor', bool = 'torch.ByteTensor',
}
local DTYPE = {}
for dtype, name in pairs(TYPENAME) do if dtype ~= 'bool' then DTYPE[name] = dtype end end
local FLOAT_RANK = {float64 = 3, float32 = 2}

-- ops whose results are never traced (so their level is 0): the daemon's vocabulary says
local ZERO_GRAD = B.zero_gradient_ops()

------------------------------------------------------------------------------------------
-- making tensors

local function isTensor(x)
  return type(x) == 'table' and getmetatable(x) == TensorMT
end
torch.isTensor = isTensor

local function new(h, level, size, dtype)
  return setmetatable({_h = h, _level = level or 0, _size = size, _dtype = dtype or 'float64'},
                      TensorMT)
end
torch._fromhandle = new

local function copySize(size)
  if size == nil then return nil end
  local s = {}
  for i = 1, #size do s[i] = size[i] end
  return s
end

-- the size of a tensor, fetched once if no op could infer it
local function sizeOf(t)
  local s = t._size
  if s == nil then
    local shape, dtype = fetchMeta(t._h)
    s = {}
    for i = 1, #shape do s[i] = shape[i] end
    rawset(t, '_size', s)
    t._dtype = dtype
  end
  return s
end
torch._sizeOf = sizeOf

local function numel(size)
  local n = 1
  for i = 1, #size do n = n * size[i] end
  return n
end

-- Sizes as Torch7 accepts them: numbers, a table, or a LongStorage.
local function sizesFrom(...)
  local first = ...
  if type(first) == 'table' and not isTensor(first) then
    local s = {}
    for i = 1, #first do s[i] = first[i] end
    return s
  end
  local s = {}
  for i = 1, select('#', ...) do
    local n = select(i, ...)
    if type(n) ~= 'number' then break end
    s[i] = n
  end
  return s
end

-- nested Lua tables of numbers -> flat values and sizes
local function flattenTable(tbl)
  local sizes, flat = {}, {}
  local probe = tbl
  while type(probe) == 'table' do
    sizes[#sizes + 1] = #probe
    probe = probe[1]
  end
  local function walk(t, depth)
    if depth > #sizes then
      flat[#flat + 1] = t
      return
    end
    if type(t) ~= 'table' or #t ~= sizes[depth] then
      userError('inconsistent tensor size in table constructor')
    end
    for i = 1, #t do walk(t[i], depth + 1) end
  end
  walk(tbl, 1)
  return flat, sizes
end

local function fromValues(flat, sizes, dtype)
  return new(B.upload(flat, sizes, dtype), 0, sizes, dtype)
end

local function filled(sizes, value, dtype)
  return new(B.opk('full', {dtype = dtype}, sizes, value), 0, sizes, dtype)
end

local function constructor(dtype)
  return function(...)
    local first = ...
    if first == nil then
      return fromValues({}, {0}, dtype)
    elseif isTensor(first) then
      return new(first._h, 0, copySize(sizeOf(first)), first._dtype)
    elseif type(first) == 'table' and getmetatable(first) == nil and type(first[1]) ~= 'number'
        and first[1] ~= nil then
      local flat, sizes = flattenTable(first)
      return fromValues(flat, sizes, dtype)
    elseif type(first) == 'table' and getmetatable(first) == nil and select('#', ...) == 1
        and not torch._isStorage(first) then
      -- torch.Tensor{1, 2, 3}: a 1-d tensor of these values
      local flat, sizes = flattenTable(first)
      return fromValues(flat, sizes, dtype)
    end
    -- sizes: Torch7 leaves the memory uninitialised; zeros are a safe stand-in
    return filled(sizesFrom(...), 0, dtype)
  end
end

torch.DoubleTensor = constructor('float64')
torch.FloatTensor = constructor('float32')
torch.LongTensor = constructor('int64')
torch.IntTensor = constructor('int32')
torch.ShortTensor = constructor('int16')
torch.CharTensor = constructor('int8')
torch.ByteTensor = constructor('uint8')
torch.Tensor = torch.DoubleTensor

local StorageMT = {}
StorageMT.__index = StorageMT
function torch._isStorage(x) return getmetatable(x) == StorageMT end
local function storage(values, typename)
  local s = {}
  for i = 1, #values do s[i] = values[i] end
  s._typename = typename
  return setmetatable(s, StorageMT)
end
function StorageMT.size(s) return #s end
StorageMT.__tostring = function(s)
  local lines = {}
  for i = 1, #s do lines[i] = string.format('%d', s[i]) end
  lines[#lines + 1] = '[' .. s._typename .. ' of size ' .. #s .. ']'
  return table.concat(lines, '\n') .. '\n'
end
function torch.LongStorage(...)
  local first = ...
  if type(first) == 'table' then return storage(first, 'torch.LongStorage') end
  return storage(sizesFrom(...), 'torch.LongStorage')
end

function torch.zeros(...) return filled(sizesFrom(...), 0, 'float64') end
function torch.ones(...) return filled(sizesFrom(...), 1, 'float64') end
function torch.eye(n, m)
  m = m or n
  return new(B.op('eye', n, m), 0, {n, m}, 'float64')
end
function torch.randn(...)
  local s = sizesFrom(...)
  return new(B.random('randn', s, 'float64'), 0, s, 'float64')
end
function torch.rand(...)
  local s = sizesFrom(...)
  return new(B.random('rand', s, 'float64'), 0, s, 'float64')
end
function torch.manualSeed(seed) B.manual_seed(seed) end
torch.seed = function() return 0 end

------------------------------------------------------------------------------------------
-- shape and type inference for results

local function broadcast(a, b)
  if a == nil or b == nil then return nil end
  local n = math.max(#a, #b)
  local out = {}
  for i = 1, n do
    local x = a[#a - n + i] or 1
    local y = b[#b - n + i] or 1
    if x ~= y and x ~= 1 and y ~= 1 then
      userError(string.format('inconsistent tensor sizes: %s and %s',
        table.concat(a, 'x'), table.concat(b, 'x')))
    end
    out[i] = (x == 1) and y or x
  end
  return out
end

local function promote(a, b)
  if a == b then return a end
  if a == nil then return b end
  if b == nil then return a end
  local ra, rb = FLOAT_RANK[a] or 0, FLOAT_RANK[b] or 0
  if ra >= rb and ra > 0 then return a end
  if rb > 0 then return b end
  return 'int64'
end

local function levelOf(...)
  local top = 0
  for i = 1, select('#', ...) do
    local a = select(i, ...)
    if isTensor(a) and a._level > top then top = a._level end
  end
  return top
end

local function H(x)
  if isTensor(x) then return x._h end
  return x
end

-- one op on the daemon, with the result's size and dtype given by the caller
local function apply(name, size, dtype, ...)
  local n = select('#', ...)
  local args = {...}
  local level = ZERO_GRAD[name] and 0 or levelOf(...)
  for i = 1, n do args[i] = H(args[i]) end
  return new(B.op(name, unpack(args, 1, n)), level, size, dtype)
end
torch._apply = apply

local function applyk(name, kwargs, size, dtype, ...)
  local n = select('#', ...)
  local args = {...}
  local level = ZERO_GRAD[name] and 0 or levelOf(...)
  for i = 1, n do args[i] = H(args[i]) end
  return new(B.opk(name, kwargs, unpack(args, 1, n)), level, size, dtype)
end

-- Torch7 returns a number where a reduction leaves no dims; a traced one stays a tensor
local function number(t)
  if t._level == 0 then return (fetchNumbers(t._h)) end
  return t
end
torch._number = number

local function elementwise(name, a, b)
  local sa = isTensor(a) and sizeOf(a) or {}
  local sb = isTensor(b) and sizeOf(b) or {}
  local da = isTensor(a) and a._dtype or nil
  local db = isTensor(b) and b._dtype or nil
  if b == nil then return apply(name, copySize(sa), da, a) end
  return apply(name, broadcast(sa, sb), promote(da, db) or 'float64', a, b)
end
torch._elementwise = elementwise

------------------------------------------------------------------------------------------
-- math

local UNARY = {
  exp = 'exp', log = 'log', sin = 'sin', cos = 'cos', tan = 'tan', tanh = 'tanh',
  sinh = 'sinh', cosh = 'cosh', sqrt = 'sqrt', abs = 'absolute', floor = 'floor',
  ceil = 'ceil', sign = 'sign', neg = 'negative',
}
local NUMBER_MATH = {
  exp = math.exp, log = math.log, sin = math.sin, cos = math.cos, tan = math.tan,
  tanh = math.tanh, sinh = math.sinh, cosh = math.cosh, sqrt = math.sqrt, abs = math.abs,
  floor = math.floor, ceil = math.ceil, neg = function(x) return -x end,
  sign = function(x) return x > 0 and 1 or (x < 0 and -1 or 0) end,
}
for torchName, opName in pairs(UNARY) do
  torch[torchName] = function(x)
    if type(x) == 'number' then return NUMBER_MATH[torchName](x) end
    return elementwise(opName, x)
  end
end

function torch.sigmoid(x)
  if type(x) == 'number' then return 1 / (1 + math.exp(-x)) end
  return 1 / (1 + torch.exp(-x))
end

function torch.pow(a, b)
  if type(a) == 'number' and type(b) == 'number' then return a ^ b end
  return elementwise('power', a, b)
end

-- torch.add(a, b), torch.add(a, value, b) = a + value * b
function torch.add(a, b, c)
  if c ~= nil then return elementwise('add', a, elementwise('multiply', b, c)) end
  return elementwise('add', a, b)
end
function torch.csub(a, b) return elementwise('subtract', a, b) end
function torch.cmul(a, b) return elementwise('multiply', a, b) end
function torch.cdiv(a, b) return elementwise('divide', a, b) end
function torch.mul(a, b) return elementwise('multiply', a, b) end
function torch.div(a, b) return elementwise('divide', a, b) end
function torch.cmax(a, b) return elementwise('maximum', a, b) end
function torch.cmin(a, b) return elementwise('minimum', a, b) end

local COMPARE = {lt = 'less', le = 'less_equal', gt = 'greater', ge = 'greater_equal',
                 eq = 'equal', ne = 'not_equal'}
for torchName, opName in pairs(COMPARE) do
  torch[torchName] = function(a, b)
    local r = elementwise(opName, a, b)
    r._dtype = 'uint8'
    return torch.typeAs(r, a)
  end
end

local function reduction(name)
  return function(x, dim)
    local size = sizeOf(x)
    if dim == nil then
      return number(apply(name, {}, x._dtype, x))
    end
    local out = copySize(size)
    out[dim] = 1
    return applyk(name, {axis = dim - 1, keepdims = true}, out, x._dtype, x)
  end
end
torch.sum = reduction('sum')
torch.mean = reduction('mean')

------------------------------------------------------------------------------------------
-- linear algebra

function torch.dot(a, b)
  return number(apply('dot', {}, promote(a._dtype, b._dtype), a, b))
end
function torch.mm(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  if #sa ~= 2 or #sb ~= 2 then userError('torch.mm expects two matrices') end
  return apply('matmul', {sa[1], sb[2]}, promote(a._dtype, b._dtype), a, b)
end
function torch.mv(a, b)
  local sa, sb = sizeOf(a), sizeOf(b)
  if #sa ~= 2 or #sb ~= 1 then userError('torch.mv expects a matrix and a vector') end
  return apply('matmul', {sa[1]}, promote(a._dtype, b._dtype), a, b)
end

------------------------------------------------------------------------------------------
-- shape

function torch.t(x)
  local s = sizeOf(x)
  if #s ~= 2 then userError('t() expects a 2D tensor') end
  return apply('transpose', {s[2], s[1]}, x._dtype, x)
end
function torch.transpose(x, d1, d2)
  local s = copySize(sizeOf(x))
  s[d1], s[d2] = s[d2], s[d1]
  return apply('swapaxes', s, x._dtype, x, d1 - 1, d2 - 1)
end
function torch.view(x, ...)
  local s = sizesFrom(...)
  local known, free = 1, nil
  for i = 1, #s do
    if s[i] == -1 then free = i else known = known * s[i] end
  end
  if free then s[free] = numel(sizeOf(x)) / known end
  return apply('reshape', s, x._dtype, x, s)
end
torch.reshape = torch.view
function torch.viewAs(x, y) return torch.view(x, sizeOf(y)) end

function torch.clone(x) return new(x._h, x._level, copySize(x._size), x._dtype) end

function torch.typeAs(x, y)
  return torch.type(x) == torch.type(y) and x or Tensor.type(x, torch.type(y))
end

------------------------------------------------------------------------------------------
-- introspection

function torch.type(x)
  if isTensor(x) then return TYPENAME[x._dtype] or 'torch.DoubleTensor' end
  if torch._isStorage(x) then return x._typename end
  return type(x)
end
torch.typename = function(x)
  if isTensor(x) or torch._isStorage(x) then return torch.type(x) end
  return nil
end

------------------------------------------------------------------------------------------
-- methods: Torch7's in-place methods rebind the tensor to the result

local function rebind(t, r)
  rawset(t, '_h', r._h)
  rawset(t, '_level', r._level)
  rawset(t, '_size', r._size)
  rawset(t, '_dtype', r._dtype)
  return t
end

function Tensor.size(x, dim)
  local s = sizeOf(x)
  if dim ~= nil then return s[dim] end
  return torch.LongStorage(s)
end
function Tensor.dim(x) return #sizeOf(x) end
Tensor.nDimension = Tensor.dim
function Tensor.nElement(x) return numel(sizeOf(x)) end
Tensor.numel = Tensor.nElement
function Tensor.type(x, typename)
  if typename == nil then return torch.type(x) end
  local dtype = DTYPE[typename]
  if dtype == nil then userError('unknown tensor type ' .. tostring(typename)) end
  if dtype == x._dtype then return x end
  return applyk('astype', {}, copySize(sizeOf(x)), dtype, x, dtype)
end
function Tensor.double(x) return Tensor.type(x, 'torch.DoubleTensor') end
function Tensor.float(x) return Tensor.type(x, 'torch.FloatTensor') end
function Tensor.long(x) return Tensor.type(x, 'torch.LongTensor') end
function Tensor.int(x) return Tensor.type(x, 'torch.IntTensor') end
Tensor.clone = torch.clone
function Tensor.contiguous(x) return x end
Tensor.t = torch.t
Tensor.transpose = torch.transpose
Tensor.view = torch.view
Tensor.reshape = torch.view
Tensor.viewAs = torch.viewAs
Tensor.sum = torch.sum
Tensor.mean = torch.mean
Tensor.dot = torch.dot
Tensor.typeAs = torch.typeAs

function Tensor.fill(x, value)
  return rebind(x, filled(copySize(sizeOf(x)), value, x._dtype))
end
function Tensor.zero(x) return Tensor.fill(x, 0) end
function Tensor.uniform(x, a, b)
  local s = sizeOf(x)
  return rebind(x, new(B.random('uniform', s, x._dtype, a or 0, b or 1), 0, copySize(s), x._dtype))
end
function Tensor.normal(x, mean, std)
  local s = sizeOf(x)
  return rebind(x, new(B.random('normal', s, x._dtype, mean or 0, std or 1), 0, copySize(s),
                       x._dtype))
end
function Tensor.copy(x, y) return rebind(x, Tensor.type(y, torch.type(x))) end

for _, name in ipairs({'add', 'csub', 'cmul', 'cdiv', 'mul', 'div', 'pow', 'cmax', 'cmin'}) do
  local f = torch[name]
  Tensor[name] = function(x, ...) return rebind(x, f(x, ...)) end
end
for name in pairs(UNARY) do
  local f = torch[name]
  Tensor[name] = function(x) return rebind(x, f(x)) end
end
Tensor.sigmoid = function(x) return rebind(x, torch.sigmoid(x)) end

------------------------------------------------------------------------------------------
-- operators

local function mul(a, b)
  if type(a) == 'number' or type(b) == 'number' then return elementwise('multiply', a, b) end
  local da, db = #sizeOf(a), #sizeOf(b)
  if da == 0 or db == 0 then return elementwise('multiply', a, b) end
  if da == 1 and db == 1 then return torch.dot(a, b) end
  if da == 2 and db == 1 then return torch.mv(a, b) end
  if da == 2 and db == 2 then return torch.mm(a, b) end
  userError(string.format('multiplication between %dD and %dD tensors not yet supported', da, db))
end

TensorMT.__index = function(t, k)
  local m = Tensor[k]
  if m ~= nil then return m end
  if type(k) == 'number' then return Tensor.select(t, 1, k) end
  return nil
end
TensorMT.__add = function(a, b) return elementwise('add', a, b) end
TensorMT.__sub = function(a, b) return elementwise('subtract', a, b) end
TensorMT.__mul = mul
TensorMT.__div = function(a, b) return elementwise('divide', a, b) end
TensorMT.__pow = function(a, b) return elementwise('power', a, b) end
TensorMT.__unm = function(a) return elementwise('negative', a) end

-- comparisons of 0-d tensors (traced numbers) compare their values
local function value(x)
  if isTensor(x) then return (fetchNumbers(x._h)) end
  return x
end
TensorMT.__lt = function(a, b) return value(a) < value(b) end
TensorMT.__le = function(a, b) return value(a) <= value(b) end

local function format(x)
  if #sizeOf(x) == 0 then
    return B.format_number(value(x))
  end
  return fetchString(x._h, x._dtype)
end
TensorMT.__tostring = format
TensorMT.__concat = function(a, b)
  local sa = isTensor(a) and format(a) or a
  local sb = isTensor(b) and format(b) or b
  return sa .. sb
end

------------------------------------------------------------------------------------------
-- indexing: x[i] selects along the first dim; a 1-d tensor gives a number

function Tensor.select(x, dim, index)
  local s = sizeOf(x)
  if index < 1 or index > s[dim] then
    userError(string.format('index %d out of range for dim %d of size %d', index, dim, s[dim]))
  end
  local out = {}
  for i = 1, #s do if i ~= dim then out[#out + 1] = s[i] end end
  local idx = {}
  for i = 1, dim - 1 do idx[i] = 'all' end
  idx[dim] = index - 1
  local r = new(B.getitem(x._h, idx), x._level, out, x._dtype)
  if #out == 0 then return number(r) end
  return r
end

torch.Tensor_methods = Tensor
return torch
