-- autograd.util: torch-autograd's helpers, written with the torch mirror's functions so
-- that the daemon differentiates them (to any order).
--
-- torch-autograd also has *InPlace variants of several of these, which only its code
-- generator used; here every helper is functional and those are left out.

local torch = require 'torch'
local B = _ADLUA
local isTensor = torch.isTensor
local sizeOf = torch._sizeOf
local unpack = unpack or table.unpack

local util = {}

local function plainTable(x)
  return type(x) == 'table' and not isTensor(x) and not torch._isStorage(x)
end

local copySize, numel = torch._internals.copySize, torch._internals.numel

-- The constructor of x's tensor type: torch.FloatTensor for a FloatTensor, ...
local function constructorOf(x)
  return torch[torch.type(x):match('^torch%.(.*)$')] or torch.DoubleTensor
end

-- A tensor of `size` filled with `value`, of x's type.
local function filledLike(x, size, value)
  return constructorOf(x)(torch.LongStorage(size)):fill(value)
end

-- A value with every trace taken off: for state kept across calls (running averages),
-- which must not hold on to a trace that has ended.
function util._constant(x)
  if isTensor(x) and x._level > 0 then
    return torch._fromhandle(B.op('value', x._h), 0, copySize(sizeOf(x)), x._dtype)
  end
  return x
end

-- A Lua number for a number, a 0-d or one-element tensor (traced or not).
function util._toNumber(x)
  if isTensor(x) then
    local size = sizeOf(x)
    if #size ~= 0 then x = torch.view(x, torch.LongStorage({})) end
    return (torch._fetchNumbers(x._h))
  end
  return x
end

------------------------------------------------------------------------------------------
-- casting and tables

local ALIASES = {float = 'torch.FloatTensor', double = 'torch.DoubleTensor',
                 cuda = 'torch.CudaTensor', long = 'torch.LongTensor', int = 'torch.IntTensor',
                 byte = 'torch.ByteTensor'}

-- Every tensor of a (nested) table cast to `typeName` ('float', 'double', or a type name).
function util.cast(tableOfParams, typeName)
  typeName = ALIASES[typeName] or typeName
  if typeName == 'torch.CudaTensor' then typeName = 'torch.FloatTensor' end  -- no CUDA here
  if isTensor(tableOfParams) then return tableOfParams:type(typeName) end
  local out = {}
  for k, v in pairs(tableOfParams) do
    if isTensor(v) then
      out[k] = v:type(typeName)
    elseif plainTable(v) then
      out[k] = util.cast(v, typeName)
    else
      out[k] = v
    end
  end
  return out
end

function util.defaultBool(b, db)
  if b == nil then return db end
  return b
end

