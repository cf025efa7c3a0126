-- autograd.nn: nn's layers and criteria as functions, as torch-autograd's functionalized
-- nn gives them:
--
--   linear, params = autograd.nn.Linear(784, 50)     -- params = {weight, bias}, nn's init
--   h = linear(params, x)
--   tanh = autograd.nn.Tanh();  h = tanh(h)          -- layers without parameters
--   nll = autograd.nn.ClassNLLCriterion();  l = nll(logProbs, labels)
--
-- Each layer is written here with the torch mirror's functions, and the daemon
-- differentiates it (to any order) like any other code; objects of the real nn
-- (require 'nn') are functionalized by autograd/nnbridge.lua. A layer is a callable
-- table: layer.name, layer.nParams, layer.params (the parameters it was made with), and
-- for Dropout and the batch normalizations layer:training() / layer:evaluate() (training
-- is the default, as in nn).
--
-- Sequential composes layers: `seq, params = autograd.nn.Sequential({l1, l2, ...})` gives
-- seq(params, x), params being the flat list of every layer's parameters in order (what
-- nn's model:parameters() gives); seq:add(layer [, params]) appends one.

local torch = require 'torch'
local util = require 'autograd.util'
local isTensor = torch.isTensor
local sizeOf = torch._sizeOf
local unpack = unpack or table.unpack

local nn = {}

local copySize, numel = torch._internals.copySize, torch._internals.numel

local function storage(size) return torch.LongStorage(size) end

-- one daemon op with keyword arguments (ops with no Torch7 name: convolve, pad, ...)
local applyk = torch._internals.applyk

------------------------------------------------------------------------------------------
-- layer objects

local Layer = {}
Layer.__index = Layer
Layer.__call = function(self, ...) return self.entry(...) end
Layer.__tostring = function(self) return self.name end
function Layer:training() self.train = true; return self end
function Layer:evaluate() self.train = false; return self end
function Layer:parameters() return self.params end
function Layer:forward(...) return self.entry(...) end

