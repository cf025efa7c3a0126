-- optim: Torch7's optimization package. Every method has Torch7's contract:
--
--   x, fs = optim.method(opfunc, x, config, state)
--
-- opfunc(x) returns f(x) and df/dx; x is updated in place (x:add, x:copy, ... rebind the
-- tensor, so the caller's x sees the step); the result is x and the table of the f values
-- the method evaluated. state (config when nil) keeps what the method carries from one
-- call to the next (momentum buffers, step counts, L-BFGS's history).
--
-- Also optim.ConfusionMatrix and optim.Logger. torch-autograd's own wrappers are
-- autograd.optim, which is separate.

-- a global, as Torch7's `require 'optim'` makes it
optim = {}
package.loaded['optim'] = optim

for _, name in ipairs({'sgd', 'adam', 'adagrad', 'adadelta', 'rmsprop', 'lbfgs', 'cg'}) do
  optim[name] = require('optim.' .. name)
end
require 'optim.ConfusionMatrix'
require 'optim.Logger'

return optim