-- The leaves of a nested table, keys taken in sorted order at every depth (tensors and
-- numbers are leaves). optim and gradcheck rely on the order.
function util.sortedFlatten(tbl, flat, noRecurse)
  flat = flat or {}
  if plainTable(tbl) then
    local keys = {}
    for k in pairs(tbl) do keys[#keys + 1] = k end
    local ok = pcall(table.sort, keys)
    if not ok then
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    end
    for i = 1, #keys do
      local val = tbl[keys[i]]
      if plainTable(val) and not noRecurse then
        util.sortedFlatten(val, flat)
      else
        flat[#flat + 1] = val
      end
    end
  else
    flat[#flat + 1] = tbl
  end
  return flat
end

-- A copy of the table structure; tensors (and every other leaf) are shared, not copied.
function util.deepCopy(tbl)
  if plainTable(tbl) then
    local copy = {}
    for k, v in pairs(tbl) do copy[k] = util.deepCopy(v) end
    return copy
  end
  return tbl
end

------------------------------------------------------------------------------------------
-- comparisons usable on traced numbers (Lua will not compare a table with a number)

local function scalarLike(x)
  return type(x) == 'number' or (isTensor(x) and numel(sizeOf(x)) == 1)
end

local function comparison(op, torchName)
  return function(a, b)
    if scalarLike(a) and scalarLike(b) then
      return op(util._toNumber(a), util._toNumber(b))
    end
    return torch[torchName](a, b)
  end
end
util.lt = comparison(function(a, b) return a < b end, 'lt')
util.le = comparison(function(a, b) return a <= b end, 'le')
util.gt = comparison(function(a, b) return a > b end, 'gt')
util.ge = comparison(function(a, b) return a >= b end, 'ge')
util.eq = comparison(function(a, b) return a == b end, 'eq')

------------------------------------------------------------------------------------------
-- new tensors

function util.newTensorLike(a)
  return filledLike(a, sizeOf(a), 0)
end

-- zeros of b's size (a's, without b), of a's type
function util.zerosLike(a, b)
  b = b or a
  return filledLike(a, sizeOf(b), 0)
end

-- a tensor of A's size and type, every element b (b may be a traced number)
function util.fill(A, b)
  if isTensor(b) then
    return filledLike(A, sizeOf(A), 0) + b
  end
  return filledLike(A, sizeOf(A), b)
end

function util.fillSameSizeAs(a, b)
  return util.fill(a, b)
end

function util.typeAsIfNeeded(A, B_)
  if torch.type(A) ~= torch.type(B_) then return torch.typeAs(A, B_) end
  return A
end

function util.makeContiguous(g)
  return g
end

-- 1, 2, ..., n as a tensor of x's type, shaped for broadcasting along `dim` of `ndim`
local function range(n, dim, ndim, like)
  local values = {}
  for i = 1, n do values[i] = i end
  local r = torch.Tensor(values)
  local shape = {}
  for i = 1, ndim do shape[i] = 1 end
  shape[dim] = n
  r = torch.view(r, torch.LongStorage(shape))
  if like then r = r:type(torch.type(like)) end
  return r
end
util._range = range

-- labels (a 1-D tensor of class ids from 1) as rows of one-hot codes, of labels' type
function util.oneHot(labels, n)
  n = n or util._toNumber(torch.max(labels))
  local nLabels = sizeOf(labels)[1]
  local codes = torch.eq(torch.view(labels, nLabels, 1), range(n, 2, 2, labels))
  return codes:type(torch.type(labels))
end

------------------------------------------------------------------------------------------
-- numerics

function util.logSumExp(array)
  local max = torch.max(array)
  return torch.log(torch.sum(torch.exp(array - max))) + max
end

-- Log-probabilities: a vector normalized as a whole, as in torch-autograd, and a matrix
-- (a batch) row by row, as nn.LogSoftMax does. torch-autograd normalized a matrix as a
-- whole too, which is the same for the 1 x n inputs its examples used, but couples the
-- samples of a batch (training the talk's network on a batch that way diverges).
function util.logSoftMax(array)
  if isTensor(array) and #sizeOf(array) == 2 then
    local shift = torch.max(util._constant(array), 2)   -- cancels exactly: a constant
    local shifted = array - shift
    return shifted - torch.log(torch.sum(torch.exp(shifted), 2))
  end
  return array - util.logSumExp(array)
end

function util.sigmoid(array)
  return torch.pow(torch.exp(-array) + 1, -1)
end

-- rows of tble picked by indexes (any shape); the result has indexes' shape, then a row
function util.lookup(tble, indexes)
  local indexSize = copySize(sizeOf(indexes))
  local rows = torch.index(tble, 1, torch.view(indexes, -1):long())
  indexSize[#indexSize + 1] = sizeOf(rows)[2]
  return torch.view(rows, torch.LongStorage(indexSize))
end

-- inverted dropout: each element kept with probability 1 - dropout, and scaled by 1/keep
function util.dropout(state, dropout)
  dropout = dropout or 0
  local keep = 1 - dropout
  local mask = torch.lt(torch.rand(torch.LongStorage(sizeOf(state))), keep)
  return torch.cmul(state, mask:type(torch.type(state)) * (1 / keep))
end

-- v where a equals b, 0 elsewhere (torch-autograd's helper for the gradients of min/max)
function util.setNotEqual(a, b, c, v)
  local mask = torch.eq(a, b)
  return torch.cmul(v, torch.typeAs(mask, v))
end

------------------------------------------------------------------------------------------
-- adjoints of select, narrow and index: g written into zeros shaped like x

local function padWidths(size, dim, before, after)
  local widths = {}
  for i = 1, #size do widths[i] = {0, 0} end
  widths[dim] = {math.floor(before), math.floor(after)}
  return widths
end

-- zeros of x's size, with slice `index` along `dim` set to g
function util.selectSliceCopy(g, x, dim, index)
  local size = copySize(sizeOf(x))
  local expanded = copySize(size)
  expanded[dim] = 1
  local gx = torch.view(g, torch.LongStorage(expanded))
  return torch._apply('pad', size, g._dtype, gx, padWidths(size, dim, index - 1, size[dim] - index))
end

-- zeros of x's size, with the slice narrow(dim, index, n) set to g
function util.narrowSliceCopy(g, x, dim, index, n)
  local size = copySize(sizeOf(x))
  return torch._apply('pad', size, g._dtype, g,
                      padWidths(size, dim, index - 1, size[dim] - index - n + 1))
end

-- zeros of x's size, with slice i of g (along dim) added at index[i]
function util.indexAdd(g, x, dim, index)
  local size = sizeOf(x)
  local gsize = sizeOf(g)
  local k = sizeOf(index)[1]
  local n = size[dim]
  -- M[j][i] = 1 where index[i] == j: out = M * g, along dim
  local M = torch.eq(range(n, 1, 2, index), torch.view(index, 1, k)):type(torch.type(g))
  local gt = g
  if dim ~= 1 then gt = torch.transpose(g, 1, dim) end
  local moved = copySize(sizeOf(gt))
  gt = torch.view(gt, k, numel(gsize) / k)
  local out = torch.mm(M, gt)
  moved[1] = n
  out = torch.view(out, torch.LongStorage(moved))
  if dim ~= 1 then out = torch.transpose(out, 1, dim) end
  return out
end

------------------------------------------------------------------------------------------
-- concatenation

function util.catTableGradient(g, x, dim)
  dim = dim or #sizeOf(x[1])
  local out = {}
  local currentIndex = 1
  for i = 1, #x do
    local thisSize = sizeOf(x[i])[dim]
    out[i] = torch.narrow(g, dim, currentIndex, thisSize)
    currentIndex = currentIndex + thisSize
  end
  return out
end

function util.catNumberGradient(g, x, dim)
  local out = {}
  for i = 1, #x do out[i] = torch.select(g, 1, i) end
  return out
end

-- cat(x, y [, dim]), cat({x1, x2, ...} [, dim]) (along the last dim by default), or a
-- table of numbers (traced or not) made into a 1-D tensor
function util.cat(x, y, dim)
  if isTensor(x) and #sizeOf(x) > 0 then
    dim = dim or #sizeOf(x)
    return torch.cat(x, y, dim)
  end
  local numbers = true
  for i = 1, #x do
    local v = x[i]
    if not (type(v) == 'number' or (isTensor(v) and #sizeOf(v) == 0)) then numbers = false end
  end
  if not numbers then
    dim = y or #sizeOf(x[1])
    return torch.cat(x, dim)
  end
  local traced = false
  for i = 1, #x do if isTensor(x[i]) then traced = true end end
  if not traced then return torch.Tensor(x) end
  return torch._apply('array_from_args', {#x}, 'float64', unpack(x, 1, #x))
end

return util
