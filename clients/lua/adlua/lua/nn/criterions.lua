-- Criterions: MSECriterion, AbsCriterion, SmoothL1Criterion, ClassNLLCriterion,
-- CrossEntropyCriterion, BCECriterion, DistKLDivCriterion, MarginCriterion,
-- MultiMarginCriterion, ParallelCriterion. Each writes its loss only (lossOf, a 0-d
-- tensor); the daemon differentiates it (nn/Criterion.lua). sizeAverage is Torch7's: the
-- mean over elements (or over samples, for the class criterions) rather than the sum.

local torch = require 'torch'
local F = require 'nn.functional'

-- a criterion class with a sizeAverage flag (default true); init(self, ...) takes the rest
local function define(name, loss, init)
  local class, parent = torch.class('nn.' .. name, 'nn.Criterion')
  function class:__init(...)
    parent.__init(self)
    self.sizeAverage = true
    if init then init(self, ...) end
  end
  class.lossOf = loss
  return class
end

local function averaged(self, total, count)
  if self.sizeAverage then return total / count end
  return total
end

local function sameType(t, x)
  if torch.type(t) ~= torch.type(x) then return t:type(torch.type(x)) end
  return t
end

define('MSECriterion', function(self, x, y)
  local d = x - sameType(y, x)
  return averaged(self, torch.sum(torch.cmul(d, d)), x:nElement())
end, function(self, sizeAverage) if sizeAverage ~= nil then self.sizeAverage = sizeAverage end end)

define('AbsCriterion', function(self, x, y)
  return averaged(self, torch.sum(torch.abs(x - sameType(y, x))), x:nElement())
end, function(self, sizeAverage) if sizeAverage ~= nil then self.sizeAverage = sizeAverage end end)

-- 0.5 d^2 where |d| < 1, |d| - 0.5 elsewhere
define('SmoothL1Criterion', function(self, x, y)
  local d = x - sameType(y, x)
  local z = torch.abs(d)
  local small = torch.lt(F.constant(z), 1):type(torch.type(x))
  local terms = torch.cmul(torch.cmul(d, d) * 0.5, small) + torch.cmul(z - 0.5, -small + 1)
  return averaged(self, torch.sum(terms), x:nElement())
end, function(self, sizeAverage) if sizeAverage ~= nil then self.sizeAverage = sizeAverage end end)

-- x: log-probabilities (C, or n x C); target: classes from 1. With weights, each sample
-- counts by its class's weight, and sizeAverage divides by the total weight.
define('ClassNLLCriterion', function(self, x, target)
  local codes, n = F.oneHot(x, target)
  if self.weights then
    local w = sameType(self.weights, x)
    w = x:dim() == 2 and torch.view(w, 1, w:size(1)) or w
    codes = torch.cmul(codes, torch.expandAs(w, codes))
    local total = -torch.sum(torch.cmul(x, codes))
    if self.sizeAverage then return total / torch.sum(codes) end
    return total
  end
  return averaged(self, -torch.sum(torch.cmul(x, codes)), n)
end, function(self, weights, sizeAverage)
  self.weights = weights
  if sizeAverage ~= nil then self.sizeAverage = sizeAverage end
end)

-- LogSoftMax then ClassNLLCriterion
define('CrossEntropyCriterion', function(self, x, target)
  return self.nll:lossOf(F.logSoftMax(x), target)
end, function(self, weights, sizeAverage)
  self.nll = nn.ClassNLLCriterion(weights, sizeAverage)
  if sizeAverage ~= nil then self.sizeAverage = sizeAverage end
end)

-- x: probabilities, target: 0s and 1s
define('BCECriterion', function(self, x, t)
  local eps = 1e-12
  t = sameType(t, x)
  local terms = torch.cmul(t, torch.log(x + eps)) + torch.cmul(-t + 1, torch.log(-x + 1 + eps))
  if self.weights then terms = torch.cmul(terms, torch.expandAs(sameType(self.weights, x), terms)) end
  return averaged(self, -torch.sum(terms), x:nElement())
end, function(self, weights, sizeAverage)
  self.weights = weights
  if sizeAverage ~= nil then self.sizeAverage = sizeAverage end
end)

