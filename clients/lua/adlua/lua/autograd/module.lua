-- autograd.module: torch-autograd's native modules. Each constructor takes options (and a
-- params list to append to) and returns f and params: f(params, ...) is the module.

local torch = require 'torch'
local util = require 'autograd.util'
local nn = require 'autograd.nn'
local sizeOf = torch._sizeOf

local module = {}

local function size(x) return torch.LongStorage(sizeOf(x)) end

-- Layer normalization (Ba, Kiros and Hinton): each sample of x (batch x nOutputs, or
-- nOutputs) normalized by its own mean and standard deviation, then scaled and shifted.
function module.LayerNormalization(opt, params)
  opt = opt or {}
  params = params or {}
  local nOutputs = opt.nOutputs or 10
  local p = {gain = torch.ones(1, nOutputs), bias = torch.zeros(1, nOutputs)}
  table.insert(params, p)
  local function layerNorm(params_, x, eps)
    local p_ = params_[1] or params_
    eps = eps or 1e-5
    local xIn = x
    if #sizeOf(x) == 1 then xIn = torch.view(x, 1, sizeOf(x)[1]) end
    local n = sizeOf(xIn)[2]
    local mean = torch.expand(torch.mean(xIn, 2), size(xIn))
    local centered = xIn - mean
    local std = torch.expand(torch.sqrt(torch.sum(torch.cmul(centered, centered) / n, 2) + eps),
                             size(xIn))
    local normed = torch.cdiv(centered, std)
    local out = torch.cmul(normed, torch.expand(p_.gain, size(xIn)))
                + torch.expand(p_.bias, size(xIn))
    return torch.view(out, size(x))
  end
  return layerNorm, params
end

-- Batch normalization for batches of variable-length sequences: mask is 1 where x (batch
-- x [time x] nOutputs) holds data. The running mean and standard deviation (in the state
-- returned third) move by momentum at each training call and normalize x; state.train = 0
-- freezes them.
function module.MaskedBatchNormalization(opt, params)
  opt = opt or {}
  params = params or {}
  local nOutputs = opt.nOutputs or 10
  local momentum = opt.momentum or 0.1
  local batchNormState = {momentum = momentum, train = 1,
                          running_mean = torch.zeros(1, nOutputs),
                          running_std = torch.ones(1, nOutputs)}
  -- a gain below 1 is recommended for LSTM batch norm
  local p = {gain = torch.zeros(1, nOutputs):fill(0.1), bias = torch.zeros(1, nOutputs)}
  table.insert(params, p)
  local function maskedBatchNorm(params_, x, mask, state, eps)
    local p_ = params_[1] or params_
    state = state or batchNormState
    eps = eps or 1e-5
    local train = state.train or 1
    local m = (state.momentum or 0.1) * train
    local xIn, maskIn = x, mask
    local nd = #sizeOf(x)
    if nd == 3 then
      xIn = torch.view(x, -1, sizeOf(x)[3])
      maskIn = torch.view(mask, -1, sizeOf(mask)[3])
    elseif nd == 1 then
      xIn = torch.view(x, 1, sizeOf(x)[1])
      maskIn = torch.view(mask, 1, sizeOf(mask)[1])
    end
    local n = torch.sum(mask)
    maskIn = torch.expand(maskIn, size(xIn))
    local masked = torch.cmul(xIn, maskIn)
    local mean = torch.sum(masked / n, 1)
    local runningMean = mean * m + state.running_mean * (1 - m)
    local centered = torch.cmul(masked - torch.expand(runningMean, size(xIn)), maskIn)
    local std = torch.sqrt(torch.sum(torch.cmul(centered, centered) / n, 1) + eps)
    local runningStd = std * m + state.running_std * (1 - m)
    -- the state keeps plain values: a trace must not outlive its call
    state.running_mean = util._constant(runningMean)
    state.running_std = util._constant(runningStd)
    local normed = torch.cdiv(centered, torch.expand(runningStd, size(xIn)))
    local out = torch.cmul(normed, torch.expand(p_.gain, size(xIn)))
                + torch.expand(p_.bias, size(xIn))
    return torch.view(out, size(x))
  end
  return maskedBatchNorm, params, batchNormState
end

-- Soft attention (Show, Attend and Tell): a distribution over the subject's choices, scored
-- from the subject and a hidden state, and the expected subject vector under it.
-- subject is [batch x] subjectFeatures x subjectChoices, h is [batch x] hiddenFeatures;
-- returns the attention ([batch x] subjectFeatures) and the focus ([batch x] choices).
function module.SoftAttention(opt, params)
  opt = opt or {}
  params = params or {}
  local layerNormalization = opt.layerNormalization or false
  local hiddenFeatures = opt.hiddenFeatures or 10
  local subjectFeatures = opt.subjectFeatures or 15
  local subjectChoices = opt.subjectChoices or 20
  local softMax = nn.SoftMax()
  local layerNorm
  local p = {W_att_subject = torch.zeros(1, 1, subjectFeatures),
             W_att_h = torch.zeros(hiddenFeatures, subjectChoices),
             b_att = torch.zeros(1, subjectChoices)}
  if layerNormalization then
    local lnParams
    layerNorm, lnParams = module.LayerNormalization({nOutputs = subjectChoices})
    p.focus_ln_gain = lnParams[1].gain
    p.focus_ln_bias = lnParams[1].bias
    p.b_att = nil
  end
  table.insert(params, p)
  local function softAttention(params_, subject, h)
    local p_ = params_[1] or params_
    local subjectIn, hIn = subject, h
    if #sizeOf(subject) == 2 then
      subjectIn = torch.view(subject, 1, sizeOf(subject)[1], sizeOf(subject)[2])
    end
    if #sizeOf(h) == 1 then hIn = torch.view(h, 1, sizeOf(h)[1]) end
    local s = sizeOf(subjectIn)
    local batchSize, features, choices = s[1], s[2], s[3]
    local W = torch.expand(p_.W_att_subject, batchSize, 1, features)
    local subjectLogit = torch.view(torch.bmm(W, subjectIn), batchSize, choices)
    local focusLogit = subjectLogit + hIn * p_.W_att_h
    if layerNormalization then
      focusLogit = layerNorm({gain = p_.focus_ln_gain, bias = p_.focus_ln_bias}, focusLogit)
    else
      focusLogit = focusLogit + torch.expand(p_.b_att, batchSize, choices)
    end
    local focus = softMax(focusLogit)
    local expanded = torch.expand(torch.view(focus, batchSize, 1, choices), size(subjectIn))
    local attention = torch.view(torch.sum(torch.cmul(subjectIn, expanded), 3),
                                 batchSize, features)
    if #sizeOf(subject) == 2 then
      attention = torch.view(attention, features)
      focus = torch.view(focus, choices)
    end
    return attention, focus
  end
  return softAttention, params
end

return module
