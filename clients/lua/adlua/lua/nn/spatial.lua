-- Spatial modules: SpatialConvolution, SpatialConvolutionMM, SpatialMaxPooling,
-- SpatialAveragePooling, on nInputPlane x H x W inputs or batches of them. Output sizes are
-- Torch7's: floor((iW - kW + 2 padW) / dW) + 1 (ceil in ceil mode).

local torch = require 'torch'
local F = require 'nn.functional'

------------------------------------------------------------------------------------------
-- SpatialConvolution(nInputPlane, nOutputPlane, kW, kH [, dW, dH, padW, padH])

local function convolutionClass(name, flatWeight)
  local class, parent = torch.class(name, 'nn.Module')

  function class:__init(nInputPlane, nOutputPlane, kW, kH, dW, dH, padW, padH)
    parent.__init(self)
    self.nInputPlane, self.nOutputPlane = nInputPlane, nOutputPlane
    self.kW, self.kH = kW, kH
    self.dW, self.dH = dW or 1, dH or 1
    self.padW = padW or 0
    self.padH = padH or self.padW
    local size = flatWeight and {nOutputPlane, nInputPlane * kH * kW}
                            or {nOutputPlane, nInputPlane, kH, kW}
    self.weight = torch.Tensor(torch.LongStorage(size))
    self.gradWeight = torch.Tensor(torch.LongStorage(size)):zero()
    self.bias = torch.Tensor(nOutputPlane)
    self.gradBias = torch.Tensor(nOutputPlane):zero()
    self:reset()
  end

  function class:noBias()
    self.bias, self.gradBias = nil, nil
    return self
  end

  function class:reset(stdv)
    if stdv then stdv = stdv * math.sqrt(3)
    else stdv = 1 / math.sqrt(self.kW * self.kH * self.nInputPlane) end
    self.weight:uniform(-stdv, stdv)
    if self.bias then self.bias:uniform(-stdv, stdv) end
    return self
  end

  function class:outputOf(x, p)
    local w = p.weight
    if flatWeight then w = torch.view(w, self.nOutputPlane, self.nInputPlane, self.kH, self.kW) end
    return F.convolution(x, w, p.bias, self.dW, self.dH, self.padW, self.padH)
  end

  function class:__tostring__()
    local s = string.format('%s(%d -> %d, %dx%d', torch.type(self), self.nInputPlane,
                            self.nOutputPlane, self.kW, self.kH)
    if self.dW ~= 1 or self.dH ~= 1 or self.padW ~= 0 or self.padH ~= 0 then
      s = s .. string.format(', %d,%d', self.dW, self.dH)
    end
    if self.padW ~= 0 or self.padH ~= 0 then
      s = s .. ', ' .. self.padW .. ',' .. self.padH
    end
    if self.bias then return s .. ')' end
    return s .. ') without bias'
  end
  return class
end

convolutionClass('nn.SpatialConvolution', false)
convolutionClass('nn.SpatialConvolutionMM', true)

------------------------------------------------------------------------------------------
-- SpatialMaxPooling(kW, kH [, dW, dH, padW, padH]) and SpatialAveragePooling (the same
-- arguments); :ceil() and :floor() choose the rounding of the output size

local function poolingClass(name, pool)
  local class, parent = torch.class(name, 'nn.Module')

  function class:__init(kW, kH, dW, dH, padW, padH)
    parent.__init(self)
    self.kW, self.kH = kW, kH
    self.dW, self.dH = dW or kW, dH or kH
    self.padW, self.padH = padW or 0, padH or 0
    self.ceil_mode = false
    self.count_include_pad = true
  end

  function class:ceil() self.ceil_mode = true; return self end
  function class:floor() self.ceil_mode = false; return self end
  function class:setCountIncludePad() self.count_include_pad = true; return self end
  function class:setCountExcludePad() self.count_include_pad = false; return self end

  function class:outputOf(x)
    return pool(x, self.kW, self.kH, self.dW, self.dH, self.padW, self.padH, self.ceil_mode,
                self.count_include_pad)
  end

  function class:__tostring__()
    local s = string.format('%s(%dx%d, %d,%d', torch.type(self), self.kW, self.kH, self.dW, self.dH)
    if self.padW ~= 0 or self.padH ~= 0 then s = s .. ', ' .. self.padW .. ',' .. self.padH end
    return s .. ')'
  end
  return class
end

poolingClass('nn.SpatialMaxPooling', F.maxPooling)
poolingClass('nn.SpatialAveragePooling', F.averagePooling)
