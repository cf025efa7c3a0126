-- Modules that combine or reduce: CAddTable, CSubTable, CMulTable, CDivTable, MM, Sum,
-- Mean, Max, Min. Each writes its forward only (outputOf).

local torch = require 'torch'

-- a module of a table of tensors, folded with f
local function fold(name, f)
  local class, parent = torch.class('nn.' .. name, 'nn.Module')
  function class:__init()
    parent.__init(self)
    self.gradInput = {}
  end
  function class:outputOf(input)
    local y = input[1]
    for i = 2, #input do y = f(y, input[i]) end
    return y
  end
  return class
end

fold('CAddTable', function(a, b) return a + b end)
fold('CMulTable', function(a, b) return torch.cmul(a, b) end)
fold('CSubTable', function(a, b) return a - b end)
fold('CDivTable', function(a, b) return torch.cdiv(a, b) end)

-- MM(transA, transB): {A, B} -> A B, or a batch of products for 3-D A and B
local MM, mparent = torch.class('nn.MM', 'nn.Module')

function MM:__init(transA, transB)
  mparent.__init(self)
  self.transA, self.transB = transA or false, transB or false
  self.gradInput = {torch.Tensor(), torch.Tensor()}
end

function MM:outputOf(input)
  local a, b = input[1], input[2]
  local batch = a:dim() == 3
  if not batch and a:dim() ~= 2 then torch._userError('input tensors must be 2D or 3D') end
  if self.transA then a = batch and torch.transpose(a, 2, 3) or torch.t(a) end
  if self.transB then b = batch and torch.transpose(b, 2, 3) or torch.t(b) end
  if batch then return torch.bmm(a, b) end
  return torch.mm(a, b)
end

-- the dim a reduction runs along: negative counts from the end; with nInputDims, an input
-- with more dims is a batch and the dim moves past it
local function reductionDim(self, x)
  local dim = self.dimension
  if dim < 0 then return x:dim() + dim + 1 end
  if self.nInputDims and x:dim() == self.nInputDims + 1 then return dim + 1 end
  return dim
end

local function squeezed(self, y, dim)
  if self.squeeze and y:dim() > 1 then return torch.squeeze(y, dim) end
  return y
end

-- Sum(dimension [, nInputDims, sizeAverage, squeeze]) and Mean(dimension [, nInputDims,
-- squeeze]): the dim is removed unless squeeze is false
local Sum, sparent = torch.class('nn.Sum', 'nn.Module')

function Sum:__init(dimension, nInputDims, sizeAverage, squeeze)
  sparent.__init(self)
  self.dimension = dimension or 1
  self.nInputDims = nInputDims
  self.sizeAverage = sizeAverage or false
  if squeeze == nil then self.squeeze = true else self.squeeze = squeeze end
end

function Sum:outputOf(x)
  local dim = reductionDim(self, x)
  local y = torch.sum(x, dim)
  if self.sizeAverage then y = y / x:size(dim) end
  return squeezed(self, y, dim)
end

local Mean = torch.class('nn.Mean', 'nn.Sum')

function Mean:__init(dimension, nInputDims, squeeze)
  Sum.__init(self, dimension, nInputDims, true, squeeze)
end

-- Max(dimension [, nInputDims]) and Min: the values, the dim removed
local function extremum(name, reduce)
  local class, parent = torch.class('nn.' .. name, 'nn.Module')
  function class:__init(dimension, nInputDims)
    parent.__init(self)
    self.dimension = dimension or 1
    self.nInputDims = nInputDims
    self.squeeze = true
  end
  function class:outputOf(x)
    local dim = reductionDim(self, x)
    local y = reduce(x, dim)
    return squeezed(self, y, dim)
  end
  return class
end

extremum('Max', function(x, dim) return (torch.max(x, dim)) end)
extremum('Min', function(x, dim) return (torch.min(x, dim)) end)
