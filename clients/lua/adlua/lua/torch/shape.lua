-- torch.shape: views, reshaping, joining, and indexing (reading and writing).
--
-- Arrays on the daemon are values, never mutated. Torch7's views (x:view, x:viewAs,
-- x:t, x:transpose, x:permute, x:squeeze, x:unsqueeze, x:expand, x:expandAs,
-- x:narrow, x:select, x:sub, x:split, x:chunk, x[i], x[{...}]) are daemon ops that
-- read x, and they share x's storage as Torch7's do (see core.lua): writing through
-- one (x[i][j] = v, x:t():zero(), x:view(6):add(1)) changes x and every other view of
-- x, and a view shows every later write to x. torch.reshape, x:index, x[LongTensor],
-- x:maskedSelect, x:clone() and a non-contiguous x:contiguous() are copies, as in Torch7.

return function(torch, T)

local B = T.B
local isTensor, sizeOf, numel, sameSize = T.isTensor, T.sizeOf, T.numel, T.sameSize
local apply, applyk, number, view, attach = T.apply, T.applyk, T.number, T.view, T.attach
local userError, rebind, axis, int = T.userError, T.rebind, T.axis, T.int
local sizesFrom, copySize, new = T.sizesFrom, T.copySize, T.new
local floor, ceil = math.floor, math.ceil

local function describe(size) return table.concat(size, 'x') end

------------------------------------------------------------------------------------------
-- reshaping

-- x as a tensor of size s (a size table that may hold one -1). A mismatch of element
-- counts is reported by the daemon, at the next point the script waits for a value.
local function reshape(x, s)
  local free, known = nil, 1
  for i = 1, #s do
    if s[i] == -1 then free = i else known = known * s[i] end
  end
  if free then
    s = copySize(s)
    s[free] = known == 0 and 0 or floor(numel(sizeOf(x)) / known)
  end
  return apply('reshape', s, x._dtype, x, s)
end
T.reshape = reshape

-- x reshaped, sharing x's storage
local function reshapeView(x, s)
  local r = reshape(x, s)
  return attach(x, r, 'r', sizeOf(r))
end
T.reshapeView = reshapeView

function torch.view(x, ...)
  if isTensor(...) then return reshapeView(x, sizeOf((...))) end
  return reshapeView(x, sizesFrom(...))
end
function torch.viewAs(x, y) return reshapeView(x, sizeOf(y)) end
-- Torch7's reshape copies (a new storage)
function torch.reshape(x, ...)
  if isTensor(...) then return reshape(x, sizeOf((...))) end
  return reshape(x, sizesFrom(...))
end

-- x with its dims permuted (perm: 0-based), sharing x's storage
local function permuted(x, perm)
  local s = sizeOf(x)
  local out = {}
  for i = 1, #perm do out[i] = s[perm[i] + 1] end
  return attach(x, apply('transpose', out, x._dtype, x, perm), 'p', perm, out)
end

function torch.t(x)
  local s = sizeOf(x)
  if #s ~= 2 then userError('t(): expected a 2D tensor, got a ' .. #s .. 'D tensor') end
  return permuted(x, {1, 0})
end

function torch.transpose(x, d1, d2)
  local nd = #sizeOf(x)
  local a, b = axis(x, d1, 'transpose'), axis(x, d2, 'transpose')
  local perm = {}
  for i = 1, nd do perm[i] = i - 1 end
  perm[a + 1], perm[b + 1] = b, a
  return permuted(x, perm)
end

function torch.permute(x, ...)
  local dims = sizesFrom(...)
  local perm = {}
  for i = 1, #dims do perm[i] = axis(x, dims[i], 'permute') end
  return permuted(x, perm)
end

