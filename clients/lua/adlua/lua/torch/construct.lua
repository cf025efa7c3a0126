-- torch.construct: storages, tensor constructors, random tensors and type conversion.

return function(torch, T)

local B = T.B
local isTensor, new, sizeOf, numel = T.isTensor, T.new, T.sizeOf, T.numel
local sizesFrom, userError, int = T.sizesFrom, T.userError, T.int
local apply, applyk = T.apply, T.applyk
local floor = math.floor

------------------------------------------------------------------------------------------
-- storages: plain Lua arrays with a metatable per type (x:size() is a LongStorage)

local storageTypes = {}
local function isStorage(x)
  return type(x) == 'table' and storageTypes[getmetatable(x)] ~= nil
end
T.isStorage = isStorage
torch._isStorage = isStorage

local StorageMethods = {}
function StorageMethods.size(s) return #s end
function StorageMethods.totable(s)
  local t = {}
  for i = 1, #s do t[i] = s[i] end
  return t
end
function StorageMethods.fill(s, v)
  for i = 1, #s do s[i] = v end
  return s
end
function StorageMethods.resize(s, n)
  for i = #s + 1, n do s[i] = 0 end
  for i = #s, n + 1, -1 do s[i] = nil end
  return s
end
function StorageMethods.copy(s, other)
  for i = 1, #other do s[i] = other[i] end
  return s
end
StorageMethods.__index = StorageMethods

local function storageType(typename, convert)
  local mt = {__index = StorageMethods, _typename = typename}
  mt.__tostring = function(s) return B.format_storage(s, typename) end
  storageTypes[mt] = typename
  return function(...)
    local first = ...
    local s = {}
    if type(first) == 'table' then
      for i = 1, #first do s[i] = convert(first[i]) end
    elseif type(first) == 'number' then
      -- Torch7: torch.LongStorage(n) holds n elements (their values are unset; zeros here)
      for i = 1, int(first) do s[i] = 0 end
    end
    return setmetatable(s, mt)
  end
end
local function identity(v) return v end
torch.LongStorage = storageType('torch.LongStorage', int)
torch.IntStorage = storageType('torch.IntStorage', int)
torch.ByteStorage = storageType('torch.ByteStorage', int)
torch.DoubleStorage = storageType('torch.DoubleStorage', identity)
torch.FloatStorage = storageType('torch.FloatStorage', identity)
torch.Storage = torch.DoubleStorage

------------------------------------------------------------------------------------------
-- tensors from data

