-- torch.core: what every part of the mirror shares.
--
-- A tensor is a Lua table {_h = handle, _level = trace level, _size = {sizes}, _dtype =
-- numpy dtype name} with one metatable. The handle is a Python object (lupa userdata)
-- whose finalizer releases the daemon's array when Lua drops the table, on every engine.
-- A view (x[i], x:narrow(...), x:select(...)) also holds _root and _spec, so that a
-- write through it reaches the tensor it was taken from.
--
-- Size tables are shared between tensors and never mutated once a tensor holds one: an
-- op that keeps its input's size reuses the table instead of copying it.

return function(torch, T)

local B = _ADLUA
local bop, bopk = B.op, B.opk
local select, type, rawget, rawset, setmetatable, getmetatable =
      select, type, rawget, rawset, setmetatable, getmetatable
local unpack = unpack or table.unpack
local floor = math.floor

T.B = B
T.bop, T.bopk = bop, bopk
T.unpack = unpack

------------------------------------------------------------------------------------------
-- errors: they name the user's line, the first frame outside this library

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
T.userError = userError
torch._userError = userError

local function pack(...)
  return {n = select('#', ...), ...}
end
T.pack = pack

-- A bridge call that waits for the daemon; a deferred daemon error is raised at the
-- user's line.
local function waiting(f)
  return function(...)
    local r = pack(pcall(f, ...))
    if not r[1] then userError(tostring(r[2])) end
    return unpack(r, 2, r.n)
  end
end
T.fetchNumbers = waiting(B.numbers)
T.fetchString = waiting(B.tostring)
T.fetchMeta = waiting(B.meta)
T.fetchValues = waiting(B.values)
torch._fetchNumbers = T.fetchNumbers

------------------------------------------------------------------------------------------
-- types

T.TYPENAME = {
  float64 = 'torch.DoubleTensor', float32 = 'torch.FloatTensor', int64 = 'torch.LongTensor',
  int32 = 'torch.IntTensor', int16 = 'torch.ShortTensor', int8 = 'torch.CharTensor',
  uint8 = 'torch.ByteTensor', bool = 'torch.ByteTensor',
}
T.DTYPE = {}
for dtype, name in pairs(T.TYPENAME) do
  if dtype ~= 'bool' then T.DTYPE[name] = dtype end
end
local FLOAT = {float64 = true, float32 = true}
T.FLOAT = FLOAT

-- ops whose results are never traced (so their level is 0), and every op the daemon
-- knows: the vocabulary says, without asking the daemon
local ZERO_GRAD = B.zero_gradient_ops()
T.ZERO_GRAD = ZERO_GRAD
T.HAS_OP = B.vocabulary()

------------------------------------------------------------------------------------------
-- tensors

local TensorMT = {}        -- the metatable of every tensor table
local Tensor = {}          -- the methods, shared by every tensor type
T.TensorMT, T.Tensor = TensorMT, Tensor
torch._TensorMT = TensorMT
torch.Tensor_methods = Tensor

-- Traced 0-d values may be number-like proxies (see torch/scalar.lua); these two are
-- replaced there when the engine supports them.
local isScalarProxy = function(x) return false end
local toScalar = function(t) return t end
function T.setScalarSupport(isProxy, make)
  isScalarProxy, toScalar = isProxy, make
end

local function isTensor(x)
  local tx = type(x)
  if tx == 'table' then return getmetatable(x) == TensorMT end
  return tx == 'cdata' and isScalarProxy(x)
end
T.isTensor = isTensor
torch.isTensor = isTensor

local function new(h, level, size, dtype)
  return setmetatable({_h = h, _level = level or 0, _size = size, _dtype = dtype or 'float64'},
                      TensorMT)
end
T.new = new
torch._fromhandle = new

-- the tensor table behind a proxy (or the tensor itself)
local function unwrap(x)
  if type(x) == 'cdata' then return x._t end
  return x
end
T.unwrap = unwrap

-- the size of a tensor, fetched once if no op could infer it
local function sizeOf(t)
  local s = t._size
  if s == nil then
    local shape, dtype = T.fetchMeta(t._h)
    s = {}
    for i = 1, #shape do s[i] = shape[i] end
    t = unwrap(t)
    rawset(t, '_size', s)
    rawset(t, '_dtype', dtype == 'bool' and 'uint8' or dtype)
  end
  return s
end
T.sizeOf = sizeOf
torch._sizeOf = sizeOf

local function numel(size)
  local n = 1
  for i = 1, #size do n = n * size[i] end
  return n
end
T.numel = numel

local function copySize(size)
  local s = {}
  for i = 1, #size do s[i] = size[i] end
  return s
