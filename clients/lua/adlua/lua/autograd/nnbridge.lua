-- autograd's bridge to the real nn (require 'nn'), as torch-autograd has it:
--
--   f, params = autograd.functionalize(module)     -- an nn.Module object
--   y = f(params, x)                               -- or f(x) for a module without params
--   loss = autograd.functionalize(criterion)(x, target)
--   Class = autograd.nn.AutoModule('Name');     m = Class(fn, weight, bias)
--   Class = autograd.nn.AutoCriterion('Name');  c = Class(fn)
--
-- A functionalized module runs the object's own forward with its parameter tensors
-- standing for the tensors passed in (their handles swapped in for the call, then back),
-- so that an outer autograd traces straight through nn's forward and differentiates it to
-- any order. AutoModule and AutoCriterion make real nn classes (nn.Module, nn.Criterion)
-- whose forward is fn: their backward is the daemon's vjp of it, as for nn's own modules.

local torch = require 'torch'
local unwrap = torch._internals.unwrap

local bridge = {}

local FIELDS = {'_h', '_level', '_size', '_dtype'}

-- tensor t made to hold the value of v (a tensor table's fields swapped); what to restore
local function standIn(t, v)
  t, v = unwrap(t), unwrap(v)
  local saved = {}
  for i, k in ipairs(FIELDS) do saved[i] = rawget(t, k) end
  for _, k in ipairs(FIELDS) do rawset(t, k, v[k]) end
  return saved
end

local function restore(t, saved)
  t = unwrap(t)
  for i, k in ipairs(FIELDS) do rawset(t, k, saved[i]) end
end

function bridge.isModule(x) return type(x) == 'table' and torch.isTypeOf(x, 'nn.Module') end
function bridge.isCriterion(x) return type(x) == 'table' and torch.isTypeOf(x, 'nn.Criterion') end

-- f(params, input) running module's forward with params for its parameters(), and params
function bridge.functionalizeModule(module)
  local own = module:parameters() or {}
  local function call(params, input)
    local list = module:parameters() or {}
    if #list == 0 and input == nil then input = params end
    local saved = {}
    for i, t in ipairs(list) do
      if params[i] == nil then torch._userError('functionalized module: parameter ' .. i .. ' missing') end
      saved[i] = standIn(t, params[i])
    end
    -- a forward under other parameters must not leave a trace backward would reuse
    module:apply(function(m) m._trace, m._grads = nil, nil end)
    local ok, out = pcall(module.updateOutput, module, input)
    for i, t in ipairs(list) do restore(t, saved[i]) end
    module:apply(function(m) m._trace, m._grads = nil, nil end)
    if not ok then error(out, 0) end
    return out
  end
  if #own == 0 then return call end
  return call, own
end

function bridge.functionalizeCriterion(criterion)
  return function(input, target) return criterion:updateOutput(input, target) end
end

-- classes made by AutoModule and AutoCriterion, by name (torch-autograd's autograd.auto)
bridge.auto = {}

function bridge.AutoModule(name)
  if name == nil then error('You must provide a name for your auto-differentiated module.', 2) end
  if bridge.auto[name] then return bridge.auto[name] end
  require 'nn'
  local holder = {}
  local class, parent = torch.class('autograd.nn.module.' .. name, 'nn.Module', holder)
  function class:__init(fn, weight, bias)
    parent.__init(self)
    if fn == nil then error('An autograd function must be specified as input to AutoModule', 3) end
    self.fn = fn
    self.weight, self.gradWeight = weight, weight and weight:clone():zero()
    self.bias, self.gradBias = bias, bias and bias:clone():zero()
  end
  function class:outputOf(input, p) return (self.fn(input, p.weight, p.bias)) end
  bridge.auto[name] = holder[name]
  return holder[name]
end

function bridge.AutoCriterion(name)
  if name == nil then
    error('You must provide a name for your auto-differentiated criterion.', 2)
  end
  if bridge.auto[name] then return bridge.auto[name] end
  require 'nn'
  local holder = {}
  local class, parent = torch.class('autograd.nn.criterion.' .. name, 'nn.Criterion', holder)
  function class:__init(fn)
    parent.__init(self)
    if fn == nil then error('An autograd function must be specified as input to AutoCriterion', 3) end
    self.fn = fn
  end
  function class:lossOf(input, target) return (self.fn(input, target)) end
  bridge.auto[name] = holder[name]
  return holder[name]
end

return bridge
