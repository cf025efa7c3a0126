-- autograd.loss: torch-autograd's loss functions. Each takes a network's raw output and a
-- target, and returns the loss (and, for some, the transformed output).

local torch = require 'torch'
local util = require 'autograd.util'

local loss = {}

-- out holds log-probabilities, target one-hot codes (or weights)
function loss.logMultinomialLoss(out, target)
  return -torch.sum(torch.cmul(out, target))
end

-- out holds probabilities; p, if given, is added to them first
function loss.logBCELoss(out, target, p)
  if p then out = out + p end
  return -torch.sum(torch.cmul(target, torch.log(out))
                    + torch.cmul(-target + 1, torch.log(-out + 1)))
end

function loss.crossEntropy(out, target)
  local yhat = util.logSoftMax(out)
  return -torch.sum(torch.cmul(yhat, target)), yhat
end

function loss.binaryCrossEntropy(out, target)
  local p = 1e-6
  local yhat = util.sigmoid(out) * (1 - p * 2) + p
  return -torch.sum(torch.cmul(target, torch.log(yhat))
                    + torch.cmul(-target + 1, torch.log(-yhat + 1))), yhat
end
-- the name torch-autograd's README uses
loss.binaryEntropy = loss.binaryCrossEntropy

function loss.leastSquares(out, target)
  local diffs = out - target
  return torch.sum(torch.cmul(diffs, diffs)), out
end

-- Pairwise hinge loss: for every output with target 1 and every output with target 0,
-- max(0, margin - (out1 - out0)), summed.
function loss.margin(out, target, margin)
  margin = margin or 1
  local n = torch._sizeOf(out)[1]
  local column = torch.view(out, n, 1)
  local row = torch.view(out, 1, n)
  local diffs = -(column - row) + margin
  local ones = torch.eq(target, 1):type(torch.type(out))
  local zeros = torch.eq(target, 0):type(torch.type(out))
  local pairs_ = torch.cmul(torch.view(ones, n, 1), torch.view(zeros, 1, n))
  local positive = torch.gt(diffs, 0):type(torch.type(out))
  return torch.sum(torch.cmul(diffs, torch.cmul(pairs_, positive))), out
end

return loss