-- nested Lua tables of numbers -> flat values and sizes
local function flattenTable(tbl)
  local sizes, flat = {}, {}
  local probe = tbl
  while type(probe) == 'table' do
    sizes[#sizes + 1] = #probe
    probe = probe[1]
  end
  local depth = #sizes
  local function walk(t, d)
    if d > depth then
      if type(t) ~= 'number' then
        userError('tensor constructor: expected numbers, got ' .. type(t))
      end
      flat[#flat + 1] = t
      return
    end
    if type(t) ~= 'table' or #t ~= sizes[d] then
      userError('inconsistent tensor size in table constructor')
    end
    for i = 1, #t do walk(t[i], d + 1) end
  end
  walk(tbl, 1)
  return flat, sizes
end
T.flattenTable = flattenTable

local function fromValues(flat, sizes, dtype)
  return new(B.upload(flat, sizes, dtype), 0, sizes, dtype)
end
T.fromValues = fromValues

local function filled(sizes, value, dtype)
  return new(B.opk('full', {dtype = dtype}, sizes, value), 0, sizes, dtype)
end
T.filled = filled

local constructors = {}
T.constructors = constructors

local function constructor(dtype)
  local function make(...)
    local first = ...
    if first == nil then
      -- Torch7's empty tensor: no dimension, no elements
      return fromValues({}, {0}, dtype)
    elseif isTensor(first) then
      -- a new tensor on the same storage (Torch7); of another type, a converted copy
      local t = first
      if t._dtype ~= dtype then
        t = T.Tensor.type(t, T.TYPENAME[dtype])
        return T.result(t._h, t._level, sizeOf(t), dtype)
      end
      return T.Tensor.set(new(t._h, t._level, sizeOf(t), dtype), t)
    elseif type(first) == 'table' and not isStorage(first) then
      local flat, sizes = flattenTable(first)
      return fromValues(flat, sizes, dtype)
    end
    -- sizes: Torch7 leaves the memory uninitialised; zeros are a safe stand-in
    return filled(sizesFrom(...), 0, dtype)
  end
  constructors[dtype] = make
  return make
end

torch.DoubleTensor = constructor('float64')
torch.FloatTensor = constructor('float32')
torch.LongTensor = constructor('int64')
torch.IntTensor = constructor('int32')
torch.ShortTensor = constructor('int16')
torch.CharTensor = constructor('int8')
torch.ByteTensor = constructor('uint8')
constructors.bool = constructors.uint8

-- torch.Tensor and the constructors below make the default type (DoubleTensor)
T.default = 'float64'
torch.Tensor = function(...) return constructors[T.default](...) end
function torch.setdefaulttensortype(typename)
  local dtype = T.DTYPE[typename]
  if dtype == nil or not T.FLOAT[dtype] then
    userError('setdefaulttensortype: expected torch.DoubleTensor or torch.FloatTensor, got '
              .. tostring(typename))
  end
  T.default = dtype
end
function torch.getdefaulttensortype() return T.TYPENAME[T.default] end

function torch.zeros(...) return filled(sizesFrom(...), 0, T.default) end
function torch.ones(...) return filled(sizesFrom(...), 1, T.default) end

function torch.eye(n, m)
  n = int(n)
  m = m and int(m) or n
  return applyk('eye', {dtype = T.default}, {n, m}, T.default, n, m)
end

-- torch.range(a, b [, step]): from a to b INCLUDED, as Torch7 (unlike numpy's arange)
function torch.range(a, b, step)
  step = step or 1
  if step == 0 then userError('torch.range: step must be nonzero') end
  if (b - a) / step < 0 then userError('torch.range: upper bound and step are inconsistent') end
  local n = floor((b - a) / step + 1e-12) + 1
  local flat = {}
  for i = 1, n do flat[i] = a + (i - 1) * step end
  return fromValues(flat, {n}, T.default)
end

function torch.linspace(a, b, n)
  n = int(n or 100)
  return applyk('linspace', {dtype = T.default}, {n}, T.default, a, b, n)
end

function torch.logspace(a, b, n)
  n = int(n or 100)
  return apply('power', {n}, T.default, 10, torch.linspace(a, b, n))
end

------------------------------------------------------------------------------------------
-- random numbers: drawn by the host from one seeded generator, so a seed fixes them

local function random(kind, sizes, dtype, a, b)
  return new(B.random(kind, sizes, dtype, a, b), 0, sizes, dtype)
end
T.random = random

function torch.randn(...) return random('randn', sizesFrom(...), T.default) end
function torch.rand(...) return random('rand', sizesFrom(...), T.default) end
function torch.randperm(n)
  n = int(n)
  return random('randperm', {n}, T.default, n)
end
function torch.manualSeed(seed) B.manual_seed(seed) end
local lastSeed = 0
function torch.seed()
  lastSeed = floor(os.time())
  B.manual_seed(lastSeed)
  return lastSeed
end
function torch.initialSeed() return lastSeed end
torch.setRNGState = function() end
torch.getRNGState = function() return lastSeed end
-- torch.uniform(a, b), torch.normal(m, s), torch.random(...): one number
function torch.uniform(a, b) return B.random_number('uniform', a, b) end
function torch.normal(m, s) return B.random_number('normal', m, s) end
function torch.random(a, b) return B.random_number('random', a, b) end
-- torch.bernoulli([p]) draws one number; torch.bernoulli(x [, p]) fills x, as x:bernoulli(p)
function torch.bernoulli(p, q)
  if isTensor(p) then return T.Tensor.bernoulli(p, q) end
  return B.random_number('bernoulli', p or 0.5)
end

------------------------------------------------------------------------------------------
-- odds and ends scripts call

-- torch.Timer(): timer:time().real is the seconds since it started (CPU times are the
-- same, as the work happens in the daemon)
local TimerMT = {}
TimerMT.__index = TimerMT
function torch.Timer()
  return setmetatable({start = B.now(), total = 0, running = true}, TimerMT)
end
function TimerMT.time(t)
  local s = t.total + (t.running and B.now() - t.start or 0)
  return {real = s, user = s, sys = 0}
end
function TimerMT.reset(t)
  t.start, t.total = B.now(), 0
  return t
end
function TimerMT.stop(t)
  if t.running then t.total, t.running = t.total + B.now() - t.start, false end
  return t
end
function TimerMT.resume(t)
  if not t.running then t.start, t.running = B.now(), true end
  return t
end

-- the daemon does the arithmetic; these keep scripts that tune threads running
function torch.setnumthreads() end
function torch.getnumthreads() return 1 end

------------------------------------------------------------------------------------------
-- types

function torch.type(x)
  if isTensor(x) then return T.TYPENAME[x._dtype] or 'torch.DoubleTensor' end
  if isStorage(x) then return storageTypes[getmetatable(x)] end
  return type(x)
end
function torch.typename(x)
  if isTensor(x) or isStorage(x) then return torch.type(x) end
  return nil
end

-- x:type(name) and its shorthands: a new tensor of that type, or x itself if it has it
function T.Tensor.type(x, typename)
  if typename == nil then return torch.type(x) end
  local dtype = T.DTYPE[typename]
  if dtype == nil then userError('unknown tensor type ' .. tostring(typename)) end
  if dtype == x._dtype then return x end
  return apply('astype', sizeOf(x), dtype, x, dtype)
end
local SHORT = {double = 'torch.DoubleTensor', float = 'torch.FloatTensor',
               long = 'torch.LongTensor', int = 'torch.IntTensor', short = 'torch.ShortTensor',
               char = 'torch.CharTensor', byte = 'torch.ByteTensor'}
for name, typename in pairs(SHORT) do
  T.Tensor[name] = function(x) return T.Tensor.type(x, typename) end
  torch[name] = T.Tensor[name]
end
function torch.typeAs(x, y)
  return T.Tensor.type(x, torch.type(y))
end

-- a Lua table of numbers, or a tensor, as a LongTensor of 1-based indices
function T.indexTensor(idx, what)
  if isTensor(idx) then return idx end
  if type(idx) == 'table' then
    local flat, sizes = flattenTable(idx)
    return fromValues(flat, sizes, 'int64')
  end
  if type(idx) == 'number' then return fromValues({idx}, {1}, 'int64') end
  userError((what or 'index') .. ': expected a LongTensor of indices, got ' .. type(idx))
end

end
