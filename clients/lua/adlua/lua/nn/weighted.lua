-- Modules with weights: Linear, Bilinear, LookupTable. Each writes its forward only
-- (outputOf); backward is the daemon's vjp of it (nn/Module.lua). Initialization and
-- sizes are Torch7's.

local torch = require 'torch'

------------------------------------------------------------------------------------------
-- Linear(inputSize, outputSize [, bias]): y = x W^T + b, W of size outputSize x inputSize

local Linear, parent = torch.class('nn.Linear', 'nn.Module')

function Linear:__init(inputSize, outputSize, bias)
  parent.__init(self)
  self.weight = torch.Tensor(outputSize, inputSize)
  self.gradWeight = torch.Tensor(outputSize, inputSize):zero()
  if bias ~= false then
    self.bias = torch.Tensor(outputSize)
    self.gradBias = torch.Tensor(outputSize):zero()
  end
  self:reset()
end

function Linear:noBias()
  self.bias, self.gradBias = nil, nil
  return self
end

function Linear:reset(stdv)
  if stdv then stdv = stdv * math.sqrt(3) else stdv = 1 / math.sqrt(self.weight:size(2)) end
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

function Linear:outputOf(x, p)
  local nd = x:dim()
  local y
  if nd == 1 then
    y = torch.mv(p.weight, x)
    if p.bias then y = y + p.bias end
  elseif nd == 2 then
    y = torch.mm(x, torch.t(p.weight))
    if p.bias then y = y + torch.view(p.bias, 1, p.bias:size(1)) end
  else
    torch._userError('input must be vector or matrix')
  end
  return y
end

function Linear:__tostring__()
  return torch.type(self) .. string.format('(%d -> %d)', self.weight:size(2), self.weight:size(1))
         .. (self.bias == nil and ' without bias' or '')
end

------------------------------------------------------------------------------------------
-- Bilinear(inputSize1, inputSize2, outputSize [, bias]): {x1, x2} (batches) ->
-- y[n][k] = x1[n]^T W[k] x2[n] + b[k]

local Bilinear, bparent = torch.class('nn.Bilinear', 'nn.Module')

function Bilinear:__init(inputSize1, inputSize2, outputSize, bias)
  bparent.__init(self)
  self.weight = torch.Tensor(outputSize, inputSize1, inputSize2)
  self.gradWeight = torch.Tensor(outputSize, inputSize1, inputSize2):zero()
  if bias ~= false then
    self.bias = torch.Tensor(outputSize)
    self.gradBias = torch.Tensor(outputSize):zero()
  end
  self.gradInput = {torch.Tensor(), torch.Tensor()}
  self:reset()
end

function Bilinear:reset(stdv)
  if stdv then stdv = stdv * math.sqrt(3) else stdv = 1 / math.sqrt(self.weight:size(2)) end
  self.weight:uniform(-stdv, stdv)
  if self.bias then self.bias:uniform(-stdv, stdv) end
  return self
end

function Bilinear:outputOf(input, p)
  local x1, x2 = input[1], input[2]
  if x1:dim() ~= 2 or x2:dim() ~= 2 then
    torch._userError('input must be a table of two 2D tensors (batches)')
  end
  local n = x1:size(1)
  local out, in1, in2 = p.weight:size(1), p.weight:size(2), p.weight:size(3)
  -- x1 (n x in1) times W laid out as in1 x (out * in2), then a dot with x2 per output
  local w = torch.reshape(torch.transpose(p.weight, 1, 2), in1, out * in2)
  local t = torch.view(torch.mm(x1, w), n, out, in2)
  local y = torch.view(torch.sum(torch.cmul(t, torch.view(x2, n, 1, in2)), 3), n, out)
  if p.bias then y = y + torch.view(p.bias, 1, out) end
  return y
end

function Bilinear:__tostring__()
  return torch.type(self) .. string.format('(%dx%d -> %d)', self.weight:size(2),
    self.weight:size(3), self.weight:size(1)) .. (self.bias == nil and ' without bias' or '')
end

------------------------------------------------------------------------------------------
-- LookupTable(nIndex, nOutput): rows of the weight by index (a vector of indices, or a
-- batch of them); the indices are not differentiated (their gradInput is zeros)

local LookupTable, lparent = torch.class('nn.LookupTable', 'nn.Module')

function LookupTable:__init(nIndex, nOutput)
  lparent.__init(self)
  self.weight = torch.Tensor(nIndex, nOutput)
  self.gradWeight = torch.Tensor(nIndex, nOutput):zero()
  self._constantInput = true
  self:reset()
end

function LookupTable:_paramNames() return {'weight'} end

function LookupTable:reset(stdv)
  self.weight:normal(0, stdv or 1)
  return self
end

function LookupTable:outputOf(input, p)
  if type(input) == 'number' then input = torch.LongTensor({input}) end
  local nd = input:dim()
  if nd ~= 1 and nd ~= 2 then torch._userError('input must be a vector or matrix') end
  local nOutput = p.weight:size(2)
  local rows = torch.index(p.weight, 1, torch.view(input:long(), input:nElement()))
  if nd == 1 then return rows end
  return torch.view(rows, input:size(1), input:size(2), nOutput)
end

function LookupTable:__tostring__()
  return torch.type(self) .. string.format('(%d -> %d)', self.weight:size(1), self.weight:size(2))
end
