-- Containers: Sequential, Concat, ConcatTable, ParallelTable, on nn.Container.
--
-- As in Torch7, a container's backward calls its children's updateGradInput and
-- accGradParameters (each child's gradients come from its own vjp, or from its own
-- hand-written backward for a user's module), routing gradOutput to them and summing or
-- joining what they give back.

local torch = require 'torch'
local isTensor = torch.isTensor

local Container, parent = torch.class('nn.Container', 'nn.Module')

function Container:__init(...)
  parent.__init(self, ...)
  self.modules = {}
end

function Container:add(module)
  self.modules[#self.modules + 1] = module
  return self
end

function Container:get(index) return self.modules[index] end
function Container:size() return #self.modules end

function Container:zeroGradParameters()
  for _, m in ipairs(self.modules) do m:zeroGradParameters() end
end

function Container:updateParameters(lr)
  for _, m in ipairs(self.modules) do m:updateParameters(lr) end
end

function Container:training()
  for _, m in ipairs(self.modules) do m:training() end
  parent.training(self)
end

function Container:evaluate()
  for _, m in ipairs(self.modules) do m:evaluate() end
  parent.evaluate(self)
end

function Container:share(mlp, ...)
  for i = 1, #self.modules do self.modules[i]:share(mlp.modules[i], ...) end
  return self
end

function Container:reset(stdv)
  for _, m in ipairs(self.modules) do m:reset(stdv) end
end

function Container:parameters()
  local w, gw = {}, {}
  for _, m in ipairs(self.modules) do
    local mw, mgw = m:parameters()
    if mw then
      for i = 1, #mw do w[#w + 1] = mw[i]; gw[#gw + 1] = mgw[i] end
    end
  end
  return w, gw
end

-- the printing of Concat, ConcatTable and ParallelTable: one branch per child
local function branches(self)
  local tab, line = '  ', '\n'
  local nextB, lastB = '  |`-> ', '   `-> '
  local ext, extlast = '  |    ', '       '
  local str = torch.type(self) .. ' {' .. line .. tab .. 'input'
  for i = 1, #self.modules do
    local s = tostring(self.modules[i])
    if i == #self.modules then
      str = str .. line .. tab .. lastB .. '(' .. i .. '): ' .. s:gsub(line, line .. tab .. extlast)
    else
      str = str .. line .. tab .. nextB .. '(' .. i .. '): ' .. s:gsub(line, line .. tab .. ext)
    end
  end
  return str .. line .. tab .. '   ... -> output' .. line .. '}'
end

------------------------------------------------------------------------------------------
-- Sequential

local Sequential = torch.class('nn.Sequential', 'nn.Container')

function Sequential:insert(module, index)
  index = index or (#self.modules + 1)
  table.insert(self.modules, index, module)
  self.output = self.modules[#self.modules].output
  self.gradInput = self.modules[1].gradInput
  return self
end

function Sequential:remove(index)
  index = index or #self.modules
  local m = table.remove(self.modules, index)
  return m
end

function Sequential:updateOutput(input)
  local current = input
  for i = 1, #self.modules do current = self.modules[i]:updateOutput(current) end
  self.output = current
  return current
end

function Sequential:updateGradInput(input, gradOutput)
  local g = gradOutput
  for i = #self.modules, 2, -1 do
    g = self.modules[i]:updateGradInput(self.modules[i - 1].output, g)
  end
  self.gradInput = self.modules[1]:updateGradInput(input, g)
  return self.gradInput
end

function Sequential:accGradParameters(input, gradOutput, scale)
  scale = scale or 1
  local g = gradOutput
  for i = #self.modules, 2, -1 do
    local m, prev = self.modules[i], self.modules[i - 1]
    m:accGradParameters(prev.output, g, scale)
    g = m.gradInput
  end
  self.modules[1]:accGradParameters(input, g, scale)
end

function Sequential:backward(input, gradOutput, scale)
  scale = scale or 1
  local g = gradOutput
  for i = #self.modules, 2, -1 do
    g = self.modules[i]:backward(self.modules[i - 1].output, g, scale)
  end
  self.gradInput = self.modules[1]:backward(input, g, scale)
  return self.gradInput
end

function Sequential:__tostring__()
  local tab, line, arrow = '  ', '\n', ' -> '
  local str = 'nn.Sequential {' .. line .. tab .. '[input'
  for i = 1, #self.modules do str = str .. arrow .. '(' .. i .. ')' end
  str = str .. arrow .. 'output]'
  for i = 1, #self.modules do
    str = str .. line .. tab .. '(' .. i .. '): ' .. tostring(self.modules[i]):gsub(line, line .. tab)
  end
  return str .. line .. '}'
end

------------------------------------------------------------------------------------------
-- Concat(dim): every child on the same input, outputs joined along dim

local Concat, concatParent = torch.class('nn.Concat', 'nn.Container')

function Concat:__init(dimension)
  concatParent.__init(self)
  self.dimension = dimension
end

function Concat:updateOutput(input)
  local outs = {}
  for i, m in ipairs(self.modules) do outs[i] = m:updateOutput(input) end
  self.output = torch.cat(outs, self.dimension)
  return self.output
end

-- the part of gradOutput that belongs to each child
local function slices(self, gradOutput)
  local parts, offset = {}, 1
  for i, m in ipairs(self.modules) do
    local n = m.output:size(self.dimension)
    parts[i] = gradOutput:narrow(self.dimension, offset, n)
    offset = offset + n
  end
  return parts
end

-- a + b for tensors or (nested) tables of them; nil stands for zero
local function addInto(a, b)
  if a == nil then return b end
  if b == nil then return a end
  if isTensor(a) then return a + b end
  local out = {}
  for k, v in pairs(a) do out[k] = addInto(v, b[k]) end
  for k, v in pairs(b) do if out[k] == nil then out[k] = v end end
  return out
end

function Concat:updateGradInput(input, gradOutput)
  local parts = slices(self, gradOutput)
  local sum
  for i, m in ipairs(self.modules) do sum = addInto(sum, m:updateGradInput(input, parts[i])) end
  self.gradInput = sum
  return sum
end

function Concat:accGradParameters(input, gradOutput, scale)
  local parts = slices(self, gradOutput)
  for i, m in ipairs(self.modules) do m:accGradParameters(input, parts[i], scale) end
end

function Concat:backward(input, gradOutput, scale)
  local parts = slices(self, gradOutput)
  local sum
  for i, m in ipairs(self.modules) do sum = addInto(sum, m:backward(input, parts[i], scale)) end
  self.gradInput = sum
  return sum
end

Concat.__tostring__ = branches

------------------------------------------------------------------------------------------
-- ConcatTable: every child on the same input, outputs in a table

local ConcatTable = torch.class('nn.ConcatTable', 'nn.Container')

function ConcatTable:updateOutput(input)
  local outs = {}
  for i, m in ipairs(self.modules) do outs[i] = m:updateOutput(input) end
  self.output = outs
  return outs
end

function ConcatTable:updateGradInput(input, gradOutput)
  local sum
  for i, m in ipairs(self.modules) do
    sum = addInto(sum, m:updateGradInput(input, gradOutput[i]))
  end
  self.gradInput = sum
  return sum
end

function ConcatTable:accGradParameters(input, gradOutput, scale)
  for i, m in ipairs(self.modules) do m:accGradParameters(input, gradOutput[i], scale) end
end

function ConcatTable:backward(input, gradOutput, scale)
  local sum
  for i, m in ipairs(self.modules) do sum = addInto(sum, m:backward(input, gradOutput[i], scale)) end
  self.gradInput = sum
  return sum
end

ConcatTable.__tostring__ = branches

------------------------------------------------------------------------------------------
-- ParallelTable: child i on input[i]

local ParallelTable = torch.class('nn.ParallelTable', 'nn.Container')

function ParallelTable:updateOutput(input)
  local outs = {}
  for i, m in ipairs(self.modules) do outs[i] = m:updateOutput(input[i]) end
  self.output = outs
  return outs
end

function ParallelTable:updateGradInput(input, gradOutput)
  local gi = {}
  for i, m in ipairs(self.modules) do gi[i] = m:updateGradInput(input[i], gradOutput[i]) end
  self.gradInput = gi
  return gi
end

function ParallelTable:accGradParameters(input, gradOutput, scale)
  for i, m in ipairs(self.modules) do m:accGradParameters(input[i], gradOutput[i], scale) end
end

function ParallelTable:backward(input, gradOutput, scale)
  local gi = {}
  for i, m in ipairs(self.modules) do gi[i] = m:backward(input[i], gradOutput[i], scale) end
  self.gradInput = gi
  return gi
end

ParallelTable.__tostring__ = branches

return Container
