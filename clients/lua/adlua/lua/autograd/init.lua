-- autograd: torch-autograd's API, with the gradients computed by an adserver daemon.
--
--   grad = require 'autograd'
--   df = grad(f)                     -- or autograd(f, opt), autograd.grad(f, opt)
--   grads, loss, ... = df(params, ...)
--
-- The differentiated argument (argument 1, or opt.gradArg) may be a number, a tensor or a
-- nested table of them. Its leaves are boxed at a new trace level on the daemon, f runs
-- here on tensor proxies, and one vjp op returns a gradient per leaf, in a table of the
-- same shape. Everything f returned follows, with traced values turned back into plain
-- tensors and numbers.

local torch = require 'torch'
local B = _ADLUA
local unpack = unpack or table.unpack
local isTensor = torch.isTensor

local autograd = {}

local function pack(...)
  return {n = select('#', ...), ...}
end

-- Box every number and tensor in x at `level`, in a structure like x's.
local function box(x, level, leaves)
  if type(x) == 'number' then
    local t = torch._fromhandle(B.op('box', x, level), level, {}, 'float64')
    leaves[#leaves + 1] = {box = t, number = true}
    return t
  elseif isTensor(x) then
    local t = torch._fromhandle(B.op('box', x._h, level), level, torch._sizeOf(x), x._dtype)
    leaves[#leaves + 1] = {box = t, orig = x}
    return t
  elseif type(x) == 'table' then
    local out = {}
    for k, v in pairs(x) do out[k] = box(v, level, leaves) end
    return setmetatable(out, getmetatable(x))
  end
  return x
end

-- Replace every box in the boxed structure by what `swap` gives for its leaf.
local function rebuild(x, byBox)
  if type(x) == 'table' then
    local leaf = byBox[x]
    if leaf ~= nil then return leaf end
    if isTensor(x) then return x end
    local out = {}
    for k, v in pairs(x) do out[k] = rebuild(v, byBox) end
    return setmetatable(out, getmetatable(x))
  end
  return x
end

-- f's results with this level's boxes taken off: tensors stay on the daemon, 0-d values
-- become numbers (fetched together) unless an outer level still traces them.
local function untrace(results, level, fetch)
  local out = {n = results.n}
  for i = 1, results.n do
    local r = results[i]
    if isTensor(r) and r._level >= level then
      local v = torch._fromhandle(B.op('value', r._h, level), level - 1,
                                  torch._sizeOf(r), r._dtype)
      if #torch._sizeOf(r) == 0 and level == 1 then
        fetch[#fetch + 1] = {out, i, v}
      end
      r = v
    end
    out[i] = r
  end
  return out
end

local function differentiate(fn, opt)
  opt = opt or {}
  local argnum = opt.gradArg or 1
  return function(...)
    local args = pack(...)
    local level = B.push_level()
    local leaves = {}
    local ok, results = pcall(function()
      args[argnum] = box(args[argnum], level, leaves)
      return pack(fn(unpack(args, 1, args.n)))
    end)
    B.pop_level(level)
    if not ok then error(results, 0) end

    local ans = results[1]
    local fetch = {}
    local byBox = {}
    if isTensor(ans) and ans._level >= level then
      local starts = {}
      for i, leaf in ipairs(leaves) do starts[i] = leaf.box._h end
      local grads = B.vjp(ans._h, starts, level)
      for i, leaf in ipairs(leaves) do
        local g = torch._fromhandle(grads[i], level - 1, torch._sizeOf(leaf.box),
                                    leaf.box._dtype)
        byBox[leaf.box] = g
        if leaf.number and level == 1 then fetch[#fetch + 1] = {byBox, leaf.box, g} end
      end
    else
      -- f does not depend on its argument: every gradient is zero
      for _, leaf in ipairs(leaves) do
        if leaf.number then
          byBox[leaf.box] = 0
        else
          byBox[leaf.box] = torch._apply('zeros_like', torch._sizeOf(leaf.orig),
                                         leaf.orig._dtype, leaf.orig)
        end
      end
    end
    local outs = untrace(results, level, fetch)
    if #fetch > 0 then
      local handles = {}
      for i, f in ipairs(fetch) do handles[i] = f[3]._h end
      local values = {torch._fetchNumbers(unpack(handles))}
      for i, f in ipairs(fetch) do f[1][f[2]] = values[i] end
    end
    return rebuild(args[argnum], byBox), unpack(outs, 1, outs.n)
  end
end

autograd.grad = differentiate
setmetatable(autograd, {__call = function(_, fn, opt) return differentiate(fn, opt) end})

------------------------------------------------------------------------------------------
-- overload.module: functions whose gradients are given here, in Lua

autograd.overload = {}

-- The daemon calls back for a node made by an overloaded function; `fns` are the partial
-- derivatives, one per argument: fns[i](g, ans, x1, x2, ...) returns the gradient for xi.
local function gradientHandler(qualified, fns)
  return function(body)
    local args = {}
    for i = 1, #body.args do args[i] = body.args[i] end
    local grads = {}
    for i = 1, #body.argnums do
      local argnum = body.argnums[i] + 1
      local fn = fns[argnum]
      if fn == nil then
        error('missing gradient for argument ' .. argnum .. ' in function ' .. qualified)
      end
      local g = fn(body.g, body.ans, unpack(args, 1, #body.args))
      grads[i] = isTensor(g) and g._h or g
    end
    return grads
  end
end

local function overloaded(qualified, orig, fns)
  local primId = B.register_gradient(qualified, gradientHandler(qualified, fns))
  return function(...)
    local n = select('#', ...)
    local args = {...}
    local top = 0
    for i = 1, n do
      local a = args[i]
      if isTensor(a) and a._level > top then top = a._level end
    end
    if top == 0 then return orig(...) end
    -- run the function on untraced values; the daemon records one node for it
    local raw, handles = {}, {}
    for i = 1, n do
      local a = args[i]
      if isTensor(a) and a._level > 0 then
        raw[i] = torch._fromhandle(B.op('value', a._h), 0, torch._sizeOf(a), a._dtype)
      else
        raw[i] = a
      end
      handles[i] = isTensor(a) and a._h or a
    end
    local result = orig(unpack(raw, 1, n))
    local size = isTensor(result) and torch._sizeOf(result) or {}
    local dtype = isTensor(result) and result._dtype or 'float64'
    local h = B.opk('custom', {prim = primId, name = qualified},
                    isTensor(result) and result._h or result, unpack(handles, 1, n))
    return torch._fromhandle(h, top, size, dtype)
  end
end

function autograd.overload.module(name, tbl, define)
  local gradients = {}
  local module = {}
  function module.gradient(fname, fns) gradients[fname] = fns end
  define(module)
  for fname, fns in pairs(gradients) do
    local orig = tbl[fname]
    if orig == nil then
        torch._userError('overload.module: ' .. name .. '.' .. fname .. ' does not exist')
    end
    tbl[fname] = overloaded(name .. '.' .. fname, orig, fns)
  end
end

return autograd