-- x: log-probabilities, target: probabilities; sum of target (log target - x) where
-- target > 0
define('DistKLDivCriterion', function(self, x, t)
  t = sameType(t, x)
  local positive = F.above(t)
  local logT = torch.log(t + (-positive + 1))   -- log 1 = 0 where target is 0
  local terms = torch.cmul(torch.cmul(t, logT - x), positive)
  return averaged(self, torch.sum(terms), x:nElement())
end, function(self, sizeAverage) if sizeAverage ~= nil then self.sizeAverage = sizeAverage end end)

-- the hinge max(0, margin - x y), y being 1 or -1
define('MarginCriterion', function(self, x, y)
  local m = -torch.cmul(x, sameType(y, x)) + self.margin
  local terms = torch.cmul(m, F.above(F.constant(m)))
  return averaged(self, torch.sum(terms), x:nElement())
end, function(self, margin) self.margin = margin or 1 end)

-- per sample, the sum over classes i ~= y of max(0, margin - x[y] + x[i])^p (times the
-- weight of class y), divided by the number of classes; averaged over the samples
define('MultiMarginCriterion', function(self, x, target)
  local codes, n = F.oneHot(x, target)
  local nd = x:dim()
  local dim = nd == 2 and 2 or 1
  local xy = torch.sum(torch.cmul(x, codes), dim)
  local m = x - torch.expandAs(xy, x) + self.margin
  local active = torch.cmul(F.above(F.constant(m)), -codes + 1)
  local h = torch.cmul(m, active)
  if self.p == 2 then h = torch.cmul(h, h) end
  if self.weights then
    local w = sameType(self.weights, x)
    local wy = torch.sum(torch.cmul(codes, torch.expandAs(nd == 2 and torch.view(w, 1, w:size(1)) or w, codes)), dim)
    h = torch.cmul(h, torch.expandAs(wy, h))
  end
  local total = torch.sum(h) / x:size(nd)
  return averaged(self, total, n)
end, function(self, p, weights, margin)
  self.p = p or 1
  if self.p ~= 1 and self.p ~= 2 then torch._userError('only p == 1 and p == 2 supported') end
  self.weights, self.margin = weights, margin or 1
end)

------------------------------------------------------------------------------------------
-- ParallelCriterion([repeatTarget]): the weighted sum of criterions, criterion i applied
-- to input[i] (and target[i], or the one target when repeatTarget). Torch7's composition:
-- each child's forward and backward, each child's gradient scaled by its weight.

local ParallelCriterion, pparent = torch.class('nn.ParallelCriterion', 'nn.Criterion')

function ParallelCriterion:__init(repeatTarget)
  pparent.__init(self)
  self.criterions, self.weights = {}, {}
  self.gradInput = {}
  self.repeatTarget = repeatTarget
end

function ParallelCriterion:add(criterion, weight)
  self.criterions[#self.criterions + 1] = criterion
  self.weights[#self.weights + 1] = weight or 1
  return self
end

function ParallelCriterion:updateOutput(input, target)
  local total = 0
  for i, c in ipairs(self.criterions) do
    local t = self.repeatTarget and target or target[i]
    total = total + self.weights[i] * c:updateOutput(input[i], t)
  end
  self.output = total
  return total
end

function ParallelCriterion:updateGradInput(input, target)
  local gi = {}
  for i, c in ipairs(self.criterions) do
    local t = self.repeatTarget and target or target[i]
    local g = c:updateGradInput(input[i], t)
    if torch.isTensor(g) then g = g * self.weights[i]
    else
      local scaled = {}
      for k, v in pairs(g) do scaled[k] = v * self.weights[i] end
      g = scaled
    end
    gi[i] = g
  end
  self.gradInput = gi
  return gi
end