-- Torch7's squeeze: without dims left, a single element is returned as a number
function torch.squeeze(x, dim)
  local s = sizeOf(x)
  local out = {}
  if dim == nil then
    for i = 1, #s do if s[i] ~= 1 then out[#out + 1] = s[i] end end
  else
    local ax = axis(x, dim, 'squeeze') + 1
    if s[ax] ~= 1 then return x end
    for i = 1, #s do if i ~= ax then out[#out + 1] = s[i] end end
  end
  if #out == #s then return x end
  local r = apply('reshape', out, x._dtype, x, out)
  if out[1] == nil then return number(r) end
  return attach(x, r, 'r', out)
end

-- a new dim of size 1 at `dim` (1 .. x:dim() + 1)
function torch.unsqueeze(x, dim)
  local s = sizeOf(x)
  dim = int(dim)
  if dim < 1 or dim > #s + 1 then userError('unsqueeze: dimension out of range') end
  local out = copySize(s)
  table.insert(out, dim, 1)
  return attach(x, apply('reshape', out, x._dtype, x, out), 'r', out)
end

-- x broadcast to a larger size (dims of size 1 grow; -1 keeps a size)
local function expand(x, s)
  local xs = sizeOf(x)
  local out = {}
  local shift = #s - #xs
  if shift < 0 then userError('expand: the number of sizes must be at least x:dim()') end
  for i = 1, #s do
    local n = s[i]
    local have = xs[i - shift]
    if n == -1 then n = have or 1 end
    if have ~= nil and have ~= 1 and have ~= n then
      userError(string.format('expand: cannot expand size %s to %s', describe(xs),
                              describe(s)))
    end
    out[i] = n
  end
  return attach(x, apply('broadcast_to', out, x._dtype, x, out), 'e', out)
end
function torch.expand(x, ...)
  if isTensor(...) then return expand(x, sizeOf((...))) end
  return expand(x, sizesFrom(...))
end
function torch.expandAs(x, y) return expand(x, sizeOf(y)) end

