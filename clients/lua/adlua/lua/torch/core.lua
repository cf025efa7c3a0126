-- torch.core: what every part of the mirror shares.
--
-- A tensor is a Lua table {_h = handle, _level = trace level, _size = {sizes}, _dtype =
-- numpy dtype name} with one metatable. The handle is a Python object (lupa userdata)
-- whose finalizer releases the daemon's array when Lua drops the table, on every engine.
-- A tensor that shares a storage with views (x:t(), x[i], x:view(...), ...) also holds
-- _st and _recipe, so that a write through any of them reaches all of them (see "views
-- and writing in place" below); its _h, _level and _dtype may then be missing for a
-- while, and are derived again when read.
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
-- views and writing in place
--
-- Torch7's views (x:view, x:t, x:transpose, x:permute, x:narrow, x:select, x:sub, x[i],
-- x[{...}], x:squeeze, x:unsqueeze, x:expand, x:viewAs, ...) share their storage with
-- the tensor they come from, so that writing through one of them (x:t():fill(1),
-- x[1]:zero(), x:view(6):add(1), x:narrow(2, 1, 1)[2] = 5) changes the tensor and every
-- other view of it. Arrays on the daemon never change, so the sharing is kept here:
--
-- * A storage, st = {t = the base's current value (a plain tensor table), views = the
--   tensors on it whose fields are current, stale = some of the others (both weak
--   keys)}, is made for a tensor the first
--   time a view is taken of it. That tensor and every view of it (and views of views)
--   hold it in _st, with _recipe: the steps that take st.t to the tensor's value.
-- * A step is {kind, inn = its input size, out = its output size, ...}: 'i' indexes
--   (spec: per input dim a 0-based number, {start, stop} or false for all of it), 'r'
--   reshapes, 'p' permutes (perm, inv: 0-based), 'e' broadcasts (Torch7's expand).
--   Recipes are immutable and shared; a new step merges with the last one where it can
--   (indices compose, an index moves before a permutation, reshapes and permutations
--   fold), so recipes stay short: x:t()[2] is x:select(2, 2), one setitem to write.
-- * Writing (rebind) through a tensor with a storage computes the storage's new value on
--   the daemon, by running the recipe backwards (setitem for an index, the inverse
--   reshape or permutation, the last of the repeated values for a broadcast, as Torch7's
--   memory order leaves it after a copy or a fill), and stores it in st.t. Every other
--   tensor on the storage is then marked stale, without an op: its _h field is cleared
--   (and _level and _dtype, where they changed), and the tensor metatable's __index
--   derives them again from st.t the next time they are read. A write costs one pass
--   over the tensors read since the last write; reading a view that nothing wrote to
--   costs what reading any tensor costs.
-- * A write of another size (x:resize, torch.cat(res, ...)) gives the tensor a new
--   storage of its own, as Torch7 does when it reallocates; the views keep the old one.
--   x:set(y) puts x on y's storage. torch.clone, x:clone(), torch.reshape, x:index,
--   x[LongTensor], maskedSelect and arithmetic make new tensors, as in Torch7.

local weakKeys = {__mode = 'k'}
local EMPTY = {}

local function storageOf(x)
  local st = rawget(x, '_st')
  if st == nil then
    st = {t = new(x._h, x._level, sizeOf(x), x._dtype), views = setmetatable({}, weakKeys),
          stale = setmetatable({}, weakKeys)}
    rawset(x, '_st', st)
    rawset(x, '_recipe', EMPTY)
    st.views[x] = true
  end
  return st
end
T.storageOf = storageOf

-- a spec as the index an op takes: a plain number for x[i], a numpy tuple otherwise
local function index(spec)
  if #spec == 1 and type(spec[1]) == 'number' then return spec[1] end
  return B.index(spec)
end
T.index = index

-- spec (over the output dims of an index step with spec `outer`) over outer's input dims
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

local function isIdentity(perm)
  for i = 1, #perm do if perm[i] ~= i - 1 then return false end end
  return true
end

local function pushPermute(steps, perm, inn, out)
  if isIdentity(perm) then return end
  local n = #steps
  local last = steps[n]
  if last ~= nil and last.kind == 'p' then
    local p = {}
    for j = 1, #perm do p[j] = last.perm[perm[j] + 1] end
    steps[n] = nil
    return pushPermute(steps, p, last.inn, out)
  end
  local inv = {}
  for j = 1, #perm do inv[perm[j] + 1] = j - 1 end
  steps[n + 1] = {kind = 'p', inn = inn, out = out, perm = perm, inv = inv}
end

local function pushExpand(steps, inn, out)
  if sameSize(inn, out) then return end
  steps[#steps + 1] = {kind = 'e', inn = inn, out = out}
end

local function pushIndex(steps, spec, inn, out)
  local n = #steps
  local last = steps[n]
  if last ~= nil and last.kind == 'i' then
    steps[n] = {kind = 'i', inn = last.inn, out = out, spec = compose(last.spec, spec)}
    return
  end
  if last ~= nil and last.kind == 'p' then
    -- index the permutation's input instead, then permute what is left
    steps[n] = nil
    local perm, pin = last.perm, last.inn
    local s2 = {}
    for j = 1, #perm do s2[perm[j] + 1] = spec[j] or false end
    local mid, pos = {}, {}
    for d = 1, #pin do
      local q = s2[d]
      if type(q) ~= 'number' then
        mid[#mid + 1] = type(q) == 'table' and q[2] - q[1] or pin[d]
        pos[d] = #mid - 1
      end
    end
    pushIndex(steps, s2, pin, mid)
    local p2 = {}
    for j = 1, #perm do
      if type(spec[j]) ~= 'number' then p2[#p2 + 1] = pos[perm[j] + 1] end
    end
    return pushPermute(steps, p2, mid, out)
  end
  if last ~= nil and last.kind == 'e' then
    -- index the broadcast's input instead (an index on a repeated dim takes its one
    -- element), then broadcast what is left: a write to a part of an expanded view
    -- then writes exactly the elements that part shares
    steps[n] = nil
    local ein, eout = last.inn, last.out
    local shift = #eout - #ein
    local s2, mid = {}, {}
    for e = 1, #ein do
      local q = spec[e + shift] or false
      if ein[e] == 1 and eout[e + shift] ~= 1 then
        if type(q) == 'number' then s2[e] = 0
        else s2[e] = false; mid[#mid + 1] = 1 end
      else
        s2[e] = q
        if type(q) ~= 'number' then
          mid[#mid + 1] = type(q) == 'table' and q[2] - q[1] or ein[e]
        end
      end
    end
    pushIndex(steps, s2, ein, mid)
    return pushExpand(steps, mid, out)
  end
  steps[n + 1] = {kind = 'i', inn = inn, out = out, spec = spec}
end

local function pushReshape(steps, inn, out)
  if sameSize(inn, out) then return end
  local n = #steps
  local last = steps[n]
  if last ~= nil and last.kind == 'r' then
    steps[n] = nil
    return pushReshape(steps, last.inn, out)
  end
  steps[n + 1] = {kind = 'r', inn = inn, out = out}
end

-- one step of a recipe applied to a value
local function forward(x, s)
  local k, dtype = s.kind, x._dtype
  if k == 'i' then return apply('getitem', s.out, dtype, x, index(s.spec)) end
  if k == 'r' then return apply('reshape', s.out, dtype, x, s.out) end
  if k == 'p' then return apply('transpose', s.out, dtype, x, s.perm) end
  return apply('broadcast_to', s.out, dtype, x, s.out)
end

local function derive(base, recipe)
  local v = base
  for k = 1, #recipe do v = forward(v, recipe[k]) end
  return v
end

-- a broadcast's input from a value of its output's size: the last of each repeated value
-- (where Torch7's copy and fill through an expanded view leave the storage)
local function collapse(v, s)
  local inn, out = s.inn, s.out
  local shift = #out - #inn
  local spec, any = {}, false
  for i = 1, #out do
    if i <= shift then
      spec[i] = out[i] - 1
      any = true
    elseif inn[i - shift] == 1 and out[i] ~= 1 then
      spec[i] = {out[i] - 1, out[i]}
      any = true
    else
      spec[i] = false
    end
  end
  if not any then return v end
  return apply('getitem', inn, v._dtype, v, index(spec))
end

-- the base's new value when the tensor at the end of `recipe` takes the value v
local function writeBack(base, recipe, v)
  if numel(recipe[#recipe].out) == 0 then return base end
  local last = 0
  for k = 1, #recipe do if recipe[k].kind == 'i' then last = k end end
  local inputs = {}
  local cur = base
  for k = 1, last do
    inputs[k] = cur
    if k < last then cur = forward(cur, recipe[k]) end
  end
  local dtype = base._dtype
  for k = #recipe, 1, -1 do
    local s = recipe[k]
    local kind = s.kind
    if kind == 'i' then
      v = apply('setitem', s.inn, dtype, inputs[k], index(s.spec), v)
    elseif kind == 'r' then
      v = apply('reshape', s.inn, dtype, v, s.inn)
    elseif kind == 'p' then
      v = apply('transpose', s.inn, dtype, v, s.inv)
    else
      v = collapse(v, s)
    end
  end
  return v
end

local function hasExpand(recipe)
  for k = 1, #recipe do if recipe[k].kind == 'e' then return true end end
  return false
end

local function setFields(t, h, level, dtype)
  rawset(t, '_h', h)
  rawset(t, '_level', level)
  rawset(t, '_dtype', dtype)
end

-- every tensor on st, stale: its handle is derived again when next read. Its level and
-- type stay where they are still st's (so that reading them costs nothing), and such a
-- tensor waits in st.stale: should a later write change st's level or type, they are
-- cleared too. A derived view's level and type are always st.t's.
local function invalidate(st, old)
  local level, dtype = st.t._level, st.t._dtype
  local stale = st.stale
  if old._level ~= level or old._dtype ~= dtype then
    for v in pairs(stale) do
      rawset(v, '_level', nil)
      rawset(v, '_dtype', nil)
      stale[v] = nil
    end
  end
  local views = st.views
  for v in pairs(views) do
    rawset(v, '_h', nil)
    views[v] = nil
    if rawget(v, '_level') == level and rawget(v, '_dtype') == dtype then
      stale[v] = true
    else
      rawset(v, '_level', nil)
      rawset(v, '_dtype', nil)
    end
  end
end

-- a stale tensor's fields, derived from its storage (the tensor metatable calls this
-- when _h, _level or _dtype is read and missing)
local function refresh(t)
  local st = rawget(t, '_st')
  local v = derive(st.t, rawget(t, '_recipe'))
  setFields(t, v._h, v._level, v._dtype)
  st.stale[t] = nil
  st.views[t] = true
end
T.refresh = refresh

-- t leaves its storage (its fields are then set by the caller)
local function detach(t)
  local st = rawget(t, '_st')
  if st == nil then return end
  st.views[t] = nil
  st.stale[t] = nil
  rawset(t, '_st', nil)
  rawset(t, '_recipe', nil)
end
T.detach = detach

-- t takes the value r, in place (see above); returns t
local function rebind(t, r)
  local tt = unwrap(t)
  r = unwrap(r)
  if rawequal(tt, r) then return t end
  local st = rawget(tt, '_st')
  if st == nil then
    rawset(tt, '_size', r._size)
    setFields(tt, r._h, r._level, r._dtype)
    return t
  end
  local size = sizeOf(tt)
  local rsize = sizeOf(r)
  if not sameSize(size, rsize) then
    detach(tt)
    rawset(tt, '_size', rsize)
    setFields(tt, r._h, r._level, r._dtype)
    return t
  end
  local recipe = rawget(tt, '_recipe')
  if recipe[1] == nil then
    -- the storage's own tensor
    local h, level, dtype = r._h, r._level, r._dtype
    local old = st.t
    st.t = new(h, level, size, dtype)
    invalidate(st, old)
    setFields(tt, h, level, dtype)
    st.stale[tt] = nil
    st.views[tt] = true
    return t
  end
  -- a view keeps its type, as Torch7 writes into the storage's elements
  local want = st.t._dtype
  if r._dtype ~= want then r = apply('astype', size, want, r, want) end
  local h, level = r._h, r._level
  local old = st.t
  st.t = writeBack(old, recipe, r)
  invalidate(st, old)
  if not hasExpand(recipe) then
    setFields(tt, h, level, want)
    st.stale[tt] = nil
    st.views[tt] = true
  end
  return t
end
T.rebind = rebind

-- r (x's value after the step), made a view of x's storage; 0-d values are not views
local function attach(x, r, kind, a, b, c)
  if sizeOf(r)[1] == nil then return r end
  x = unwrap(x)
  local st = storageOf(x)
  local parent = rawget(x, '_recipe')
  local recipe = {}
  for i = 1, #parent do recipe[i] = parent[i] end
  local inn = sizeOf(x)
  if kind == 'i' then pushIndex(recipe, a, inn, b)
  elseif kind == 'r' then pushReshape(recipe, inn, a)
  elseif kind == 'p' then pushPermute(recipe, a, inn, b)
  else pushExpand(recipe, inn, a) end
  rawset(r, '_st', st)
  rawset(r, '_recipe', recipe)
  st.views[r] = true
  return r
end
T.attach = attach

-- a view of x: x at spec (per dim of x: a 0-based number, {start, stop} or false), of
-- the given size; a number if no dim is left
local function view(x, spec, size)
  local r = apply('getitem', size, x._dtype, x, index(spec))
  if size[1] == nil then return number(r) end
  local full = {}
  for d = 1, #sizeOf(x) do full[d] = spec[d] or false end
  return attach(x, r, 'i', full, size)
end
T.view = view

-- Torch7's layout of x in its storage: strides and the 0-based offset. Views whose
-- layout Torch7 could not express (a reshape of a non-contiguous view, which Torch7's
-- view refuses) have no strides.
local function rowMajor(size)
  local st, acc = {}, 1
  for i = #size, 1, -1 do st[i] = acc; acc = acc * size[i] end
  return st
end

-- Torch7's (and ATen's) strides for a view of size `out` on a tensor of size `inn` and
-- strides `stride`, or nil
local function viewStrides(inn, stride, out)
  local nout = #out
  local result = {}
  if numel(inn) == 0 or #inn == 0 then return rowMajor(out) end
  local viewD = nout
  local chunkBase = stride[#inn]
  local tensorNumel, viewNumel = 1, 1
  for d = #inn, 1, -1 do
    tensorNumel = tensorNumel * inn[d]
    if d == 1 or (inn[d - 1] ~= 1 and stride[d - 1] ~= tensorNumel * chunkBase) then
      while viewD >= 1 and (viewNumel < tensorNumel or out[viewD] == 1) do
        result[viewD] = viewNumel * chunkBase
        viewNumel = viewNumel * out[viewD]
        viewD = viewD - 1
      end
      if viewNumel ~= tensorNumel then return nil end
      if d > 1 then
        chunkBase = stride[d - 1]
        tensorNumel, viewNumel = 1, 1
      end
    end
  end
  if viewD ~= 0 then return nil end
  return result
end

local function layout(x)
  x = unwrap(x)
  local st = rawget(x, '_st')
  local recipe = st and rawget(x, '_recipe')
  if recipe == nil or recipe[1] == nil then return rowMajor(sizeOf(x)), 0 end
  local stride, offset = rowMajor(sizeOf(st.t)), 0
  for k = 1, #recipe do
    local s = recipe[k]
    local kind = s.kind
    local out = {}
    if kind == 'i' then
      for d = 1, #s.inn do
        local q = s.spec[d]
        if type(q) == 'number' then
          offset = offset + q * stride[d]
        else
          if q then offset = offset + q[1] * stride[d] end
          out[#out + 1] = stride[d]
        end
      end
    elseif kind == 'p' then
      for j = 1, #s.perm do out[j] = stride[s.perm[j] + 1] end
    elseif kind == 'e' then
      local shift = #s.out - #s.inn
      for i = 1, #s.out do
        if i <= shift or (s.inn[i - shift] == 1 and s.out[i] ~= 1) then out[i] = 0
        else out[i] = stride[i - shift] end
      end
    else
      out = viewStrides(s.inn, stride, s.out)
      if out == nil then return nil, offset end
    end
    stride = out
  end
  return stride, offset
end
T.layout = layout

function T.isContiguous(x)
  local size = sizeOf(x)
  local stride = layout(x)
  if stride == nil then return false end
  local z = 1
  for d = #size, 1, -1 do
    if size[d] ~= 1 then
      if stride[d] ~= z then return false end
      z = z * size[d]
    end
  end
  return true
end
T.rowMajor = rowMajor

end
