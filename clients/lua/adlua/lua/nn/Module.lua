-- nn.Module: Torch7's module interface.
--
-- A module of this library writes only its forward, as
--   function M:outputOf(input, p) ... end
-- with torch-mirror ops on `input` and on p.weight, p.bias (the parameters the module
-- declares in self:_paramNames(); read them from p, not self, so that they are traced).
-- updateOutput runs it traced (nn/trace.lua); updateGradInput and accGradParameters take
-- gradInput and the parameter gradients from one vjp of that trace, seeded with
-- gradOutput. A subclass made with torch.class('nn.MyModule', 'nn.Module') may do the same,
-- or write updateOutput / updateGradInput / accGradParameters by hand as in Torch7.

local torch = require 'torch'
local trace = require 'nn.trace'
local isTensor = torch.isTensor

local Module = torch.class('nn.Module')

function Module:__init()
  self.gradInput = torch.Tensor()
  self.output = torch.Tensor()
  self._type = self.output:type()
  self.train = true
end

local GRAD_NAME = {weight = 'gradWeight', bias = 'gradBias'}
Module._GRAD_NAME = GRAD_NAME

-- the names of the parameters outputOf reads (those the module has)
function Module:_paramNames()
  local names = {}
  if self.weight ~= nil then names[#names + 1] = 'weight' end
  if self.bias ~= nil then names[#names + 1] = 'bias' end
  return names
end

function Module:_params()
  local p = {}
  for _, name in ipairs(self:_paramNames()) do p[name] = self[name] end
  return p
end

function Module:parameters()
  local params, grads = {}, {}
  for _, name in ipairs(self:_paramNames()) do
    params[#params + 1] = self[name]
    grads[#grads + 1] = self[GRAD_NAME[name] or ('grad' .. name:sub(1, 1):upper() .. name:sub(2))]
  end
  if #params == 0 then return nil end
  return params, grads
end

-- the forward, traced; a module without outputOf keeps Torch7's default
function Module:updateOutput(input)
  if self.outputOf == nil then return self.output end
  local module = self
  self._trace = trace.run(function(x, p) return module:outputOf(x, p) end, input,
                          self:_params(), self._constantInput)
  self._grads = nil
  self.output = self._trace.output
  return self.output
end

-- gradInput and the parameter gradients for (input, gradOutput): one vjp of the forward's
-- trace (traced again if input or the parameters changed since), kept for the
-- accGradParameters that follows updateGradInput in backward
function Module:_gradients(input, gradOutput)
  local g = self._grads
  if g and g.gradOutput == gradOutput and g.handle == (isTensor(gradOutput) and gradOutput._h)
      and g.input == input then
    return g.input_, g.params
  end
  local params = self:_params()
  if not trace.current(self._trace, input, params) then
    local module = self
    self._trace = trace.run(function(x, p) return module:outputOf(x, p) end, input, params,
                            self._constantInput)
  end
  local gi, gp = trace.vjp(self._trace, gradOutput)
  self._grads = {gradOutput = gradOutput, handle = isTensor(gradOutput) and gradOutput._h,
                 input = input, input_ = gi, params = gp}
  return gi, gp
end

function Module:updateGradInput(input, gradOutput)
  if self.outputOf == nil then return self.gradInput end
  local gi = self:_gradients(input, gradOutput)
  if self._constantInput then
    -- Torch7 gives a constant input (indices) a gradient of zeros
    gi = torch.zeros(input:size()):type(torch.type(input))
  end
  self.gradInput = gi
  return self.gradInput
end

function Module:accGradParameters(input, gradOutput, scale)
  if self.outputOf == nil then return end
  local names = self:_paramNames()
  if #names == 0 then return end
  scale = scale or 1
  local _, gp = self:_gradients(input, gradOutput)
  local _, grads = self:parameters()
  for i, name in ipairs(names) do
    grads[i]:add(scale, gp[name])
  end
end

function Module:forward(input)
  return self:updateOutput(input)
end

function Module:backward(input, gradOutput, scale)
  scale = scale or 1
  self:updateGradInput(input, gradOutput)
  self:accGradParameters(input, gradOutput, scale)
  return self.gradInput
end

function Module:accUpdateGradParameters(input, gradOutput, lr)
  local params, grads = self:parameters()
  if not params then return end
  -- Torch7's trick: accumulate into the parameters themselves, scaled by -lr
  local saved = {}
  local names = self:_paramNames()
  for i, name in ipairs(names) do
    local gname = GRAD_NAME[name]
    saved[i] = self[gname]
    self[gname] = self[name]
  end
  self:accGradParameters(input, gradOutput, -lr)
  for i, name in ipairs(names) do self[GRAD_NAME[name]] = saved[i] end
end

function Module:backwardUpdate(input, gradOutput, lr)
  self:updateGradInput(input, gradOutput)
  self:accUpdateGradParameters(input, gradOutput, lr)
  return self.gradInput
end

function Module:zeroGradParameters()
  local _, grads = self:parameters()
  if grads then
    for i = 1, #grads do grads[i]:zero() end
  end
end

function Module:updateParameters(learningRate)
  local params, grads = self:parameters()
  if params then
    for i = 1, #params do params[i]:add(-learningRate, grads[i]) end
  end
end

function Module:training() self.train = true end
function Module:evaluate() self.train = false end
function Module:reset() end

function Module:share(mlp, ...)
  for _, name in ipairs({...}) do
    if self[name] ~= nil then
      self[name]:set(mlp[name])
      self._trace, self._grads = nil, nil
    end
  end
  return self
end

------------------------------------------------------------------------------------------
-- copies and types

local function plainTable(x)
  return type(x) == 'table' and not isTensor(x) and not torch._isStorage(x)
end

-- a deep copy in which tensors shared in the original are shared in the copy
local function deepCopy(x, seen)
  if isTensor(x) then
    if seen[x] == nil then seen[x] = x:clone() end
    return seen[x]
  end
  if type(x) ~= 'table' then return x end
  if seen[x] ~= nil then return seen[x] end
  if torch._isStorage(x) then
    local s = setmetatable({}, getmetatable(x))
    for k, v in pairs(x) do s[k] = v end
    seen[x] = s
    return s
  end
  local out = {}
  seen[x] = out
  for k, v in pairs(x) do
    if k ~= '_trace' and k ~= '_grads' then out[deepCopy(k, seen)] = deepCopy(v, seen) end
  end
  return setmetatable(out, getmetatable(x))
end
Module._deepCopy = deepCopy

function Module:clone(...)
  local copy = deepCopy(self, {})
  if select('#', ...) > 0 then copy:share(self, ...) end
  return copy
end

-- every tensor of x (a nested table, modules included) cast to typename; tensors shared
-- before are shared after (through cache)
local function recursiveType(x, typename, cache)
  if isTensor(x) then
    if cache[x] == nil then
      if torch.type(x) == typename then cache[x] = x else cache[x] = x:type(typename) end
    end
    return cache[x]
  end
  if type(x) == 'table' and (torch.isTypeOf(x, 'nn.Module') or torch.isTypeOf(x, 'nn.Criterion')) then
    x:type(typename, cache)
    return x
  end
  if plainTable(x) and getmetatable(x) == nil then
    for k, v in pairs(x) do x[k] = recursiveType(v, typename, cache) end
  end
  return x
end
Module._recursiveType = recursiveType

function Module:type(typename, cache)
  if not typename then return self._type end
  cache = cache or {}
  self._trace, self._grads = nil, nil
  for k, v in pairs(self) do
    if k ~= '_trace' and k ~= '_grads' then self[k] = recursiveType(v, typename, cache) end
  end
  self._type = typename
  return self
end

function Module:float(...) return self:type('torch.FloatTensor', ...) end
function Module:double(...) return self:type('torch.DoubleTensor', ...) end
-- no CUDA here: cuda() keeps the module's type, as a CPU-only Torch7 cannot change it
function Module:cuda(...) return self end

------------------------------------------------------------------------------------------
-- getParameters: every parameter (and gradient) made a view of one flat tensor

-- the flat tensor holding every tensor of list, each made a view of it; tensors that
-- shared a storage share it in the flat tensor too
local function flatten(list)
  if not list or #list == 0 then return torch.Tensor() end
  local T = torch._internals
  local storages, order, total = {}, {}, 0
  local meta = {}
  for k, t in ipairs(list) do
    local st = T.storageOf(T.unwrap(t))
    if storages[st] == nil then
      storages[st] = {base = st.t, offset = total}
      order[#order + 1] = st
      total = total + T.numel(torch._sizeOf(st.t))
    end
    if not t:isContiguous() then
      torch._userError('getParameters: a parameter is not contiguous in its storage')
    end
    meta[k] = {st = st, offset = storages[st].offset + t:storageOffset() - 1,
               size = torch._sizeOf(t)}
  end
  local parts = {}
  for i, st in ipairs(order) do
    local base = storages[st].base
    parts[i] = torch.view(base, T.numel(torch._sizeOf(base)))
  end
  local flat = #parts == 1 and torch.clone(parts[1]) or torch.cat(parts, 1)
  flat = flat:type(torch.type(list[1]))
  for k, t in ipairs(list) do
    local m = meta[k]
    local n = T.numel(m.size)
    local v = flat:narrow(1, m.offset + 1, n)
    if #m.size ~= 1 then v = v:view(torch.LongStorage(m.size)) end
    t:set(v)
  end
  return flat
end
Module.flatten = flatten

function Module:getParameters()
  local params, grads = self:parameters()
  local p, g = flatten(params), flatten(grads)
  if p:nElement() ~= g:nElement() then
    torch._userError('check that you are sharing parameters and gradParameters')
  end
  self:apply(function(m) m._trace, m._grads = nil, nil end)
  return p, g
end

------------------------------------------------------------------------------------------
-- walking a network

function Module:__call__(input, gradOutput)
  self:forward(input)
  if gradOutput then
    self:backward(input, gradOutput)
    return self.output, self.gradInput
  end
  return self.output
end

function Module:apply(callback)
  callback(self)
  if self.modules then
    for _, m in ipairs(self.modules) do m:apply(callback) end
  end
end

function Module:listModules()
  local list = {self}
  if self.modules then
    for _, m in ipairs(self.modules) do
      for _, sub in ipairs(m:listModules()) do list[#list + 1] = sub end
    end
  end
  return list
end

function Module:findModules(typename, container)
  container = container or self
  local nodes, containers = {}, {}
  if torch.typename(self) == typename then
    nodes[1], containers[1] = self, container
  end
  if self.modules then
    for _, child in ipairs(self.modules) do
      local n, c = child:findModules(typename, self)
      for j = 1, #n do
        nodes[#nodes + 1], containers[#containers + 1] = n[j], c[j]
      end
    end
  end
  return nodes, containers
end

function Module:clearState()
  self._trace, self._grads = nil, nil
  if isTensor(self.output) then self.output = torch.Tensor():type(self._type or 'torch.DoubleTensor')
  else self.output = {} end
  if isTensor(self.gradInput) then self.gradInput = torch.Tensor():type(self._type or 'torch.DoubleTensor')
  else self.gradInput = {} end
  if self.modules then
    for _, m in ipairs(self.modules) do m:clearState() end
  end
  return self
end

-- Torch7 prints a module with its __tostring__, or its type name
Module.__tostring = function(self)
  local f = self.__tostring__
  if f then return f(self) end
  return torch.typename(self)
end
Module.__call = function(self, ...) return self:__call__(...) end

return Module
