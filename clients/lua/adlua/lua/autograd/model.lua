-- autograd.model: torch-autograd's model constructors. Each returns f and params (and the
-- layers, for the layered ones): f(params, input) is the model, ready for autograd(f).

local torch = require 'torch'
local util = require 'autograd.util'
local nn = require 'autograd.nn'
local sizeOf = torch._sizeOf

local model = {}

-- the layers in order; layer i takes params[layer2params[i]] when it has parameters
local function sequence(layers, layer2params)
  return function(params, input)
    for i, l in ipairs(layers) do
      local p = layer2params[i]
      if p then
        input = l(params[p], input)
      else
        input = l(input)
      end
    end
    return input
  end
end
model.sequence = sequence

local function zerosOf(x, ...)
  return torch.zeros(...):type(torch.type(x))
end

local function neuralLayer(opt, params, layers, layer2params)
  local dropoutProb = opt.dropoutProb or 0
  if dropoutProb > 0 then
    table.insert(layers, nn.Dropout(dropoutProb))
  end
  local l, p = nn.Linear(opt.inputFeatures or 3, opt.outputFeatures or 16)
  table.insert(layers, l)
  table.insert(params, p)
  layer2params[#layers] = #params
  if opt.batchNormalization then
    local bl, bp = nn.BatchNormalization(opt.outputFeatures or 16)
    table.insert(layers, bl)
    table.insert(params, bp)
    layer2params[#layers] = #params
  end
  if opt.activations then
    table.insert(layers, nn[opt.activations]())
  end
end

-- Fully connected layers (Linear, [BatchNormalization], activation), after a reshape of
-- the input to inputFeatures (a batch keeps its first dim). With classifier = true the
-- last layer has no activation.
function model.NeuralNetwork(opt, params, layers, layer2params)
  opt = opt or {}
  local inputFeatures = opt.inputFeatures or 10
  local hiddenFeatures = opt.hiddenFeatures or {100, 2}
  local batchNormalization = opt.batchNormalization or false
  local dropoutProb = opt.dropoutProb or 0
  local dropoutProbs = opt.dropoutProbs or {}
  local activations = opt.activations or 'ReLU'
  local classifier = opt.classifier or false
  if nn[activations] == nil then error('unknown activation nn.' .. tostring(activations), 2) end

  layers = layers or {}
  params = params or {}
  layer2params = layer2params or {}

  table.insert(layers, nn.Reshape(inputFeatures))
  for i, hiddens in ipairs(hiddenFeatures) do
    if classifier and i == #hiddenFeatures then
      activations = nil
      batchNormalization = nil
    end
    neuralLayer({
      inputFeatures = inputFeatures,
      outputFeatures = hiddens,
      dropoutProb = dropoutProbs[i] or dropoutProb,
      activations = activations,
      batchNormalization = batchNormalization,
    }, params, layers, layer2params)
    inputFeatures = hiddens
  end
  if opt.cuda then params = util.cast(params, 'cuda') end
  return sequence(layers, layer2params), params, layers
end

local function spatialLayer(opt, params, layers, layer2params)
  local kernelSize = opt.kernelSize or 5
  local padding = opt.padding or math.floor(math.ceil(kernelSize - 1) / 2)
  local outputFeatures = opt.outputFeatures or 16
  local dropoutProb = opt.dropoutProb or 0
  local pooling = opt.pooling or 1
  local inputStride = opt.inputStride or 1
  if dropoutProb > 0 then
    table.insert(layers, nn.SpatialDropout(dropoutProb))
  end
  local l, p = nn.SpatialConvolutionMM(opt.inputFeatures or 3, outputFeatures, kernelSize,
                                       kernelSize, inputStride, inputStride, padding, padding)
  table.insert(layers, l)
  table.insert(params, p)
  layer2params[#layers] = #params
  if opt.batchNormalization then
    local bl, bp = nn.SpatialBatchNormalization(outputFeatures)
    table.insert(layers, bl)
    table.insert(params, bp)
    layer2params[#layers] = #params
  end
  if opt.activations then
    table.insert(layers, nn[opt.activations]())
  end
  if pooling > 1 then
    table.insert(layers, nn.SpatialMaxPooling(pooling, pooling))
  end
end

-- Convolutional layers (SpatialConvolutionMM, [SpatialBatchNormalization], activation,
-- max pooling), the padding keeping the maps' size (for odd kernels).
function model.SpatialNetwork(opt, params, layers, layer2params)
  opt = opt or {}
  local inputFeatures = opt.inputFeatures or 3
  local hiddenFeatures = opt.hiddenFeatures or {16, 32, 64}
  local dropoutProb = opt.dropoutProb or 0
  local dropoutProbs = opt.dropoutProbs or {}
  local poolings = opt.poolings or {1, 1, 1}
  local inputStride = opt.inputStride or 1

  layers = layers or {}
  params = params or {}
  layer2params = layer2params or {}

  for i, hiddens in ipairs(hiddenFeatures) do
    spatialLayer({
      inputStride = inputStride,
      inputFeatures = inputFeatures,
      outputFeatures = hiddens,
      pooling = poolings[i],
      dropoutProb = dropoutProbs[i] or dropoutProb,
      activations = opt.activations or 'ReLU',
      batchNormalization = opt.batchNormalization or false,
      kernelSize = opt.kernelSize or 5,
      padding = opt.padding,
    }, params, layers, layer2params)
    inputFeatures = hiddens
    inputStride = 1
  end
  if opt.cuda then params = util.cast(params, 'cuda') end
  return sequence(layers, layer2params), params, layers
end

-- The recurrent networks take x as batch x steps x features (or steps x features), and an
-- optional previous state; they return the last hidden state (outputType 'last') or all of
-- them (batch x steps x hidden, 'all'), and the new state.
local function recurrent(opt, params, p, step)
  opt = opt or {}
  local hiddenFeatures = opt.hiddenFeatures or 100
  local outputType = opt.outputType or 'last'
  params = params or {}
  table.insert(params, p)
  local f = function(params_, x, prevState)
    local p_ = params_[1] or params_
    if #sizeOf(x) == 2 then
      local s = sizeOf(x)
      x = torch.view(x, 1, s[1], s[2])
    end
    local s = sizeOf(x)
    local batch, steps = s[1], s[2]
    prevState = prevState or {}
    local state = {}
    for k, v in pairs(prevState) do state[k] = v end
    local hs = {}
    for t = 1, steps do
      local xt = torch.select(x, 2, t)
      for k in pairs(step.zeros) do
        if state[k] == nil then state[k] = zerosOf(x, batch, hiddenFeatures) end
      end
      state = step.fn(p_, xt, state, batch, hiddenFeatures)
      hs[t] = state.h
    end
    if outputType == 'last' then
      return hs[#hs], state
    end
    for i in ipairs(hs) do hs[i] = torch.view(hs[i], batch, 1, hiddenFeatures) end
    return torch.cat(hs, 2), state
  end
  return f, params
end

function model.RecurrentNetwork(opt, params)
  opt = opt or {}
  local inputFeatures = opt.inputFeatures or 10
  local hiddenFeatures = opt.hiddenFeatures or 100
  local p = {
    W = torch.zeros(inputFeatures + hiddenFeatures, hiddenFeatures),
    b = torch.zeros(1, hiddenFeatures),
  }
  return recurrent(opt, params, p, {zeros = {h = true}, fn = function(p_, xt, state, batch, hid)
    local h = torch.tanh(torch.cat(xt, state.h, 2) * p_.W + torch.expand(p_.b, batch, hid))
    return {h = h}
  end})
end

function model.RecurrentLSTMNetwork(opt, params)
  opt = opt or {}
  local inputFeatures = opt.inputFeatures or 10
  local hiddenFeatures = opt.hiddenFeatures or 100
  local p = {
    W = torch.zeros(inputFeatures + hiddenFeatures, 4 * hiddenFeatures),
    b = torch.zeros(1, 4 * hiddenFeatures),
  }
  return recurrent(opt, params, p, {zeros = {h = true, c = true},
                                    fn = function(p_, xt, state, batch, hid)
    local dots = torch.cat(xt, state.h, 2) * p_.W + torch.expand(p_.b, batch, 4 * hid)
    dots = torch.view(dots, batch, 4, hid)
    local sigmoids = util.sigmoid(torch.narrow(dots, 2, 1, 3))
    local inputGate = torch.select(sigmoids, 2, 1)
    local forgetGate = torch.select(sigmoids, 2, 2)
    local outputGate = torch.select(sigmoids, 2, 3)
    local inputValue = torch.select(torch.tanh(torch.narrow(dots, 2, 4, 1)), 2, 1)
    local c = torch.cmul(forgetGate, state.c) + torch.cmul(inputGate, inputValue)
    local h = torch.cmul(outputGate, torch.tanh(c))
    return {h = h, c = c}
  end})
end

function model.RecurrentGRUNetwork(opt, params)
  opt = opt or {}
  local inputFeatures = opt.inputFeatures or 10
  local hiddenFeatures = opt.hiddenFeatures or 100
  local p = {
    W = torch.zeros(inputFeatures + hiddenFeatures, 2 * hiddenFeatures),
    b = torch.zeros(1, 2 * hiddenFeatures),
    V = torch.zeros(inputFeatures + hiddenFeatures, hiddenFeatures),
    c = torch.zeros(1, hiddenFeatures),
  }
  return recurrent(opt, params, p, {zeros = {h = true}, fn = function(p_, xt, state, batch, hid)
    local hp = state.h
    local dots = torch.cat(xt, hp, 2) * p_.W + torch.expand(p_.b, batch, 2 * hid)
    dots = torch.view(dots, batch, 2, hid)
    local sigmoids = util.sigmoid(dots)
    local inputGate = torch.select(sigmoids, 2, 1)
    local forgetGate = torch.select(sigmoids, 2, 2)
    local inputValue = torch.tanh(torch.cat(xt, torch.cmul(hp, inputGate), 2) * p_.V
                                  + torch.expand(p_.c, batch, hid))
    local h = torch.cmul(-forgetGate + 1, hp) + torch.cmul(forgetGate, inputValue)
    return {h = h}
  end})
end

return model
