-- nn.functional: the forward computations nn's modules share, as functions of tensors made
-- with the torch mirror's ops (so that the daemon differentiates them): soft-max along
-- nn's feature dim, cross-correlation, pooling windows.

local torch = require 'torch'
local sizeOf = torch._sizeOf
local T = torch._internals
local copySize, numel, applyk = T.copySize, T.numel, T.applyk

local F = {}

local function storage(size) return torch.LongStorage(size) end

-- a value with its trace taken off (for what cancels exactly, like soft-max's shift)
function F.constant(x)
  if x._level > 0 then
    return torch._fromhandle(_ADLUA.op('value', x._h), 0, copySize(sizeOf(x)), x._dtype)
  end
  return x
end

-- 1s where x > threshold, 0s elsewhere, of x's type (comparisons are never traced)
function F.above(x, threshold)
  return torch.gt(x, threshold or 0):type(torch.type(x))
end

-- the dim nn's SoftMax and LogSoftMax normalize along: a vector's, each row's of a batch,
-- the feature planes' of a 3-D input or of each sample of a 4-D one
local function featureDim(x)
  local nd = #sizeOf(x)
  if nd == 1 or nd == 3 then return 1 end
  if nd == 2 or nd == 4 then return 2 end
  torch._userError('vector or matrix expected (or a 3-D/4-D spatial input)')
end

function F.logSoftMax(x)
  local d = featureDim(x)
  local shifted = x - torch.max(F.constant(x), d)
  return shifted - torch.log(torch.sum(torch.exp(shifted), d))
end

function F.softMax(x)
  local d = featureDim(x)
  local e = torch.exp(x - torch.max(F.constant(x), d))
  return torch.cdiv(e, torch.sum(e, d))
end

-- rows 1, 1 + step, ... of `dim`, `count` of them
local function strided(x, dim, step, count)
  if step == 1 then return x end
  local idx = {}
  for i = 1, count do idx[i] = (i - 1) * step end
  local size = copySize(sizeOf(x))
  size[dim] = count
  return torch._apply('take', size, x._dtype, x, idx, dim - 1)
end
F.strided = strided

-- x (4-D) with padH rows and padW columns of `value` (zeros by default) on each side
local function pad(x, padH, padW, value)
  if padH == 0 and padW == 0 then return x end
  local size = copySize(sizeOf(x))
  size[3] = size[3] + 2 * padH
  size[4] = size[4] + 2 * padW
  local widths = {{0, 0}, {0, 0}, {padH, padH}, {padW, padW}}
  if value == nil then return torch._apply('pad', size, x._dtype, x, widths) end
  return applyk('pad', {mode = 'constant', constant_values = value}, size, x._dtype, x, widths)
end

-- a single sample (nd - 1 dims) as a batch of one; whether it was one
function F.batched(x, nd)
  local s = sizeOf(x)
  if #s == nd - 1 then
    local b = {1}
    for i = 1, #s do b[i + 1] = s[i] end
    return torch.view(x, storage(b)), true
  end
  if #s ~= nd then torch._userError(string.format('%dD or %dD tensor expected', nd - 1, nd)) end
  return x, false
end

function F.unbatched(y, wasSingle)
  if not wasSingle then return y end
  local s = sizeOf(y)
  local out = {}
  for i = 2, #s do out[i - 1] = s[i] end
  return torch.view(y, storage(out))
end

-- nn's SpatialConvolution: a cross-correlation of x (nInputPlane x H x W, or a batch)
-- with weight (nOutputPlane x nInputPlane x kH x kW), strided and zero-padded
function F.convolution(x, weight, bias, dW, dH, padW, padH)
  local input, single = F.batched(x, 4)
  input = pad(input, padH, padW)
  local s, ws = sizeOf(input), sizeOf(weight)
  local nOut, kH, kW = ws[1], ws[3], ws[4]
  if s[2] ~= ws[2] then
    torch._userError(string.format('SpatialConvolution: input has %d planes, %d expected',
                                   s[2], ws[2]))
  end
  local oH = math.floor((s[3] - kH) / dH) + 1
  local oW = math.floor((s[4] - kW) / dW) + 1
  if oH < 1 or oW < 1 then torch._userError('SpatialConvolution: output size is too small') end
  -- convolving with the flipped kernel correlates with the kernel
  local flipped = torch._apply('flip', copySize(ws), weight._dtype, weight, {2, 3})
  local dtype = x._dtype == weight._dtype and x._dtype or 'float64'
  local out = applyk('scipy.signal.convolve',
                     {axes = {{2, 3}, {2, 3}}, dot_axes = {{1}, {1}}, mode = 'valid'},
                     {s[1], nOut, s[3] - kH + 1, s[4] - kW + 1}, dtype, input, flipped)
  out = strided(strided(out, 3, dH, oH), 4, dW, oW)
  if bias ~= nil then out = out + torch.view(bias, 1, nOut, 1, 1) end
  return F.unbatched(out, single)
end

-- the kH x kW windows of x (4-D), dH and dW apart, as a list of oH x oW planes; Torch7's
-- floor mode, or ceil mode (a last partial window, filled with `fill`)
local function windows(x, kW, kH, dW, dH, padW, padH, ceil, fill)
  local s = sizeOf(x)
  local round = ceil and math.ceil or math.floor
  local oH = round((s[3] + 2 * padH - kH) / dH) + 1
  local oW = round((s[4] + 2 * padW - kW) / dW) + 1
  -- Torch7: the last window must start inside the image or its left padding
  if ceil then
    if (oH - 1) * dH >= s[3] + padH then oH = oH - 1 end
    if (oW - 1) * dW >= s[4] + padW then oW = oW - 1 end
  end
  local extraH = math.max((oH - 1) * dH + kH - (s[3] + 2 * padH), 0)
  local extraW = math.max((oW - 1) * dW + kW - (s[4] + 2 * padW), 0)
  local input = x
  if padH > 0 or padW > 0 or extraH > 0 or extraW > 0 then
    local size = copySize(s)
    size[3] = s[3] + 2 * padH + extraH
    size[4] = s[4] + 2 * padW + extraW
    local widths = {{0, 0}, {0, 0}, {padH, padH + extraH}, {padW, padW + extraW}}
    input = applyk('pad', {mode = 'constant', constant_values = fill}, size, x._dtype, x, widths)
  end
  local list = {}
  for i = 1, kH do
    local rows = strided(torch.narrow(input, 3, i, (oH - 1) * dH + 1), 3, dH, oH)
    for j = 1, kW do
      list[#list + 1] = strided(torch.narrow(rows, 4, j, (oW - 1) * dW + 1), 4, dW, oW)
    end
  end
  return list, oH, oW
end

function F.maxPooling(x, kW, kH, dW, dH, padW, padH, ceil)
  local input, single = F.batched(x, 4)
  local list = windows(input, kW, kH, dW, dH, padW, padH, ceil, -math.huge)
  local out = list[1]
  for i = 2, #list do out = torch.cmax(out, list[i]) end
  return F.unbatched(out, single)
end

-- the mean of each window; count_include_pad (Torch7's default) divides by kW * kH,
-- otherwise by the number of the window's elements inside the image
function F.averagePooling(x, kW, kH, dW, dH, padW, padH, ceil, countIncludePad)
  local input, single = F.batched(x, 4)
  local list, oH, oW = windows(input, kW, kH, dW, dH, padW, padH, ceil, 0)
  local sum = list[1]
  for i = 2, #list do sum = sum + list[i] end
  local out
  if countIncludePad and not ceil then
    out = sum / (kW * kH)
  else
    -- the same windows over ones (with padding, or not) count each window's elements
    local s = sizeOf(input)
    local ones = torch.ones(1, 1, s[3], s[4]):type(torch.type(x))
    if countIncludePad then
      ones = pad(ones, padH, padW, 1)
      padH, padW = 0, 0
    end
    local counts = windows(ones, kW, kH, dW, dH, padW, padH, ceil, 0)
    local n = counts[1]
    for i = 2, #counts do n = n + counts[i] end
    out = torch.cdiv(sum, n)
  end
  return F.unbatched(out, single)
end

-- the one-hot rows of target's classes (from 1), of x's type: n x C, or C for a vector x
function F.oneHot(x, target)
  local s = sizeOf(x)
  local nClasses = s[#s]
  local n = #s == 2 and s[1] or 1
  if type(target) == 'number' then target = torch.LongTensor({target}) end
  local t = torch.view(target:long(), n, 1)
  local classes = torch.range(1, nClasses):long():view(1, nClasses)
  local codes = torch.eq(classes:expand(n, nClasses), t:expand(n, nClasses)):type(torch.type(x))
  if #s == 1 then codes = torch.view(codes, nClasses) end
  return codes, n
end

return F
