-- autograd: torch-autograd's API, with the gradients computed by an adserver daemon.
--
--   autograd = require 'autograd'
--   df = autograd(f [, opt])          -- or autograd.grad(f, opt)
--   grads, loss, ... = df(params, ...)
--
-- The differentiated argument (argument 1, or opt.gradArg) may be a number, a tensor or a
-- nested table of them. Its leaves are boxed at a new trace level on the daemon, f runs
-- here on tensor proxies, and one vjp op returns a gradient per leaf, in a table of the
-- same shape (zeros for the leaves f never used). Everything f returned follows, with
-- traced values turned back into plain tensors and numbers.
--
-- Options, as torch-autograd takes them:
--   gradArg        which argument to differentiate (default 1)
--   withForward    return f's results after the gradients (default true)
--   withGradients  compute gradients at all; false makes df(...) plain f(...) (default true)
--   partialGrad    f may return a tensor; the last argument given to df is the gradient
--                  with respect to that output (default false)
--   protected      run f under pcall, so that an error leaves autograd's state clean.
--                  Every call is protected here (the trace level is always popped before
--                  the error goes on, unchanged); the option is accepted for compatibility.
--   optimize       record each call signature once as a tape on the daemon and replay it
--                  on later calls: the same answers, without running f or sending its ops
--                  again (see autograd/optimize.lua for what a replay requires)
--   stableGradients  return the same gradient tensors from every call (the first call's),
--                  each holding the new gradient (default false)
-- The sub-packages util, loss, nn, model, module and optim follow torch-autograd's.

local torch = require 'torch'
local B = _ADLUA
local unpack = unpack or table.unpack
local isTensor = torch.isTensor
local sizeOf = torch._sizeOf

local autograd = {}
-- Sub-packages that need `autograd` itself require it while this file is still loading.
package.loaded['autograd'] = autograd

local function pack(...)
  return {n = select('#', ...), ...}
end

local function plainTable(x)
  return type(x) == 'table' and not isTensor(x) and not torch._isStorage(x)
end

local numel = torch._internals.numel
local optimize = require 'autograd.optimize'

-- Global defaults, as torch-autograd keeps them.
local defaultOptimize, defaultProtected = false, false
function autograd.optimize(flag) defaultOptimize = flag and true or false end
function autograd.optimizing() return defaultOptimize end
function autograd.protected(flag) defaultProtected = flag and true or false end

local function defaultBool(b, default)
  if b == nil then return default end
  return b
end

------------------------------------------------------------------------------------------
-- tracing one call

local FLOAT = {float64 = true, float32 = true, float16 = true}

-- Box every number and tensor in x at `level`, in a structure like x's.
local function box(x, level, leaves)
  local tapeNumber = getmetatable(x) == optimize.TapeNumber
  if type(x) == 'number' or tapeNumber then
    -- a number-like proxy where the engine has them, so that f may compare it with numbers
    local h = B.op('box', tapeNumber and x.h or x, level)
    local t = torch._scalar(torch._fromhandle(h, level, {}, 'float64'))
    -- the start's handle is kept here: an in-place method inside f (x:mul(2)) rebinds t
    leaves[#leaves + 1] = {box = t, h = h, number = true}
    return t
  elseif isTensor(x) then
    -- the daemon differentiates integer tensors as float64 ones
    local dtype = FLOAT[x._dtype] and x._dtype or 'float64'
    local h = B.op('box', x._h, level)
    local t = torch._scalar(torch._fromhandle(h, level, sizeOf(x), dtype))
    leaves[#leaves + 1] = {box = t, h = h, orig = x}
    return t
  elseif plainTable(x) then
    local out = {}
    for k, v in pairs(x) do out[k] = box(v, level, leaves) end
    return setmetatable(out, getmetatable(x))
  end
  return x
end

-- The boxed structure, with each box replaced by its gradient.
local function rebuild(x, byBox)
  local g = byBox[x]
  if g ~= nil then return g end
  if type(x) == 'table' then
    if not plainTable(x) then return x end
    local out = {}
    for k, v in pairs(x) do out[k] = rebuild(v, byBox) end
    return setmetatable(out, getmetatable(x))
  end
  return x
end

-- A result with this level's boxes taken off (tables are walked). 0-d values become
-- numbers, fetched together at the end, unless an outer level still traces them.
local function untrace(r, level, fetch, seen)
  if isTensor(r) then
    if r._level < level then return r end
    local size = sizeOf(r)
    local v = torch._fromhandle(B.op('value', r._h, level), level - 1, size, r._dtype)
    if #size == 0 then
      if level == 1 then fetch[#fetch + 1] = v else return torch._scalar(v) end
    end
    return v
  elseif plainTable(r) then
    if seen[r] then return seen[r] end
    local out = {}
    seen[r] = out
    for k, v in pairs(r) do out[k] = untrace(v, level, fetch, seen) end
    return setmetatable(out, getmetatable(r))
  end
  return r
end

-- Replace the fetched 0-d tensors by their numbers.
local function numbersFor(x, values, seen)
  if type(x) == 'table' then
    local n = values[x]
    if n ~= nil then return n end
    if not plainTable(x) or seen[x] then return x end
    seen[x] = true
    for k, v in pairs(x) do x[k] = numbersFor(v, values, seen) end
  end
  return x
end

local function fetchAll(fetch)
  local values = {}
  if #fetch == 0 then return values end
  local handles = {}
  for i, t in ipairs(fetch) do handles[i] = t._h end
  local numbers = {torch._fetchNumbers(unpack(handles))}
  for i, t in ipairs(fetch) do values[t] = numbers[i] end
  return values
end

-- Calls under way (for the bookkeeping of overloaded functions, below).
local active = 0
local afterOutermost    -- set by the overload section

-- An error raised by a gradient function while the daemon called back: the pass goes on
-- without that gradient, and the error is raised here, at the caller's line, once the
-- call of df that needed the gradient has its answers.
local pendingError
local function raisePending()
  local message = pendingError
  if message ~= nil then
    pendingError = nil
    torch._userError(message)
  end
end

local function gradients(ans, seed, leaves, level, partial)
  local byBox = {}
  local traced = isTensor(ans) and ans._level >= level
  if traced and #leaves > 0 then
    local starts = {}
    for i, leaf in ipairs(leaves) do starts[i] = leaf.h end
    local handles
    if partial then
      handles = B.opn('vjp', #starts, ans._h, isTensor(seed) and seed._h or seed, starts, level)
    else
      handles = B.vjp(ans._h, starts, level)
    end
    for i, leaf in ipairs(leaves) do
      local b = leaf.box
      local g = torch._fromhandle(handles[i], level - 1, sizeOf(b), 'float64')
      -- The daemon seeds a pass with float64; give float32 leaves float32 gradients.
      if b._dtype ~= 'float64' then g = g:type(torch.type(b)) end
      if level > 1 then g = torch._scalar(g) end
      byBox[b] = g
    end
  else
    -- f does not depend on its argument: every gradient is zero
    for _, leaf in ipairs(leaves) do
      if leaf.number then
        byBox[leaf.box] = 0
      else
        local b = leaf.box
        byBox[b] = torch._apply('zeros_like', sizeOf(b), b._dtype, leaf.orig):type(torch.type(b))
      end
    end
  end
  return byBox
end

local function checkOutput(ans, partial)
  if isTensor(ans) then
    if not partial and numel(sizeOf(ans)) ~= 1 then
      torch._userError('Autograd only supports scalar return values. Output is not scalar')
    end
  elseif type(ans) ~= 'number' then
    torch._userError('invalid return value type from autograd function, autograd only '
                     .. 'supports scalar return values')
  end
end

-- stable, the gradients a previous call returned, made to hold the values of grads
-- (where both have a tensor) and to take grads' other entries; the table to return
local function keepStable(stable, grads)
  if stable == nil then return grads end
  if isTensor(stable) and isTensor(grads) then
    torch._internals.rebind(stable, grads)
    return stable
  end
  if not (plainTable(stable) and plainTable(grads)) then return grads end
  for k, g in pairs(grads) do stable[k] = keepStable(stable[k], g) end
  for k in pairs(stable) do
    if grads[k] == nil then stable[k] = nil end
  end
  return stable
end

local function differentiate(fn, gradOpt)
  if type(fn) ~= 'function' and not (type(fn) == 'table' and getmetatable(fn)
                                      and getmetatable(fn).__call) then
    error('autograd: expected a function to differentiate, got ' .. type(fn), 2)
  end
  gradOpt = gradOpt or {}
  local opt = {}
  for k, v in pairs(gradOpt) do opt[k] = v end
  local argnum = opt.gradArg or 1
  local withForward = defaultBool(opt.withForward, true)
  local withGradients = defaultBool(opt.withGradients, true)
  local partial = defaultBool(opt.partialGrad, false)
  -- opt.optimize and opt.protected: see the notes at the top of this file
  opt.optimize = defaultBool(opt.optimize, defaultOptimize)
  opt.protected = defaultBool(opt.protected, defaultProtected)

  if not withGradients then
    return function(...) return fn(...) end
  end

  -- One traced call. With `recording` (a table), the call is being recorded as a tape:
  -- the recording is told when f has returned, and gets the answer's template.
  local function call(args, recording)
    local seed = partial and args[args.n] or nil
    local level = B.push_level()
    active = active + 1
    local leaves = {}
    local ok, results = pcall(function()
      args[argnum] = box(args[argnum], level, leaves)
      return pack(fn(unpack(args, 1, args.n)))
    end)
    B.pop_level(level)
    if recording then B.tape_pause() end
    local ok2, out = pcall(function()
      if not ok then error(results, 0) end
      local ans = results[1]
      checkOutput(ans, partial)
      local byBox = gradients(ans, seed, leaves, level, partial)
      local fetch = {}
      local grads = rebuild(args[argnum], byBox)
      if level == 1 then
        for _, leaf in ipairs(leaves) do
          if leaf.number and isTensor(byBox[leaf.box]) then
            fetch[#fetch + 1] = byBox[leaf.box]
          end
        end
      end
      local outs = {n = results.n}
      if withForward then
        local seen = {}
        for i = 1, results.n do outs[i] = untrace(results[i], level, fetch, seen) end
      end
      if recording then
        recording.template, recording.slots =
          optimize.template({grads = grads, outs = outs}, fetch)
      end
      local values = fetchAll(fetch)
      if next(values) ~= nil then
        local seen = {}
        grads = numbersFor(grads, values, seen)
        for i = 1, outs.n do outs[i] = numbersFor(outs[i], values, seen) end
      end
      return {grads = grads, outs = outs, fetched = #fetch > 0}
    end)
    active = active - 1
    if active == 0 then afterOutermost(ok2 and out.fetched) end
    if not ok2 then error(out, 0) end
    raisePending()
    return out
  end

  -- with stableGradients, every call returns the gradient tensors of the first, holding
  -- the new values (torch-autograd's option, for optimizers that keep them)
  local stable
  local function answer(out)
    local grads = out.grads
    if opt.stableGradients then
      stable = keepStable(stable, grads)
      grads = stable
    end
    if not withForward then return grads end
    return grads, unpack(out.outs, 1, out.outs.n)
  end

  if not opt.optimize then
    return function(...) return answer(call(pack(...))) end
  end
  local tapes = {}    -- signature -> {tape, template, slots} or {traced = why}
  return function(...)
    local args = pack(...)
    if active > 0 or B.level() ~= 0 then return answer(call(args)) end
    local key, inputs = optimize.signature(args, argnum)
    if key == nil then return answer(call(args)) end
    local entry = tapes[key]
    if entry == nil then
      local out
      out, tapes[key] = optimize.record(call, args, argnum, inputs)
      return answer(out)
    elseif entry.traced then
      return answer(call(args))
    end
    local out = optimize.replay(entry, inputs)
    if out == nil then
      out, tapes[key] = optimize.record(call, args, argnum, inputs)
    end
    return answer(out)
  end
end

autograd.grad = differentiate
setmetatable(autograd, {__call = function(_, fn, opt) return differentiate(fn, opt) end})

------------------------------------------------------------------------------------------
-- overload.module: functions whose gradients are written here, in Lua
--
-- overload.module(name, tbl, function(module) ... end) declares, for functions of tbl:
--   module.gradient(fname, {df1, df2, ...})  captured; dfi(g, ans, x1, x2, ...) is the
--                                           gradient for argument i (a table argument gets
--                                           a table of gradients; nil means zero)
--   module.dynamic(fname, ...)               captured and differentiable, with no gradient
--                                           given: asking for one is an error
--   module.initializer(fname, ...)           captured, not differentiable: runs on plain
--                                           values, its result is a constant
--   module.static(fname, ...)                not captured: runs on plain values
--   module.unsupported(fname, ...)           an error when given traced values
--   module.ignore(fname, ...)                left alone (traced through like any Lua code)
--   module.operator(op, {df1, df2})          the metamethod tbl['__' .. op], captured
--   module.defaultUnsupported()              every other function of tbl is unsupported
--   module.class(cname, function(class) ... end)   the same, for the table tbl[cname]
-- A captured function runs on plain values and the daemon records one node for it; when a
-- backward pass reaches that node the daemon calls back here, mid-pass, and the gradient
-- functions run (their own ops traced, so gradients of gradients work through them).

autograd.overload = {}

local originals = setmetatable({}, {__mode = 'k'})   -- wrapper -> the function it wraps

-- The highest trace level among the arguments (tables are looked into one level deep).
local function topLevel(args, n)
  local top = 0
  for i = 1, n do
    local a = args[i]
    if isTensor(a) then
      if a._level > top then top = a._level end
    elseif plainTable(a) then
      for _, v in pairs(a) do
        if isTensor(v) and v._level > top then top = v._level end
      end
    end
  end
  return top
end

local function plain(t)
  if t._level == 0 then return t end
  return torch._fromhandle(B.op('value', t._h), 0, sizeOf(t), t._dtype)
end

-- The arguments with every box taken off (tables one level deep).
local function plainArgs(args, n)
  local raw = {}
  for i = 1, n do
    local a = args[i]
    if isTensor(a) then
      raw[i] = plain(a)
    elseif plainTable(a) then
      local t = {}
      for k, v in pairs(a) do t[k] = isTensor(v) and plain(v) or v end
      raw[i] = setmetatable(t, getmetatable(a))
    else
      raw[i] = a
    end
  end
  return raw
end

-- Calls of captured functions made during the calls of df under way: what each call's
-- gradient functions need besides the tensors the daemon hands back (its constant
-- arguments and the shape of its table arguments). Dropped once no df call is under way
-- and no callback is being served: by then every backward pass that could reach those
-- nodes has run.
local calls, nextCall, serving = {}, 0, 0

afterOutermost = function(synced)
  if next(calls) == nil or serving > 0 then return end
  -- a pass that calls back is only run when its batch is sent
  if not synced then
    local ok, err = pcall(B.sync)
    if not ok and pendingError == nil then pendingError = tostring(err) end
  end
  calls = {}
end

local function gradientHandler(qualified, fns)
  return function(body)
    serving = serving + 1
    local ok, grads = pcall(function()
      local call = calls[body.args[1]]
      if call == nil then
        error('autograd: the call of ' .. qualified .. ' this gradient is for is gone', 0)
      end
      -- the arguments, rebuilt with the values the daemon handed back
      local args = {}
      for i = 1, call.n do
        local c = call.args[i]
        if plainTable(c) then
          local t = {}
          for k, v in pairs(c) do t[k] = v end
          args[i] = setmetatable(t, getmetatable(c))
        else
          args[i] = c
        end
      end
      for j, slot in ipairs(call.slots) do
        local v = body.args[j + 1]
        if slot[2] == nil then args[slot[1]] = v else args[slot[1]][slot[2]] = v end
      end
      local argnums = body.argnums
      local count = #argnums
      -- missing gradients are reported for the last argument first, as torch-autograd does
      for i = count, 1, -1 do
        local slot = call.slots[argnums[i]]
        if fns[slot[1]] == nil then
          error('missing gradient for argument ' .. slot[1] .. ' in function ' .. qualified, 0)
        end
      end
      local byArg, out = {}, {}
      for i = 1, count do
        local slot = call.slots[argnums[i]]
        local a = slot[1]
        local g = byArg[a]
        if g == nil then
          g = pack(fns[a](body.g, body.ans, unpack(args, 1, call.n)))[1]
          byArg[a] = g == nil and false or g
        end
        if g == false then g = nil end
        if slot[2] ~= nil and g ~= nil then g = g[slot[2]] end
        if isTensor(g) then g = g._h end
        out[i] = g
      end
      return out
    end)
    serving = serving - 1
    if not ok then
      if pendingError == nil then pendingError = tostring(grads) end
      return {}
    end
    return grads
  end
end

local function captured(qualified, orig, fns)
  local primId
  local function wrapper(...)
    local n = select('#', ...)
    local args = {...}
    local top = topLevel(args, n)
    if top == 0 then return orig(...) end
    primId = primId or B.register_gradient(qualified, gradientHandler(qualified, fns))
    local result = orig(unpack(plainArgs(args, n), 1, n))
    if not isTensor(result) and type(result) ~= 'number' then
      torch._userError(qualified .. ' returned a ' .. type(result)
                       .. '; a function with a gradient must return a tensor or a number')
    end
    -- the daemon's node takes the call's number and its tensors; the rest stays here
    nextCall = nextCall + 1
    local call = {n = n, args = {}, slots = {}}
    local inputs = {nextCall}
    for i = 1, n do
      local a = args[i]
      if isTensor(a) then
        call.slots[#call.slots + 1] = {i}
        inputs[#inputs + 1] = a._h
      elseif plainTable(a) then
        local t = {}
        for k, v in pairs(a) do
          if isTensor(v) then
            call.slots[#call.slots + 1] = {i, k}
            inputs[#inputs + 1] = v._h
          else
            t[k] = v
          end
        end
        call.args[i] = setmetatable(t, getmetatable(a))
      else
        call.args[i] = a
      end
    end
    calls[nextCall] = call
    local size = isTensor(result) and sizeOf(result) or {}
    local dtype = isTensor(result) and result._dtype or 'float64'
    local h = B.opk('custom', {prim = primId, name = qualified},
                    isTensor(result) and result._h or result, unpack(inputs))
    return torch._scalar(torch._fromhandle(h, top, size, dtype))
  end
  originals[wrapper] = orig
  return wrapper
end

local function onPlainValues(orig)
  local function wrapper(...)
    local n = select('#', ...)
    local args = {...}
    if topLevel(args, n) == 0 then return orig(...) end
    return orig(unpack(plainArgs(args, n), 1, n))
  end
  originals[wrapper] = orig
  return wrapper
end

local function unsupported(qualified, orig)
  local function wrapper(...)
    local n = select('#', ...)
    if topLevel({...}, n) > 0 then
      torch._userError('function ' .. qualified .. ' not currently supported by autograd')
    end
    return orig(...)
  end
  originals[wrapper] = orig
  return wrapper
end

local function missingGradients() return {} end

-- Declarations for one table; applied together once the definition function has run.
local function declarations(prefix, tbl)
  local decl, order = {}, {}
  local function declare(key, kind, fns)
    if decl[key] == nil then order[#order + 1] = key end
    decl[key] = {kind = kind, fns = fns}
  end
  local api = {}
  function api.gradient(fname, fns) declare(fname, 'gradient', fns) end
  function api.dynamic(...)
    for _, f in ipairs({...}) do declare(f, 'gradient', missingGradients()) end
  end
  function api.initializer(...)
    for _, f in ipairs({...}) do declare(f, 'plain') end
  end
  function api.static(...)
    for _, f in ipairs({...}) do declare(f, 'plain') end
  end
  function api.unsupported(...)
    for _, f in ipairs({...}) do declare(f, 'unsupported') end
  end
  function api.ignore(...)
    for _, f in ipairs({...}) do declare(f, 'ignore') end
  end
  function api.operator(op, fns) declare('__' .. op, 'operator', fns) end
  local defaultUnsupported = false
  function api.defaultUnsupported() defaultUnsupported = true end

  local function apply()
    for _, key in ipairs(order) do
      local d = decl[key]
      local f = tbl[key]
      if type(f) == 'function' or (type(f) == 'table' and originals[f]) then
        f = originals[f] or f
        if d.kind == 'gradient' then
          tbl[key] = captured(prefix .. key, f, d.fns)
        elseif d.kind == 'operator' then
          tbl[key] = captured('op.' .. key, f, d.fns)
        elseif d.kind == 'plain' then
          tbl[key] = onPlainValues(f)
        elseif d.kind == 'unsupported' then
          tbl[key] = unsupported(prefix .. key, f)
        end
      end
      -- as in torch-autograd, a name the table does not have is passed over
    end
    if defaultUnsupported then
      for k, f in pairs(tbl) do
        if decl[k] == nil and type(f) == 'function' and type(k) == 'string'
            and k:sub(1, 2) ~= '__' and not originals[f] then
          tbl[k] = unsupported(prefix .. k, f)
        end
      end
    end
  end
  return api, apply
end

function autograd.overload.module(name, tbl, define)
  local api, apply = declarations(name .. '.', tbl)
  local classes = {}
  function api.class(className, defineClass)
    classes[#classes + 1] = {className, defineClass}
  end
  define(api)
  apply()
  for _, c in ipairs(classes) do
    local classTable = tbl[c[1]]
    if type(classTable) == 'table' then
      local classApi, applyClass = declarations(name .. '.' .. c[1] .. '.', classTable)
      c[2](classApi)
      applyClass()
    end
  end
end

------------------------------------------------------------------------------------------
-- torch functions autograd cannot follow
--
-- The daemon differentiates every op the torch mirror issues, so torch needs no gradient
-- table here. A few methods run Lua functions on fetched values (x:apply(f), x:map(y, f),
-- x:map2(y, z, f)); on a traced tensor their result would silently lose the trace, so they
-- are refused, as torch-autograd refuses the functions it has no gradient for.

do
  local methods = torch.Tensor_methods
  for _, name in ipairs({'apply', 'map', 'map2'}) do
    local orig = methods[name]
    if type(orig) == 'function' and not originals[orig] then
      local function wrapper(x, ...)
        local n = select('#', ...)
        local args = {x, ...}
        if topLevel(args, n + 1) > 0 then
          torch._userError('function ' .. torch.type(x) .. '.' .. name
                           .. ' not currently supported by autograd')
        end
        return orig(x, ...)
      end
      originals[wrapper] = orig
      methods[name] = wrapper
    end
  end
end

------------------------------------------------------------------------------------------
-- sub-packages

autograd.util = require 'autograd.util'
autograd.loss = require 'autograd.loss'
autograd.nn = require 'autograd.nn'
autograd.functionalize = autograd.nn.functionalize
autograd.model = require 'autograd.model'
autograd.module = require 'autograd.module'
autograd.optim = require 'autograd.optim'
autograd.auto = autograd.nn.auto

return autograd
