-- nn.Criterion: Torch7's criterion interface.
--
-- A criterion of this library writes only its loss, as
--   function C:lossOf(input, target) ... end
-- returning a 0-d tensor (or a number) made with torch-mirror ops. updateOutput runs it
-- traced with the input boxed (nn/trace.lua) and returns the loss as a number, as Torch7
-- does; updateGradInput is the vjp of that trace.

local torch = require 'torch'
local trace = require 'nn.trace'
local isTensor = torch.isTensor

local Criterion = torch.class('nn.Criterion')

function Criterion:__init()
  self.gradInput = torch.Tensor()
  self.output = 0
end

local function lossNumber(t)
  if not isTensor(t) then return t end
  if t._level > 0 then return t end       -- under an outer trace: stays traced
  local size = torch._sizeOf(t)
  if #size ~= 0 then t = torch.view(t, torch.LongStorage({})) end
  return (torch._fetchNumbers(t._h))
end

local function traced(self, input, target)
  local crit = self
  return trace.run(function(x) return crit:lossOf(x, target) end, input, {})
end

function Criterion:updateOutput(input, target)
  if self.lossOf == nil then return self.output end
  self._trace = traced(self, input, target)
  self._target = target
  self.output = lossNumber(self._trace.output)
  return self.output
end

function Criterion:updateGradInput(input, target)
  if self.lossOf == nil then return self.gradInput end
  if self._target ~= target or not trace.current(self._trace, input, {}) then
    self._trace = traced(self, input, target)
    self._target = target
  end
  self.gradInput = trace.vjp(self._trace, nil)
  return self.gradInput
end

function Criterion:forward(input, target) return self:updateOutput(input, target) end
function Criterion:backward(input, target) return self:updateGradInput(input, target) end

function Criterion:__call__(input, target)
  self.output = self:forward(input, target)
  self.gradInput = self:backward(input, target)
  return self.output, self.gradInput
end

function Criterion:clone()
  return require('nn.Module')._deepCopy(self, {})
end

function Criterion:type(typename, cache)
  cache = cache or {}
  self._trace = nil
  local recursiveType = require('nn.Module')._recursiveType
  for k, v in pairs(self) do
    if k ~= '_trace' and k ~= '_target' then self[k] = recursiveType(v, typename, cache) end
  end
  return self
end
function Criterion:float() return self:type('torch.FloatTensor') end
function Criterion:double() return self:type('torch.DoubleTensor') end
function Criterion:cuda() return self end

Criterion.__tostring = function(self)
  local f = self.__tostring__
  if f then return f(self) end
  return torch.typename(self)
end
Criterion.__call = function(self, ...) return self:__call__(...) end

return Criterion
