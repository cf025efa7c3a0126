-- nn: Torch7's module library over the torch mirror (require 'nn' makes the global nn).
--
-- Modules and criterions keep Torch7's interface (forward, backward, updateOutput,
-- updateGradInput, accGradParameters, parameters, getParameters, zeroGradParameters,
-- training, evaluate, type, float, double, clone, share, printing). Each one writes only
-- its forward; its gradients are the daemon's vjp of that forward (nn/trace.lua), so
-- backward is exact and agrees with autograd. The parts:
--   Module, Criterion   the base classes and the traced forward/backward
--   containers          Container, Sequential, Concat, ConcatTable, ParallelTable
--   weighted            Linear, Bilinear, LookupTable
--   activations         Identity, Tanh, Sigmoid, ReLU, ELU, SoftMax, LogSoftMax, ...
--   spatial             SpatialConvolution(MM), SpatialMaxPooling, SpatialAveragePooling
--   normalization       BatchNormalization, SpatialBatchNormalization, Dropout
--   shaping             Reshape, View, Transpose, Narrow, Select, JoinTable, SplitTable
--   arithmetic          CAddTable, CMulTable, MM, Sum, Mean, Max, ...
--   criterions          MSE, Abs, SmoothL1, ClassNLL, CrossEntropy, BCE, DistKLDiv, ...
--   jacobian            nn.Jacobian: Torch7's finite-difference checks

require 'torch'
nn = rawget(_G, 'nn') or {}
package.loaded['nn'] = nn

for _, part in ipairs({'Module', 'Criterion', 'containers', 'weighted', 'activations',
                       'spatial', 'normalization', 'shaping', 'arithmetic', 'criterions',
                       'jacobian'}) do
  require('nn.' .. part)
end

return nn
