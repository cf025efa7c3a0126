-- Modules without weights that map each element (or each sample, for the soft-maxes):
-- Identity, Tanh, Sigmoid, ReLU, Threshold, HardTanh, ELU, LeakyReLU, SoftPlus, SoftMax,
-- LogSoftMax, Abs, Square, Sqrt, Exp, Log, Power, MulConstant, AddConstant. Each writes
-- its forward only (outputOf); the daemon differentiates it.

local torch = require 'torch'
local F = require 'nn.functional'

-- a module class whose forward is f(self, x); init(self, ...) keeps its arguments
local function define(name, f, init, describe)
  local class, parent = torch.class('nn.' .. name, 'nn.Module')
  function class:__init(...)
    parent.__init(self)
    if init then init(self, ...) end
  end
  function class:outputOf(x) return f(self, x) end
  if describe then class.__tostring__ = describe end
  return class
end

-- Identity hands its input on, and gradOutput back, as Torch7's does
local Identity = torch.class('nn.Identity', 'nn.Module')
function Identity:updateOutput(input) self.output = input; return input end
function Identity:updateGradInput(input, gradOutput) self.gradInput = gradOutput; return gradOutput end

define('Tanh', function(_, x) return torch.tanh(x) end)
define('Sigmoid', function(_, x) return torch.sigmoid(x) end)

-- Threshold(th, v): x where x > th, v elsewhere (the gradient passes where x > th)
local function threshold(self, x)
  local keep = F.above(x, self.threshold)
  local y = torch.cmul(x, keep)
  if self.val ~= 0 then y = y - (keep - 1) * self.val end
  return y
end
define('Threshold', threshold, function(self, th, v)
  self.threshold, self.val = th or 1e-6, v or 0
end, function(self)
  return torch.type(self) .. string.format('(%g, %g)', self.threshold, self.val)
end)
define('ReLU', threshold, function(self) self.threshold, self.val = 0, 0 end)

define('HardTanh', function(self, x)
  local above = F.above(x, self.max_val)
  local below = torch.lt(x, self.min_val):type(torch.type(x))
  return torch.cmul(x, -(above + below) + 1) + above * self.max_val + below * self.min_val
end, function(self, minVal, maxVal)
  self.min_val, self.max_val = minVal or -1, maxVal or 1
end)

define('LeakyReLU', function(self, x)
  local pos = F.above(x)
  return torch.cmul(x, pos + (-pos + 1) * self.negval)
end, function(self, negval) self.negval = negval or 1 / 100 end)

define('ELU', function(self, x)
  local pos = F.above(x)
  return torch.cmul(x, pos) + torch.cmul((torch.exp(x) - 1) * self.alpha, -pos + 1)
end, function(self, alpha) self.alpha = alpha or 1 end)

-- SoftPlus(beta, threshold): log(1 + exp(beta x)) / beta, and x itself where beta x is
-- above the threshold (Torch7's, where the two agree to double precision)
define('SoftPlus', function(self, x)
  local linear = F.above(x * self.beta, self.threshold)
  local bounded = torch.cmul(x, -linear + 1)   -- keeps exp() finite where x is linear
  local soft = torch.log(torch.exp(bounded * self.beta) + 1) / self.beta
  return torch.cmul(soft, -linear + 1) + torch.cmul(x, linear)
end, function(self, beta, threshold) self.beta, self.threshold = beta or 1, threshold or 20 end)

define('SoftMax', function(_, x) return F.softMax(x) end)
define('LogSoftMax', function(_, x) return F.logSoftMax(x) end)
define('Abs', function(_, x) return torch.abs(x) end)
define('Square', function(_, x) return torch.cmul(x, x) end)
define('Sqrt', function(self, x) return torch.sqrt(x + self.eps) end,
       function(self, b, eps) self.eps = eps or 0 end)
define('Exp', function(_, x) return torch.exp(x) end)
define('Log', function(_, x) return torch.log(x) end)
define('Power', function(self, x) return torch.pow(x, self.pow) end,
       function(self, p) self.pow = p end)
define('MulConstant', function(self, x) return x * self.constant_scalar end,
       function(self, c) self.constant_scalar = c end)
define('AddConstant', function(self, x) return x + self.constant_scalar end,
       function(self, c) self.constant_scalar = c end)

return Identity