-- x tiled: Torch7's repeatTensor (numpy's tile)
function torch.repeatTensor(x, ...)
  local reps = sizesFrom(...)
  local s = sizeOf(x)
  local nd = #reps > #s and #reps or #s
  local out = {}
  for i = 1, nd do
    local r = reps[i - (nd - #reps)] or 1
    local n = s[i - (nd - #s)] or 1
    out[i] = r * n
  end
  return apply('tile', out, x._dtype, x, reps)
end

-- a copy (values on the daemon never change, so the handle is shared)
function torch.clone(x)
  return T.result(x._h, x._level, sizeOf(x), x._dtype)
end

-- x itself if its elements lie in order in its storage, a copy otherwise (Torch7)
function torch.contiguous(x)
  if T.isContiguous(x) then return x end
  return torch.clone(x)
end

------------------------------------------------------------------------------------------
-- joining and splitting

-- tensors joined along dim; Torch7's default dim is the last one, and empty tensors are
-- skipped (so that `out = torch.cat(out, x)` can start from torch.Tensor())
local function concat(list, dim)
  local parts = {}
  for i = 1, #list do
    local t = list[i]
    if not isTensor(t) then userError('cat: expected tensors, got ' .. type(t)) end
    if numel(sizeOf(t)) > 0 then parts[#parts + 1] = t end
  end
  if #parts == 0 then return list[1] end
  local first = sizeOf(parts[1])
  dim = dim and int(dim) or #first
  if dim < 0 then dim = #first + dim + 1 end
  local out = copySize(first)
  -- Torch7 joins along a dim one past the last by giving each tensor a size-1 dim there
  for i = #out + 1, dim do out[i] = 1 end
  out[dim] = 0
  local dtype = parts[1]._dtype
  for i = 1, #parts do
    local t = parts[i]
    local s = sizeOf(t)
    if #s < dim then
      local grown = copySize(s)
      for j = #s + 1, dim do grown[j] = 1 end
      t = reshape(t, grown)
      parts[i], s = t, grown
    end
    if #s ~= #out then
      userError(string.format('cat: inconsistent tensor sizes %s and %s', describe(first),
                              describe(s)))
    end
    for j = 1, #s do
      if j ~= dim and s[j] ~= out[j] then
        userError(string.format('cat: inconsistent tensor sizes %s and %s', describe(first),
                                describe(s)))
      end
    end
    out[dim] = out[dim] + s[dim]
    dtype = T.promote(dtype, t._dtype)
  end
  return apply('concatenate_args', out, dtype, dim - 1, T.unpack(parts))
end
T.concat = concat

-- torch.cat(a, b [, dim]), torch.cat({a, b, ...} [, dim]), each with an optional result
-- tensor first
function torch.cat(...)
  local a, b, c, d = ...
  if isTensor(a) and (isTensor(c) or (type(b) == 'table' and not isTensor(b))) then
    return rebind(a, torch.cat(b, c, d))
  end
  if isTensor(a) then return concat({a, b}, c) end
  if type(a) ~= 'table' then userError('cat: expected tensors or a table of tensors') end
  return concat(a, b)
end

function torch.split(x, size, dim)
  dim = dim or 1
  local n = sizeOf(x)[axis(x, dim, 'split') + 1]
  local parts = {}
  for start = 1, n, size do
    parts[#parts + 1] = torch.narrow(x, dim, start, math.min(size, n - start + 1))
  end
  return parts
end
function torch.chunk(x, n, dim)
  dim = dim or 1
  local len = sizeOf(x)[axis(x, dim, 'chunk') + 1]
  return torch.split(x, ceil(len / n), dim)
end

------------------------------------------------------------------------------------------
-- views: select, narrow, sub, x[i], x[{...}]

-- the index spec that takes `item` on dim `ax` (0-based) and everything elsewhere
local function along(ax, item)
  local spec = {}
  for i = 1, ax do spec[i] = false end
  spec[ax + 1] = item
  return spec
end

local function checkIndex(i, n, d)
  i = int(i)
  if i < 0 then i = n + i + 1 end
  if i < 1 or i > n then
    userError(string.format('index %d out of range for dim %d of size %d', i, d, n))
  end
  return i
end

-- x:select(dim, i): x without dim, at index i; a number if nothing is left (Torch7)
local function selectOne(x, dim, i)
  local s = sizeOf(x)
  local ax = axis(x, dim, 'select')
  i = checkIndex(i, s[ax + 1], ax + 1)
  local out = {}
  for d = 1, #s do if d ~= ax + 1 then out[#out + 1] = s[d] end end
  return view(x, along(ax, i - 1), out)
end
T.select = selectOne
torch.select = selectOne

function torch.narrow(x, dim, start, len)
  local s = sizeOf(x)
  local ax = axis(x, dim, 'narrow')
  start, len = int(start), int(len)
  if start < 1 or len < 0 or start + len - 1 > s[ax + 1] then
    userError(string.format('narrow: %d elements from %d out of range for dim %d of size %d',
                            len, start, ax + 1, s[ax + 1]))
  end
  local out = copySize(s)
  out[ax + 1] = len
  return view(x, along(ax, {start - 1, start - 1 + len}), out)
end

-- Torch7's table index: one entry per leading dim, each a number (the dim goes), {} (all
-- of it), or {a, b} (a to b included; negative counts from the end; {a} is {a, a}).
-- Returns the spec for the bridge, the size of the part, and whether it is one element.
local function parseKey(x, key)
  local s = sizeOf(x)
  if #key > #s then
    userError(string.format('too many indices (%d) for a %dD tensor', #key, #s))
  end
  local spec, out = {}, {}
  local element = true
  for d = 1, #s do
    local k, n = key[d], s[d]
    if type(k) == 'number' then
      spec[d] = checkIndex(k, n, d) - 1
    elseif k == nil or (type(k) == 'table' and k[1] == nil) then
      spec[d] = false
      out[#out + 1] = n
      element = false
    elseif type(k) == 'table' then
      local a, b = int(k[1]), int(k[2] or k[1])
      if a < 0 then a = n + a + 1 end
      if b < 0 then b = n + b + 1 end
      if a < 1 or b > n or b < a - 1 then
        userError(string.format('index range {%d, %d} out of range for dim %d of size %d',
                                a, b, d, n))
      end
      spec[d] = {a - 1, b}
      out[#out + 1] = b - a + 1
      element = false
    else
      userError('index: expected numbers and tables of ranges, got ' .. type(k))
    end
  end
  return spec, out, element
end

function torch.sub(x, ...)
  local bounds = {...}
  local key = {}
  for d = 1, #bounds / 2 do key[d] = {bounds[2 * d - 1], bounds[2 * d]} end
  local spec, out = parseKey(x, key)
  return view(x, spec, out)
end

------------------------------------------------------------------------------------------
-- gathering by index tensors: index, gather, masks

-- 0-based indices on the daemon, from Torch7's 1-based LongTensor (or a Lua table)
local function zeroBased(idx, what)
  idx = T.indexTensor(idx, what)
  return apply('subtract', sizeOf(idx), 'int64', idx, 1)
end

-- x:index(dim, idx): the slices of x at the indices idx, along dim (a copy)
local function indexSpec(x, dim, idx, what)
  local ax = axis(x, dim, what)
  local zb = zeroBased(idx, what)
  local out = copySize(sizeOf(x))
  out[ax + 1] = numel(sizeOf(zb))
  return B.index(along(ax, zb._h)), out
end
function torch.index(x, dim, idx)
  local spec, out = indexSpec(x, dim, idx, 'index')
  return apply('getitem', out, x._dtype, x, spec)
end
function T.indexFill(x, dim, idx, v)
  local spec = indexSpec(x, dim, idx, 'indexFill')
  return apply('setitem', sizeOf(x), x._dtype, x, spec, v)
end
function T.indexCopy(x, dim, idx, src)
  local spec = indexSpec(x, dim, idx, 'indexCopy')
  return apply('setitem', sizeOf(x), x._dtype, x, spec, src)
end
function T.indexAdd(x, dim, idx, src)
  local spec = indexSpec(x, dim, idx, 'indexAdd')
  return apply('add.at', sizeOf(x), x._dtype, x, spec, src)
end

-- Torch7's gather/scatter address: idx (same dims as x) gives the position along dim,
-- every other position is idx's own
local function addressing(x, dim, idx, what)
  local ax = axis(x, dim, what)
  idx = T.indexTensor(idx, what)
  local s = sizeOf(idx)
  if #s ~= #sizeOf(x) then
    userError(what .. ': index must have as many dims as the tensor')
  end
  local zb = apply('subtract', s, 'int64', idx, 1)
  return B.along(zb._h, ax, s), s
end

-- out[i][j] = x[idx[i][j]][j] (dim 1), as Torch7's gather
function torch.gather(x, dim, idx)
  local address, s = addressing(x, dim, idx, 'gather')
  return apply('getitem', s, x._dtype, x, address)
end

-- a copy of x with x[idx[i][j]][j] = src[i][j] (dim 1), as Torch7's scatter (a number
-- src fills); the method x:scatter writes into x
local function scatter(x, dim, idx, src)
  local address, s = addressing(x, dim, idx, 'scatter')
  if isTensor(src) and not sameSize(sizeOf(src), s) then
    local spec = {}
    for d = 1, #s do spec[d] = {0, s[d]} end
    src = apply('getitem', s, src._dtype, src, B.index(spec))
  end
  return apply('setitem', sizeOf(x), x._dtype, x, address, src)
end
T.scatter = scatter
torch.scatter = scatter

local function boolMask(mask)
  if not isTensor(mask) then userError('expected a ByteTensor mask, got ' .. type(mask)) end
  return apply('astype', sizeOf(mask), 'bool', mask, 'bool')
end
-- the elements where mask is 1, as a 1-d tensor (its size is fetched when needed)
function torch.maskedSelect(x, mask)
  return apply('getitem', nil, x._dtype, x, boolMask(mask))
end
function T.maskedFill(x, mask, v)
  return apply('setitem', sizeOf(x), x._dtype, x, boolMask(mask), v)
end
function T.maskedCopy(x, mask, src)
  return apply('setitem', sizeOf(x), x._dtype, x, boolMask(mask), src)
end

------------------------------------------------------------------------------------------
-- x[key] and x[key] = value

local function isLong(k) return isTensor(k) and k._dtype ~= 'uint8' end

-- x[i] is x:select(1, i); x[{...}] a part; x[LongTensor] x:index(1, ...); x[ByteTensor]
-- the masked elements
-- Reading the elements of a plain vector one by one (for i = 1, n do s = s + x[i] end)
-- would cost a round trip each: the first read fetches all its values (up to this many),
-- kept while the tensor keeps its handle (any write gives it a new one).
local VALUE_CACHE_LIMIT = 65536

local function cachedElement(x, k)
  local s = sizeOf(x)
  if #s ~= 1 or s[1] > VALUE_CACHE_LIMIT or x._level ~= 0 then return nil end
  local h = x._h
  local cache = rawget(x, '_values')
  if cache == nil or cache.h ~= h then
    cache = {h = h, v = T.fetchValues(h)}
    rawset(x, '_values', cache)
  end
  return cache.v[checkIndex(k, s[1], 1)]
end

function T.getIndex(x, k)
  if type(k) == 'number' then
    local v = cachedElement(x, k)
    if v ~= nil then return v end
    return selectOne(x, 1, k)
  end
  if isTensor(k) then
    if isLong(k) then return torch.index(x, 1, k) end
    return torch.maskedSelect(x, k)
  end
  if type(k) == 'table' then
    local spec, out = parseKey(x, k)
    return view(x, spec, out)        -- a number if k names one element
  end
  return nil
end

-- Writing x[key] = value: a functional setitem on the daemon, then x's table (and, for
-- a view, its parent's) is rebound to the result. A tensor value with the same number
-- of elements as the part takes its shape (Torch7 copies element by element).
function T.setIndex(x, k, v)
  local idx, part
  if type(k) == 'number' then
    local s = sizeOf(x)
    if #s == 0 then userError('cannot index a 0-d value') end
    local i = checkIndex(k, s[1], 1)
    idx = i - 1
    part = {}
    for d = 2, #s do part[d - 1] = s[d] end
  elseif isTensor(k) then
    if isLong(k) then
      idx = B.index({zeroBased(k, 'index')._h})
    else
      idx = boolMask(k)
    end
  elseif type(k) == 'table' then
    local spec
    spec, part = parseKey(x, k)
    idx = T.index(spec)
  else
    userError('cannot index a tensor with a ' .. type(k))
  end
  if isTensor(v) then
    local vs = sizeOf(v)
    if part ~= nil and #vs ~= 0 and not sameSize(vs, part) and numel(vs) == numel(part) then
      v = reshape(v, part)
    end
  elseif type(v) ~= 'number' then
    userError('cannot assign a ' .. type(v) .. ' to a tensor element')
  end
  rebind(x, apply('setitem', sizeOf(x), x._dtype, x, idx, v))
end

------------------------------------------------------------------------------------------
-- values as Lua tables

-- x:totable(): nested Lua tables of numbers, as Torch7
function torch.totable(x)
  if T.isStorage(x) then return x:totable() end
  local s = sizeOf(x)
  local flat = T.fetchValues(x._h)
  if #s == 0 then return flat[1] end
  local pos = 0
  local function build(d)
    local t = {}
    for i = 1, s[d] do
      if d == #s then
        pos = pos + 1
        t[i] = flat[pos]
      else
        t[i] = build(d + 1)
      end
    end
    return t
  end
  return build(1)
end

end
