-- torch: Torch7's `torch` module, with tensors that live on an adserver daemon.
--
-- Every function translates Torch7's conventions (1-based indices and dims, reductions
-- over a dim keeping it, torch.max returning values and 1-based indices, `*` choosing
-- mm/mv/dot from the dimensions, in-place methods) into ops of the daemon's numpy
-- vocabulary, and infers each result's size and type here, so that sizes and dims never
-- cost a round trip. Torch7 functions that return numbers (torch.sum, torch.dot, ...)
-- fetch the number, unless the value is being traced, in which case they return a 0-d
-- tensor that arithmetic, comparisons and autograd understand.
--
-- The parts, each a function of (torch, internals):
--   core       the tensor representation, errors, applying ops, result sizes and types
--   construct  storages, constructors, random tensors, types
--   math       elementwise math, comparisons, reductions, linear algebra
--   shape      views, reshaping, joining, indexing and writing through indices
--   tensor     methods (Torch7's in-place ones rebind the tensor) and the metatable
--   scalar     number-like proxies for traced 0-d values on LuaJIT (mixed comparisons)
--   class      torch.class, with inheritance
--   cmdline    torch.CmdLine
--   tester     torch.Tester and torch.TestSuite, Torch7's unit test runner
--   argcheck   nil and non-tensor arguments of the torch functions, reported at the
--              user's line (last: it wraps what the others defined)
--   serialize  torch.save, torch.load, torch.serialize, torch.deserialize (Torch7's format;
--              torch/bytes.lua turns numbers into bytes)
-- and torch/th.lua adds what Torch7's `th` gives scripts (print of tables, require of a
-- file path, the globals paths, sys and xlua).

local torch = {}
local internals = {}
for _, part in ipairs({'core', 'construct', 'math', 'shape', 'tensor', 'scalar', 'class',
                       'cmdline', 'tester', 'serialize', 'argcheck'}) do
  require('torch.' .. part)(torch, internals)
end
torch._scalar = torch._scalar or function(t) return t end
torch._internals = internals
-- th's print, path-style require and globals, once `torch` is whole
package.loaded['torch'] = torch
require 'torch.th'
return torch
