-- Modules whose forward depends on training or evaluation: BatchNormalization,
-- SpatialBatchNormalization, Dropout. What is random or running (dropout's noise, the
-- running averages) is drawn or updated in updateOutput, outside the trace, so that the
-- traced forward (and its vjp) is a plain function of input and parameters.

local torch = require 'torch'
local F = require 'nn.functional'

------------------------------------------------------------------------------------------
-- BatchNormalization(nOutput [, eps, momentum, affine]): each feature normalized over the
-- batch (and, for the spatial one, over every position). Training uses the batch's mean
-- and biased variance, and moves the running averages (the variance's unbiased) by
-- momentum; evaluation uses the running averages.

local function batchNormClass(name, nDim)
  local class, parent = torch.class(name, 'nn.Module')
  class.nDim = nDim

  function class:__init(nOutput, eps, momentum, affine)
    parent.__init(self)
    self.eps = eps or 1e-5
    self.momentum = momentum or 0.1
    self.affine = affine ~= false
    self.running_mean = torch.zeros(nOutput)
    self.running_var = torch.ones(nOutput)
    if self.affine then
      self.weight = torch.Tensor(nOutput)
      self.bias = torch.Tensor(nOutput)
      self.gradWeight = torch.Tensor(nOutput):zero()
      self.gradBias = torch.Tensor(nOutput):zero()
      self:reset()
    end
  end

  function class:reset()
    if self.weight then self.weight:uniform() end
    if self.bias then self.bias:zero() end
    self.running_mean:zero()
    self.running_var:fill(1)
    return self
  end

  -- the dims the statistics run over, and the shape of a per-feature vector against x
  function class:_layout(x)
    local n = self.running_mean:nElement()
    if x:dim() ~= nDim then
      torch._userError(string.format('only mini-batch supported (%dD tensor), got %dD tensor instead',
                                     nDim, x:dim()))
    end
    if x:size(2) ~= n then
      torch._userError(string.format('got %d-feature tensor, expected %d', x:size(2), n))
    end
    if nDim == 2 then return {1}, {1, n} end
    return {1, 3, 4}, {1, n, 1, 1}
  end

  -- the batch's mean and biased variance, shaped per feature, and the count behind them
  local function statistics(x, dims)
    local mean = x
    for _, d in ipairs(dims) do mean = torch.sum(mean, d) end
    local count = x:nElement() / x:size(2)
    mean = mean / count
    local centered = x - mean
    local var = torch.cmul(centered, centered)
    for _, d in ipairs(dims) do var = torch.sum(var, d) end
    return mean, var / count, count
  end

  function class:updateOutput(input)
    if self.train then
      local dims = self:_layout(input)
      local mean, var, count = statistics(F.constant(input), dims)
      local n = self.running_mean:nElement()
      local unbiased = torch.view(var, n) * (count / math.max(count - 1, 1))
      self.running_mean:mul(1 - self.momentum):add(self.momentum, torch.view(mean, n))
      self.running_var:mul(1 - self.momentum):add(self.momentum, unbiased)
    end
    return parent.updateOutput(self, input)
  end

  function class:outputOf(x, p)
    local dims, shape = self:_layout(x)
    shape = torch.LongStorage(shape)
    local mean, var
    if self.train then
      mean, var = statistics(x, dims)
    else
      mean = torch.view(self.running_mean, shape)
      var = torch.view(self.running_var, shape)
    end
    local y = torch.cdiv(x - mean, torch.sqrt(var + self.eps))
    if p.weight then y = torch.cmul(y, torch.view(p.weight, shape)) end
    if p.bias then y = y + torch.view(p.bias, shape) end
    return y
  end

  function class:__tostring__()
    return string.format('%s (%dD) (%d)', torch.type(self), nDim, self.running_mean:nElement())
  end
  return class
end

batchNormClass('nn.BatchNormalization', 2)
batchNormClass('nn.SpatialBatchNormalization', 4)

------------------------------------------------------------------------------------------
-- Dropout(p [, v1]): in training, each element is zeroed with probability p and the rest
-- scaled by 1 / (1 - p) (v1: not scaled, and scaled by 1 - p in evaluation instead); in
-- evaluation the input passes unchanged

local Dropout, dparent = torch.class('nn.Dropout', 'nn.Module')

function Dropout:__init(p, v1)
  dparent.__init(self)
  self.p = p or 0.5
  self.v2 = not v1
  if self.p >= 1 or self.p < 0 then torch._userError('<Dropout> illegal percentage, must be 0 <= p < 1') end
  self.noise = torch.Tensor()
end

function Dropout:setp(p) self.p = p end

function Dropout:updateOutput(input)
  if self.train and self.p > 0 then
    self.noise = torch.Tensor(input:size()):type(torch.type(input)):bernoulli(1 - self.p)
    if self.v2 then self.noise:div(1 - self.p) end
  end
  return dparent.updateOutput(self, input)
end

function Dropout:outputOf(x)
  if self.p == 0 then return x end
  if self.train then return torch.cmul(x, self.noise) end
  if self.v2 then return x end
  return x * (1 - self.p)
end

function Dropout:__tostring__()
  return string.format('%s(%f)', torch.type(self), self.p)
end