end
T.copySize = copySize

local function sameSize(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end
T.sameSize = sameSize

-- An integer as the daemon needs it: Lua 5.3+ would send 3.0 as a float, which numpy
-- refuses as a size or an index; math.floor gives an integer there.
local function int(n)
  if type(n) ~= 'number' then userError('expected a number, got ' .. type(n)) end
  return floor(n)
end
T.int = int

-- Sizes as Torch7 accepts them: numbers, a table, or a LongStorage.
local function sizesFrom(...)
  local first = ...
  local s = {}
  if type(first) == 'table' and not isTensor(first) then
    for i = 1, #first do s[i] = int(first[i]) end
    return s
  end
  for i = 1, select('#', ...) do
    local n = select(i, ...)
    if type(n) ~= 'number' then break end
    s[i] = int(n)
  end
  return s
end
T.sizesFrom = sizesFrom

-- A Torch7 dim (1-based; negative counts from the end) as a 0-based numpy axis.
local function axis(x, dim, what)
  local nd = #sizeOf(x)
  if type(dim) ~= 'number' then
    userError(string.format('%s: dimension must be a number, got %s', what or 'torch',
                            type(dim)))
  end
  dim = int(dim)
  if dim < 0 then dim = dim + nd + 1 end
  if dim < 1 or dim > nd then
    userError(string.format('%s: dimension %d out of range of %dD tensor', what or 'torch',
                            dim, nd))
  end
  return dim - 1
end
T.axis = axis

------------------------------------------------------------------------------------------
-- result types and sizes, inferred here so that they never cost a round trip

local function broadcast(a, b)
  if a == b then return a end
  local na, nb = #a, #b
  if na == nb then
    local same = true
    for i = 1, na do if a[i] ~= b[i] then same = false; break end end
    if same then return a end
  end
  local n = na > nb and na or nb
  local out = {}
  for i = 1, n do
    local x = a[na - n + i] or 1
    local y = b[nb - n + i] or 1
    if x ~= y and x ~= 1 and y ~= 1 then
      userError(string.format('inconsistent tensor sizes: %s and %s',
        table.concat(a, 'x'), table.concat(b, 'x')))
    end
    out[i] = (x == 1) and y or x
  end
  return out
end
T.broadcast = broadcast

local RANK = {uint8 = 1, int8 = 2, int16 = 3, int32 = 4, int64 = 5}

-- numpy's result type for two operands; a Lua number only turns an integer tensor into a
-- float one when it is not integral (numpy's rule for Python scalars)
local function promote(a, b)
  if a == b then return a end
  if type(a) == 'number' then
    if type(b) ~= 'string' then return 'float64' end
    a, b = b, a
  end
  if type(b) == 'number' then
    if FLOAT[a] or floor(b) == b then return a end
    return 'float64'
  end
  if a == nil then return b end
  if b == nil then return a end
  if a == 'float64' or b == 'float64' then return 'float64' end
  if a == 'float32' or b == 'float32' then
    -- numpy: float32 with int8/uint8/int16 stays float32; wider integers need float64
    local other = a == 'float32' and b or a
    if other == 'int8' or other == 'uint8' or other == 'int16' then return 'float32' end
    return 'float64'
  end
  if a == 'uint8' and b == 'int8' or a == 'int8' and b == 'uint8' then return 'int16' end
  return (RANK[a] or 5) >= (RANK[b] or 5) and a or b
end
T.promote = promote

------------------------------------------------------------------------------------------
-- one op on the daemon: queued, not waited for; the result's size and dtype come from
-- the caller. Traced 0-d results become number-like proxies where the engine has them.

local function finish(h, level, size, dtype)
  local t = setmetatable({_h = h, _level = level, _size = size, _dtype = dtype}, TensorMT)
  if level > 0 and size ~= nil and size[1] == nil then return toScalar(t) end
  return t
end
T.result = finish

local function apply(name, size, dtype, ...)
  local n = select('#', ...)
  local h, level
  if n == 1 then
    local a = ...
    if isTensor(a) then h = bop(name, a._h); level = a._level
    else h = bop(name, a); level = 0 end
  elseif n == 2 then
    local a, b = ...
    local la, lb = 0, 0
    if isTensor(a) then la = a._level; a = a._h end
    if isTensor(b) then lb = b._level; b = b._h end
    h = bop(name, a, b)
    level = la > lb and la or lb
  else
    local args = {...}
    level = 0
    for i = 1, n do
      local a = args[i]
      if isTensor(a) then
        if a._level > level then level = a._level end
        args[i] = a._h
      end
    end
    h = bop(name, unpack(args, 1, n))
  end
  if ZERO_GRAD[name] then level = 0 end
  return finish(h, level, size, dtype or 'float64')
end
T.apply = apply
torch._apply = apply

-- the same, with keyword arguments (a Lua table of them)
local function applyk(name, kwargs, size, dtype, ...)
  local n = select('#', ...)
  local args = {...}
  local level = 0
  for i = 1, n do
    local a = args[i]
    if isTensor(a) then
      if a._level > level then level = a._level end
      args[i] = a._h
    end
  end
  if ZERO_GRAD[name] then level = 0 end
  return finish(bopk(name, kwargs, unpack(args, 1, n)), level, size, dtype or 'float64')
end
T.applyk = applyk

-- Torch7 returns a number where a reduction leaves no dims; a traced one stays a tensor
-- (a number-like proxy where the engine allows it), so that autograd can follow it.
local function number(t)
  if t._level == 0 then return (T.fetchNumbers(t._h)) end
  return t
end
T.number = number
torch._number = number

-- an elementwise op of one or two operands (tensors or numbers), broadcasting as numpy
local function elementwise(name, a, b)
  local ta, tb = isTensor(a), isTensor(b)
  if b == nil then
    return apply(name, sizeOf(a), a._dtype, a)
  end
  local size, dtype
  if ta and tb then
    size, dtype = broadcast(sizeOf(a), sizeOf(b)), promote(a._dtype, b._dtype)
  elseif ta then
    if type(b) ~= 'number' then
      userError('expected a number or a tensor, got ' .. type(b))
    end
    size, dtype = sizeOf(a), promote(a._dtype, b)
  elseif tb then
    if type(a) ~= 'number' then
      userError('expected a number or a tensor, got ' .. type(a))
    end
    size, dtype = sizeOf(b), promote(b._dtype, a)
  else
    userError('expected a tensor, got ' .. type(a) .. ' and ' .. type(b))
  end
  return apply(name, size, dtype, a, b)
end
T.elementwise = elementwise
torch._elementwise = elementwise

------------------------------------------------------------------------------------------
-- in place: Torch7's in-place methods rebind the tensor table to the op's result. A view
-- (x[i], x:narrow(...), x:select(...), x[{...}]) then writes its new value back into the
-- tensor it was taken from, so that x[i][j] = v and x:narrow(1, 1, 2):zero() change x,
-- as in Torch7.
--
-- A view holds the tensor at the root of its chain of views (_root) and where it lies in
-- it (_spec, per dim of the root: a 0-based index, {start, stop}, or false for all of
-- it). Views of views compose their specs, so a write-back is one setitem on the root,
-- and no intermediate view is kept alive. As Torch7's views keep their storage, a view
-- keeps its root alive.

-- spec (over the dims of a view with root spec `outer`) in the root's coordinates
local function compose(outer, spec)
  local out, j = {}, 1
  for d = 1, #outer do
    local o = outer[d]
    if type(o) == 'number' then
      out[d] = o
    else
      local q = spec[j]
      j = j + 1
      if q == nil or q == false then
        out[d] = o
      else
        local start = o and o[1] or 0
        if type(q) == 'number' then out[d] = start + q
        else out[d] = {start + q[1], start + q[2]} end
      end
    end
  end
  return out
end

-- a spec as the index an op takes: a plain number for x[i], a numpy tuple otherwise
local function index(spec)
  if #spec == 1 and type(spec[1]) == 'number' then return spec[1] end
  return B.index(spec)
end
T.index = index

local function rebind(t, r)
  local tt = unwrap(t)
  r = unwrap(r)
  rawset(tt, '_h', r._h)
  rawset(tt, '_level', r._level)
  rawset(tt, '_size', r._size)
  rawset(tt, '_dtype', r._dtype)
  local root = rawget(tt, '_root')
  if root ~= nil then
    rebind(root, apply('setitem', sizeOf(root), root._dtype, root, index(rawget(tt, '_spec')),
                       tt))
  end
  return t
end
T.rebind = rebind

-- a view of x: x at spec (see above), of the given size; a number if no dim is left
local function view(x, spec, size)
  local r = apply('getitem', size, x._dtype, x, index(spec))
  if size[1] == nil then return number(r) end
  x = unwrap(x)
  local root = rawget(x, '_root')
  if root ~= nil then
    spec = compose(rawget(x, '_spec'), spec)
  else
    root = x
    local full = {}
    for d = 1, #sizeOf(x) do full[d] = spec[d] or false end
    spec = full
  end
  rawset(r, '_root', root)
  rawset(r, '_spec', spec)
  return r
end
T.view = view

end