local function layer(name, entry, params)
  return setmetatable({name = name, entry = entry, params = params,
                       nParams = params and #params or 0, train = true}, Layer)
end

local Criterion = {}
Criterion.__index = Criterion
Criterion.__call = function(self, ...) return self.entry(...) end
Criterion.__tostring = function(self) return self.name end
function Criterion:forward(...) return self.entry(...) end

local function criterion(name, entry)
  return setmetatable({name = name, entry = entry}, Criterion)
end

local layerKinds = {[Layer] = true}
function nn.isLayer(x) return layerKinds[getmetatable(x)] == true end
function nn.isCriterion(x) return getmetatable(x) == Criterion end

------------------------------------------------------------------------------------------
-- helpers

local function typed(t, like) return t:type(torch.type(like)) end

-- x > 0 as 1s and 0s of x's type (a constant: comparisons are never traced)
local function positive(x, threshold)
  return typed(torch.gt(x, threshold or 0), x)
end

-- the dim nn's SoftMax and LogSoftMax work along: the vector, each row of a batch, the
-- feature planes of a 3-D input, or of each sample of a 4-D one
local function featureDim(x)
  local nd = #sizeOf(x)
  if nd == 1 or nd == 3 then return 1 end
  if nd == 2 or nd == 4 then return 2 end
  torch._userError('vector or matrix expected (or a 3-D/4-D spatial input)')
end

local function logSoftMax(x)
  local d = featureDim(x)
  -- the shift cancels exactly, so it may be a constant
  local shift = torch.max(util._constant(x), d)
  local shifted = x - shift
  return shifted - torch.log(torch.sum(torch.exp(shifted), d))
end

local function softMax(x)
  local d = featureDim(x)
  local e = torch.exp(x - torch.max(util._constant(x), d))
  return torch.cdiv(e, torch.sum(e, d))
end
nn._logSoftMax = logSoftMax
nn._softMax = softMax

------------------------------------------------------------------------------------------
-- layers with parameters

function nn.Linear(inputSize, outputSize, bias)
  local stdv = 1 / math.sqrt(inputSize)
  local params = {torch.Tensor(outputSize, inputSize):uniform(-stdv, stdv)}
  if bias ~= false then params[2] = torch.Tensor(outputSize):uniform(-stdv, stdv) end
  local function linear(p, x)
    local W, b = p[1], p[2]
    local nd = #sizeOf(x)
    local y
    if nd == 1 then
      y = torch.mv(W, x)
    elseif nd == 2 then
      y = torch.mm(x, torch.t(W))
    else
      torch._userError('Linear: input must be a vector or a matrix')
    end
    if b ~= nil then y = y + b end
    return y
  end
  return layer('nn.Linear', linear, params), params
end

-- Spatial convolution: input nInputPlane x H x W (or a batch of them), weight
-- nOutputPlane x nInputPlane x kH x kW (SpatialConvolutionMM keeps it as
-- nOutputPlane x (nInputPlane*kH*kW)). A cross-correlation, as in nn.

-- rows 1, 1 + step, ... of `dim` (0-based for the daemon), `count` of them
local function strided(x, dim, step, count)
  if step == 1 then return x end
  local idx = {}
  for i = 1, count do idx[i] = (i - 1) * step end
  local size = copySize(sizeOf(x))
  size[dim] = count
  return torch._apply('take', size, x._dtype, x, idx, dim - 1)
end

local function pad(x, padH, padW, value)
  if padH == 0 and padW == 0 then return x end
  padH, padW = math.floor(padH), math.floor(padW)
  local size = copySize(sizeOf(x))
  size[3] = size[3] + 2 * padH
  size[4] = size[4] + 2 * padW
  local widths = {{0, 0}, {0, 0}, {padH, padH}, {padW, padW}}
  if value == nil then return torch._apply('pad', size, x._dtype, x, widths) end
  return applyk('pad', {mode = 'constant', constant_values = value}, size, x._dtype, x, widths)
end

local function batched(x, nd)
  local s = sizeOf(x)
  if #s == nd - 1 then
    local b = {1}
    for i = 1, #s do b[i + 1] = s[i] end
    return torch.view(x, storage(b)), true
  end
  if #s ~= nd then torch._userError(string.format('%dD or %dD tensor expected', nd - 1, nd)) end
  return x, false
end

local function unbatched(y, wasSingle)
  if not wasSingle then return y end
  local s = sizeOf(y)
  local out = {}
  for i = 2, #s do out[i - 1] = s[i] end
  return torch.view(y, storage(out))
end

local function convolution(x, weight, bias, kW, kH, dW, dH, padW, padH)
  local input, single = batched(x, 4)
  input = pad(input, padH, padW)
  local s = sizeOf(input)
  local ws = sizeOf(weight)
  local nOut = ws[1]
  local oH = math.floor((s[3] - kH) / dH) + 1
  local oW = math.floor((s[4] - kW) / dW) + 1
  -- convolving with the flipped kernel correlates with the kernel
  local flipped = torch._apply('flip', copySize(ws), weight._dtype, weight, {2, 3})
  local fullH, fullW = s[3] - kH + 1, s[4] - kW + 1
  local out = applyk('scipy.signal.convolve',
                            {axes = {{2, 3}, {2, 3}}, dot_axes = {{1}, {1}}, mode = 'valid'},
                            {s[1], nOut, fullH, fullW},
                            x._dtype == weight._dtype and x._dtype or 'float64', input, flipped)
  out = strided(strided(out, 3, dH, oH), 4, dW, oW)
  if bias ~= nil then out = out + torch.view(bias, 1, nOut, 1, 1) end
  return unbatched(out, single)
end

local function spatialConvolution(name, mm)
  return function(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
    dW, dH = dW or 1, dH or 1
    padW = padW or 0
    padH = padH or padW
    local stdv = 1 / math.sqrt(kW * kH * nInputPlane)
    local weight
    if mm then
      weight = torch.Tensor(nOutputPlane, nInputPlane * kH * kW):uniform(-stdv, stdv)
    else
      weight = torch.Tensor(nOutputPlane, nInputPlane, kH, kW):uniform(-stdv, stdv)
    end
    local params = {weight, torch.Tensor(nOutputPlane):uniform(-stdv, stdv)}
    local function conv(p, x)
      local W = p[1]
      if mm then W = torch.view(W, nOutputPlane, nInputPlane, kH, kW) end
      return convolution(x, W, p[2], kW, kH, dW, dH, padW, padH)
    end
    return layer(name, conv, params), params
  end
end
nn.SpatialConvolution = spatialConvolution('nn.SpatialConvolution', false)
nn.SpatialConvolutionMM = spatialConvolution('nn.SpatialConvolutionMM', true)

-- Batch normalization over the samples (and, for the spatial one, every position) of each
-- feature. Training uses the batch's statistics and updates the running ones (as plain
-- values); evaluation uses the running ones.
local function batchNormalization(name, spatial)
  return function(nOutput, eps, momentum, affine)
    eps = eps or 1e-5
    momentum = momentum or 0.1
    local params = nil
    if affine ~= false then
      params = {torch.Tensor(nOutput):uniform(), torch.Tensor(nOutput):zero()}
    end
    local l
    local function bn(p, x)
      if params == nil then x = p end
      local s = sizeOf(x)
      local shape, dims
      if spatial then
        if #s ~= 4 then torch._userError('only mini-batch supported (4D tensor)') end
        shape, dims = {1, nOutput, 1, 1}, {1, 3, 4}
      else
        if #s ~= 2 then torch._userError('only mini-batch supported (2D tensor)') end
        shape, dims = {1, nOutput}, {1}
      end
      local mean, var
      if l.train then
        local n = numel(s) / nOutput
        mean = x
        for _, d in ipairs(dims) do mean = torch.sum(mean, d) end
        mean = mean / n
        local centered = x - mean
        var = torch.cmul(centered, centered)
        for _, d in ipairs(dims) do var = torch.sum(var, d) end
        var = var / n
        local rm = torch.view(util._constant(mean), nOutput)
        local rv = torch.view(util._constant(var), nOutput) * (n / math.max(n - 1, 1))
        l.running_mean = l.running_mean * (1 - momentum) + rm * momentum
        l.running_var = l.running_var * (1 - momentum) + rv * momentum
      else
        mean = torch.view(l.running_mean, storage(shape))
        var = torch.view(l.running_var, storage(shape))
      end
      local y = torch.cdiv(x - mean, torch.sqrt(var + eps))
      if params ~= nil then
        y = torch.cmul(y, torch.view(p[1], storage(shape))) + torch.view(p[2], storage(shape))
      end
      return y
    end
    l = layer(name, bn, params)
    l.running_mean = torch.zeros(nOutput)
    l.running_var = torch.ones(nOutput)
    l.eps, l.momentum = eps, momentum
    return l, params
  end
end
nn.BatchNormalization = batchNormalization('nn.BatchNormalization', false)
nn.SpatialBatchNormalization = batchNormalization('nn.SpatialBatchNormalization', true)

------------------------------------------------------------------------------------------
-- layers without parameters

local function simple(name, f)
  return function(...)
    local args = {...}
    return layer(name, function(x) return f(x, unpack(args)) end)
  end
end

nn.Identity = simple('nn.Identity', function(x) return x end)
nn.Tanh = simple('nn.Tanh', function(x) return torch.tanh(x) end)
nn.Sigmoid = simple('nn.Sigmoid', function(x) return torch.sigmoid(x) end)
nn.ReLU = simple('nn.ReLU', function(x) return torch.cmul(x, positive(x)) end)
nn.Threshold = simple('nn.Threshold', function(x, th, v)
  th, v = th or 1e-6, v or 0
  local keep = positive(x, th)
  if v == 0 then return torch.cmul(x, keep) end
  return torch.cmul(x, keep) - (keep - 1) * v
end)
nn.HardTanh = simple('nn.HardTanh', function(x, minVal, maxVal)
  minVal, maxVal = minVal or -1, maxVal or 1
  local above = positive(x, maxVal)
  local below = typed(torch.lt(x, minVal), x)
  local inside = -(above + below) + 1
  return torch.cmul(x, inside) + above * maxVal + below * minVal
end)
nn.LeakyReLU = simple('nn.LeakyReLU', function(x, negval)
  negval = negval or 1 / 100
  local pos = positive(x)
  return torch.cmul(x, pos + (-pos + 1) * negval)
end)
nn.ELU = simple('nn.ELU', function(x, alpha)
  alpha = alpha or 1
  local pos = positive(x)
  return torch.cmul(x, pos) + torch.cmul((torch.exp(x) - 1) * alpha, -pos + 1)
end)
nn.SoftPlus = simple('nn.SoftPlus', function(x, beta)
  beta = beta or 1
  return torch.log(torch.exp(x * beta) + 1) / beta
end)
nn.Abs = simple('nn.Abs', function(x) return torch.abs(x) end)
nn.Square = simple('nn.Square', function(x) return torch.cmul(x, x) end)
nn.Sqrt = simple('nn.Sqrt', function(x) return torch.sqrt(x) end)
nn.Exp = simple('nn.Exp', function(x) return torch.exp(x) end)
nn.Log = simple('nn.Log', function(x) return torch.log(x) end)
nn.Power = simple('nn.Power', function(x, p) return torch.pow(x, p) end)
nn.MulConstant = simple('nn.MulConstant', function(x, c) return x * c end)
nn.AddConstant = simple('nn.AddConstant', function(x, c) return x + c end)
nn.SoftMax = simple('nn.SoftMax', softMax)
nn.LogSoftMax = simple('nn.LogSoftMax', logSoftMax)

-- nn.Sum(dim) and nn.Mean(dim): the dim is removed
local function reduceDim(name, mean)
  return simple(name, function(x, dim, nInputDims)
    dim = dim or 1
    local s = sizeOf(x)
    if nInputDims and #s > nInputDims then dim = dim + 1 end
    local y = mean and torch.mean(x, dim) or torch.sum(x, dim)
    local out = {}
    for i = 1, #s do if i ~= dim then out[#out + 1] = s[i] end end
    return torch.view(y, storage(out))
  end)
end
nn.Sum = reduceDim('nn.Sum', false)
nn.Mean = reduceDim('nn.Mean', true)

-- nn.Reshape(d1, d2, ... [, batchMode]): a batch of inputs keeps its first dim
function nn.Reshape(...)
  local args = {...}
  local batchMode
  if type(args[#args]) == 'boolean' then batchMode = table.remove(args) end
  local size = type(args[1]) == 'table' and copySize(args[1]) or args
  local nelement = numel(size)
  return layer('nn.Reshape', function(x)
    local s = sizeOf(x)
    if batchMode == false or (batchMode == nil and numel(s) == nelement and s[1] ~= 1) then
      return torch.view(x, storage(size))
    end
    local b = {s[1]}
    for i = 1, #size do b[i + 1] = size[i] end
    return torch.view(x, storage(b))
  end)
end

-- nn.View(d1, d2, ...): one size may be -1; an input with more elements is a batch
function nn.View(...)
  local args = {...}
  local size = type(args[1]) == 'table' and copySize(args[1]) or args
  local known, free = 1, false
  for i = 1, #size do
    if size[i] == -1 then free = true else known = known * size[i] end
  end
  local l
  l = layer('nn.View', function(x)
    local s = sizeOf(x)
    local batch
    if l.numInputDims then
      batch = #s > l.numInputDims
    else
      batch = not free and numel(s) ~= known
    end
    if not batch then return torch.view(x, storage(size)) end
    local b = {s[1]}
    for i = 1, #size do b[i + 1] = size[i] end
    return torch.view(x, storage(b))
  end)
  function l:setNumInputDims(n) self.numInputDims = n; return self end
  return l
end

-- nn.MM(transA, transB): {A, B} -> A * B, or a batch of products for 3-D A and B
function nn.MM(transA, transB)
  return layer('nn.MM', function(pair)
    local A, B_ = pair[1], pair[2]
    local batch = #sizeOf(A) == 3
    if transA then A = batch and torch.transpose(A, 2, 3) or torch.t(A) end
    if transB then B_ = batch and torch.transpose(B_, 2, 3) or torch.t(B_) end
    if batch then return torch.bmm(A, B_) end
    return torch.mm(A, B_)
  end)
end

-- inverted dropout, as nn's Dropout (v2) in training; the identity when evaluating
function nn.Dropout(p)
  p = p or 0.5
  local l
  l = layer('nn.Dropout', function(x)
    if not l.train or p == 0 then return x end
    return util.dropout(x, p)
  end)
  l.p = p
  return l
end

-- whole feature maps dropped together
function nn.SpatialDropout(p)
  p = p or 0.5
  local l
  l = layer('nn.SpatialDropout', function(x)
    if not l.train or p == 0 then return x end
    local s = sizeOf(x)
    local maskSize = copySize(s)
    maskSize[#s] = 1
    maskSize[#s - 1] = 1
    local mask = typed(torch.lt(torch.rand(storage(maskSize)), 1 - p), x)
    return torch.cmul(x, mask * (1 / (1 - p)))
  end)
  l.p = p
  return l
end

-- max pooling over kH x kW windows, dH and dW apart (nn's floor mode)
function nn.SpatialMaxPooling(kW, kH, dW, dH, padW, padH)
  kH = kH or kW
  dW, dH = dW or kW, dH or kH
  padW, padH = padW or 0, padH or 0
  return layer('nn.SpatialMaxPooling', function(x)
    local input, single = batched(x, 4)
    input = pad(input, padH, padW, -math.huge)
    local s = sizeOf(input)
    local oH = math.floor((s[3] - kH) / dH) + 1
    local oW = math.floor((s[4] - kW) / dW) + 1
    local out
    for i = 1, kH do
      local rows = torch.narrow(input, 3, i, (oH - 1) * dH + 1)
      rows = strided(rows, 3, dH, oH)
      for j = 1, kW do
        local window = strided(torch.narrow(rows, 4, j, (oW - 1) * dW + 1), 4, dW, oW)
        out = out and torch.cmax(out, window) or window
      end
    end
    return unbatched(out, single)
  end)
end

------------------------------------------------------------------------------------------
-- Sequential

local Sequential = setmetatable({}, {__index = Layer})
Sequential.__index = Sequential
Sequential.__call = Layer.__call
Sequential.__tostring = Layer.__tostring
layerKinds[Sequential] = true

function Sequential:add(l, params)
  self.layers[#self.layers + 1] = l
  local p = params or (nn.isLayer(l) and l.params) or nil
  local count = p and #p or 0
  self.counts[#self.layers] = count
  for i = 1, count do self.params[#self.params + 1] = p[i] end
  self.nParams = #self.params
  return self
end

function Sequential:training()
  self.train = true
  for _, l in ipairs(self.layers) do if nn.isLayer(l) then l:training() end end
  return self
end

function Sequential:evaluate()
  self.train = false
  for _, l in ipairs(self.layers) do if nn.isLayer(l) then l:evaluate() end end
  return self
end

function nn.Sequential(layers)
  local seq = setmetatable({name = 'nn.Sequential', layers = {}, counts = {}, params = {},
                            nParams = 0, train = true}, Sequential)
  seq.entry = function(params, x)
    if x == nil and seq.nParams == 0 then x = params end
    local offset = 0
    for i, l in ipairs(seq.layers) do
      local count = seq.counts[i]
      if count > 0 then
        local p = {}
        for k = 1, count do p[k] = params[offset + k] end
        offset = offset + count
        x = l(p, x)
      else
        x = l(x)
      end
    end
    return x
  end
  -- {nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)} ends with the last Linear's params too
  -- (Lua expands the last call of a table constructor): a table after a layer is taken as
  -- that layer's parameters
  local list = layers or {}
  local i = 1
  while list[i] ~= nil do
    local l, p = list[i], nil
    if type(list[i + 1]) == 'table' and not nn.isLayer(list[i + 1])
        and getmetatable(list[i + 1]) == nil then
      p = list[i + 1]
      i = i + 1
    end
    seq:add(l, p)
    i = i + 1
  end
  return seq, seq.params
end

------------------------------------------------------------------------------------------
-- criteria (each returns a number, or a traced 0-d tensor inside a gradient)

function nn.MSECriterion(sizeAverage)
  local c
  c = criterion('nn.MSECriterion', function(x, y)
    local d = x - y
    local l = torch.sum(torch.cmul(d, d))
    if c.sizeAverage then l = l / numel(sizeOf(x)) end
    return l
  end)
  c.sizeAverage = sizeAverage ~= false
  return c
end

function nn.AbsCriterion(sizeAverage)
  local c
  c = criterion('nn.AbsCriterion', function(x, y)
    local l = torch.sum(torch.abs(x - y))
    if c.sizeAverage then l = l / numel(sizeOf(x)) end
    return l
  end)
  c.sizeAverage = sizeAverage ~= false
  return c
end

-- The class targets of a criterion as one-hot rows of x's type (x: n x C, or C), and the
-- weight of each target when class weights are given.
local function targetCodes(x, target, weights)
  local s = sizeOf(x)
  local nClasses = s[#s]
  local n = #s == 2 and s[1] or 1
  if type(target) == 'number' then target = torch.LongTensor({target}) end
  local t = torch.view(target, n, 1)
  local codes = typed(torch.eq(util._range(nClasses, 2, 2, t), t), x)
  if #s == 1 then codes = torch.view(codes, nClasses) end
  local w
  if weights ~= nil then
    local ws = typed(torch.view(weights, 1, nClasses), x)
    if #s == 1 then ws = torch.view(ws, nClasses) end
    codes = torch.cmul(codes, ws)
    w = torch.sum(codes)
  end
  return codes, n, w
end

-- x holds log-probabilities (n x C, or C), target the classes (from 1)
function nn.ClassNLLCriterion(weights, sizeAverage)
  local c
  c = criterion('nn.ClassNLLCriterion', function(x, target)
    local codes, n, w = targetCodes(x, target, c.weights)
    local l = -torch.sum(torch.cmul(x, codes))
    if c.sizeAverage then
      if w ~= nil then l = l / w elseif n > 1 then l = l / n end
    end
    return l
  end)
  c.weights = weights
  c.sizeAverage = sizeAverage ~= false
  return c
end

function nn.CrossEntropyCriterion(weights)
  local nll = nn.ClassNLLCriterion(weights)
  return criterion('nn.CrossEntropyCriterion', function(x, target)
    return nll(logSoftMax(x), target)
  end)
end

-- x holds probabilities, target 0s and 1s
function nn.BCECriterion(weights, sizeAverage)
  local c
  c = criterion('nn.BCECriterion', function(x, t)
    local eps = 1e-12
    local terms = torch.cmul(t, torch.log(x + eps)) + torch.cmul(-t + 1, torch.log(-x + 1 + eps))
    if c.weights ~= nil then terms = torch.cmul(terms, c.weights) end
    local l = -torch.sum(terms)
    if c.sizeAverage then l = l / numel(sizeOf(x)) end
    return l
  end)
  c.weights = weights
  c.sizeAverage = sizeAverage ~= false
  return c
end

-- the weighted sum of criteria, each applied to its own input (and target, unless
-- repeatTarget gives them all the same one)
function nn.ParallelCriterion(repeatTarget)
  local c
  c = criterion('nn.ParallelCriterion', function(input, target)
    local total = 0
    for i, crit in ipairs(c.criterions) do
      local t = c.repeatTarget and target or target[i]
      total = total + crit(input[i], t) * c.weights[i]
    end
    return total
  end)
  c.criterions, c.weights, c.repeatTarget = {}, {}, repeatTarget
  function c:add(crit, weight)
    self.criterions[#self.criterions + 1] = crit
    self.weights[#self.weights + 1] = weight or 1
    return self
  end
  return c
end

------------------------------------------------------------------------------------------
-- functionalize, AutoModule and AutoCriterion

local bridge = require 'autograd.nnbridge'

-- torch-autograd's functionalize: 'nn' gives this package (its layers are functions
-- already); an object of the real nn (require 'nn') gives a function of (params, input)
-- running that object's forward, and its parameters (autograd/nnbridge.lua).
function nn.functionalize(x)
  if x == 'nn' then return nn end
  if nn.isLayer(x) then
    if x.nParams > 0 then return x, x.params end
    return x
  end
  if nn.isCriterion(x) then return x end
  if bridge.isModule(x) then return bridge.functionalizeModule(x) end
  if bridge.isCriterion(x) then return bridge.functionalizeCriterion(x) end
  if type(x) == 'string' then
    local ok, pkg = pcall(require, x)
    if ok then return pkg end
    error("Could not load package '" .. x .. "'", 2)
  end
  error('Input is not a package name or nn object', 2)
end

-- Classes made by AutoModule and AutoCriterion, by name (torch-autograd's autograd.auto):
-- real nn classes, whose forward is the function given and whose backward is the
-- daemon's vjp of it.
nn.auto = bridge.auto
nn.AutoModule = bridge.AutoModule
nn.AutoCriterion = bridge.AutoCriterion

return nn
