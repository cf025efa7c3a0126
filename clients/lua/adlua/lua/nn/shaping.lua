-- Modules that reshape, cut or join: Reshape, View, Transpose, Narrow, Select, JoinTable,
-- SplitTable. Each writes its forward only (outputOf).

local torch = require 'torch'
local unpack = unpack or table.unpack

local function sizeList(...)
  local args = {...}
  if #args == 1 and type(args[1]) == 'table' then
    local s = {}
    for i = 1, #args[1] do s[i] = args[1][i] end
    return s
  end
  return args
end

local function product(size)
  local n = 1
  for i = 1, #size do if size[i] ~= -1 then n = n * size[i] end end
  return n
end

local function describe(self)
  return torch.type(self) .. '(' .. table.concat(self.size:totable(), 'x') .. ')'
end

------------------------------------------------------------------------------------------
-- Reshape(d1, d2, ... [, batchMode]): a batch (first dim) is kept unless batchMode is false

local Reshape, rparent = torch.class('nn.Reshape', 'nn.Module')

function Reshape:__init(...)
  rparent.__init(self)
  local args = {...}
  if type(args[#args]) == 'boolean' then self.batchMode = table.remove(args) end
  self.size = torch.LongStorage(sizeList(unpack(args)))
  self.nelement = product(self.size:totable())
end

function Reshape:outputOf(x)
  local size = self.size:totable()
  if self.batchMode == false or
      (self.batchMode == nil and x:nElement() == self.nelement and x:size(1) ~= 1) then
    return torch.view(x, torch.LongStorage(size))
  end
  table.insert(size, 1, x:size(1))
  return torch.view(x, torch.LongStorage(size))
end

Reshape.__tostring__ = describe

------------------------------------------------------------------------------------------
-- View(d1, d2, ...): one size may be -1; with setNumInputDims(n), the dims of x beyond
-- the last n make the batch

local View, vparent = torch.class('nn.View', 'nn.Module')

function View:__init(...)
  vparent.__init(self)
  self.size = torch.LongStorage(sizeList(...))
  self.numElements = product(self.size:totable())
end

function View:setNumInputDims(n)
  self.numInputDims = n
  return self
end

-- the batch size of x for this view, or nil when x is a single sample (Torch7's rule)
function View:_batchSize(x)
  local nd = x:dim()
  local maxdim = self.numInputDims or nd
  local ine = 1
  for i = nd, nd - maxdim + 1, -1 do ine = ine * x:size(i) end
  if ine % self.numElements ~= 0 then
    torch._userError('input view doesn\'t match desired view')
  end
  local bsz = ine / self.numElements
  for i = 1, #self.size do
    if self.size[i] == -1 then bsz = 1; break end
  end
  for i = nd - maxdim, 1, -1 do bsz = bsz * x:size(i) end
  if bsz == 1 and (not self.numInputDims or nd <= self.numInputDims) then return nil end
  return bsz
end

function View:outputOf(x)
  local size = self.size:totable()
  local bsz = self:_batchSize(x)
  if bsz then table.insert(size, 1, bsz) end
  return torch.view(x, torch.LongStorage(size))
end

function View:__tostring__()
  return torch.type(self) .. '(' .. table.concat(self.size:totable(), ', ') .. ')'
end

------------------------------------------------------------------------------------------
-- Transpose({d1, d2}, {d3, d4}, ...): the pairs of dims swapped in turn

local Transpose, tparent = torch.class('nn.Transpose', 'nn.Module')

function Transpose:__init(...)
  tparent.__init(self)
  self.permutations = {...}
end

function Transpose:setNumInputDims(n) self.numInputDims = n; return self end

function Transpose:outputOf(x)
  local shift = 0
  if self.numInputDims and x:dim() > self.numInputDims then shift = x:dim() - self.numInputDims end
  for _, perm in ipairs(self.permutations) do
    x = torch.transpose(x, perm[1] + shift, perm[2] + shift)
  end
  return x
end

------------------------------------------------------------------------------------------
-- Narrow(dimension, offset [, length]): a negative offset or length counts from the end

local Narrow, nparent = torch.class('nn.Narrow', 'nn.Module')

function Narrow:__init(dimension, offset, length)
  nparent.__init(self)
  self.dimension, self.index, self.length = dimension, offset, length or 1
  if not dimension or not offset then torch._userError('nn.Narrow(dimension, offset, length)') end
end

function Narrow:outputOf(x)
  local dim = self.dimension
  if dim < 0 then dim = x:dim() + dim + 1 end
  local size = x:size(dim)
  local offset, length = self.index, self.length
  if offset < 0 then offset = size + offset + 1 end
  if length < 0 then length = size - offset + length + 2 end
  return torch.narrow(x, dim, offset, length)
end

------------------------------------------------------------------------------------------
-- Select(dimension, index): a negative dimension or index counts from the end

local Select, sparent = torch.class('nn.Select', 'nn.Module')

function Select:__init(dimension, index)
  sparent.__init(self)
  self.dimension, self.index = dimension, index
end

function Select:outputOf(x)
  local dim = self.dimension
  if dim < 0 then dim = x:dim() + dim + 1 end
  local index = self.index
  if index < 0 then index = x:size(dim) + index + 1 end
  return x:select(dim, index)
end

------------------------------------------------------------------------------------------
-- JoinTable(dimension [, nInputDims]) and SplitTable(dimension [, nInputDims]): with
-- nInputDims, an input with one more dim is a batch and the dimension moves past it

local function batchDim(dimension, nInputDims, x)
  local dim = dimension
  if dim < 0 then dim = x:dim() + dim + 1
  elseif nInputDims and x:dim() == nInputDims + 1 then dim = dim + 1 end
  return dim
end

local JoinTable, jparent = torch.class('nn.JoinTable', 'nn.Module')

function JoinTable:__init(dimension, nInputDims)
  jparent.__init(self)
  self.dimension, self.nInputDims = dimension, nInputDims
  self.gradInput = {}
end

function JoinTable:outputOf(input)
  return torch.cat(input, batchDim(self.dimension, self.nInputDims, input[1]))
end

local SplitTable, stparent = torch.class('nn.SplitTable', 'nn.Module')

function SplitTable:__init(dimension, nInputDims)
  stparent.__init(self)
  self.dimension, self.nInputDims = dimension, nInputDims
  self.output = {}
end

function SplitTable:outputOf(x)
  local dim = batchDim(self.dimension, self.nInputDims, x)
  local out = {}
  for i = 1, x:size(dim) do out[i] = x:select(dim, i) end
  return out
end
