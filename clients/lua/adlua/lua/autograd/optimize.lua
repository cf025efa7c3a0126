-- autograd's `optimize` option: each call signature is recorded once as a tape on the
-- daemon, and later calls with that signature replay it in one op (adserver/tape.py; the
-- Python client's twin is adclient/replay.py).
--
-- A signature is the structure of the arguments (tables walked in a fixed key order), the
-- type and size of every tensor, and the value of every number outside the differentiated
-- argument. Tensors anywhere and numbers in the differentiated argument are the tape's
-- inputs. While a call is recorded, anything a replay could not repeat (reading a traced
-- value, drawing random numbers) makes that signature traced on every call, with one
-- warning on stderr saying why; the daemon likewise refuses what it does not replay
-- (gradients of gradients inside f, overloaded functions with Lua gradients).
-- As with torch-autograd's optimize, f's Lua code does not run on a replay: its side
-- effects happen once, and plain Lua values it computed are those of the recording. So
-- are tensors f reads from outside its arguments (upvalues, globals): a replay uses their
-- values as recorded, even if they were changed in place since. Pass anything that
-- changes between calls as an argument.

local torch = require 'torch'
local B = _ADLUA
local unpack = unpack or table.unpack
local isTensor = torch.isTensor
local sizeOf = torch._sizeOf

local optimize = {}

-- The metatable of a differentiated number bound to a tape input while recording: box()
-- boxes its handle instead of an inline number, so that the tape reads it as an input.
optimize.TapeNumber = {}

local Slot = {}       -- template leaf: output i of the tape
local Copy = {}       -- template table: {mt = its metatable, items = {k = template}}

local function plainTable(x)
  return type(x) == 'table' and not isTensor(x) and not torch._isStorage(x)
end

local function copySize(size)
  local out = {}
  for i = 1, #size do out[i] = size[i] end
  return out
end

local keyOrder = {number = 1, string = 2}
local function sortedKeys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return (keyOrder[ta] or 3) < (keyOrder[tb] or 3) end
    if ta == 'number' or ta == 'string' then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end
local MAX_DEPTH = 32

-- (signature, inputs) of a call's arguments, or nil when they cannot have one.
function optimize.signature(args, argnum)
  local key, inputs, ok = {}, {}, true
  local function walk(x, differentiated, depth)
    local tx = type(x)
    if isTensor(x) then
      if x._level ~= 0 then ok = false return end
      key[#key + 1] = 'T' .. x._dtype .. ':' .. table.concat(sizeOf(x), 'x')
      inputs[#inputs + 1] = x
    elseif tx == 'number' then
      if differentiated then
        key[#key + 1] = 'N'
        inputs[#inputs + 1] = x + 0.0
      else
        key[#key + 1] = 'n' .. string.format('%.17g', x)
      end
    elseif plainTable(x) then
      if depth > MAX_DEPTH then ok = false return end
      key[#key + 1] = '{'
      for _, k in ipairs(sortedKeys(x)) do
        key[#key + 1] = type(k):sub(1, 1) .. tostring(k) .. '='
        walk(x[k], differentiated, depth + 1)
      end
      key[#key + 1] = '}'
    elseif tx == 'string' then
      key[#key + 1] = string.format('%q', x)
    else   -- booleans and nil by value, functions and userdata by identity
      key[#key + 1] = tx .. ':' .. tostring(x)
    end
  end
  for i = 1, args.n do
    walk(args[i], i == argnum, 0)
    key[#key + 1] = ';'
  end
  if not ok then return nil end
  return table.concat(key), inputs
end

-- The arguments with each input (in signature order) replaced by the tape's handle for it.
function optimize.substitute(args, argnum, handles)
  local i = 0
  local function sub(x, differentiated)
    if isTensor(x) then
      i = i + 1
      return torch._fromhandle(handles[i], 0, copySize(sizeOf(x)), x._dtype)
    elseif type(x) == 'number' then
      if not differentiated then return x end
      i = i + 1
      return setmetatable({h = handles[i]}, optimize.TapeNumber)
    elseif plainTable(x) then
      local out = {}
      for _, k in ipairs(sortedKeys(x)) do out[k] = sub(x[k], differentiated) end
      return setmetatable(out, getmetatable(x))
    end
    return x
  end
  local out = {n = args.n}
  for k = 1, args.n do out[k] = sub(args[k], k == argnum) end
  return out
end

-- A call's answer ({grads = ..., outs = ...}, before its numbers are fetched) as a template
-- of the tape's outputs: (template, slots) where slots[i] = {t = tensor, number = bool},
-- or nil if the answer is cyclic.
function optimize.template(answer, fetch)
  local toFetch = {}
  for _, t in ipairs(fetch) do toFetch[t] = true end
  local slots, open, ok = {}, {}, true
  local function build(x)
    if isTensor(x) then
      slots[#slots + 1] = {t = x, number = toFetch[x] or false}
      return setmetatable({i = #slots}, Slot)
    elseif plainTable(x) then
      if open[x] then ok = false return nil end
      open[x] = true
      local items = {}
      for k, v in pairs(x) do items[k] = build(v) end
      open[x] = nil
      return setmetatable({mt = getmetatable(x), items = items}, Copy)
    end
    return x
  end
  local tpl = build(answer)
  if not ok then return nil end
  return tpl, slots
end

local function fill(tpl, values)
  local mt = getmetatable(tpl)
  if mt == Slot then return values[tpl.i] end
  if mt == Copy then
    local out = {}
    for k, v in pairs(tpl.items) do out[k] = fill(v, values) end
    return setmetatable(out, tpl.mt)
  end
  return tpl
end

-- The inputs as the tape ops take them: a tensor's handle, or a number.
local function wired(inputs)
  local wire = {}
  for i, x in ipairs(inputs) do wire[i] = isTensor(x) and x._h or x end
  return wire
end

-- Record one call: `call(args, recording)` runs it traced (see autograd.differentiate);
-- returns (its answer, the cache entry for its signature).
function optimize.record(call, args, argnum, inputs)
  local tapeId, handles = B.tape_begin(unpack(wired(inputs)))
  local recording = {}
  local ok, answer = pcall(call, optimize.substitute(args, argnum, handles), recording)
  if not ok then
    B.tape_abandon(tapeId)
    error(answer, 0)
  end
  local why
  if recording.slots == nil then
    B.tape_abandon(tapeId)
    why = 'its answer holds a table inside itself'
  else
    local outputs = {}
    for i, slot in ipairs(recording.slots) do outputs[i] = slot.t._h end
    local tape
    tape, why = B.tape_end(tapeId, unpack(outputs))
    if tape ~= nil then
      local slots = {}
      for i, slot in ipairs(recording.slots) do
        slots[i] = {size = copySize(sizeOf(slot.t)), dtype = slot.t._dtype,
                    number = slot.number}
      end
      return answer, {tape = tape, template = recording.template, slots = slots}
    end
  end
  io.stderr:write('autograd: optimize: this function is traced on every call with '
                  .. 'arguments like these, because ' .. tostring(why) .. '\n')
  return answer, {traced = why}
end

-- Replay a recorded signature on new inputs: the answer, as the traced call gives it
-- (nil if the tape was recorded in a session that has ended).
function optimize.replay(entry, inputs)
  local slots = entry.slots
  local handles = B.tape_run(entry.tape, #slots, unpack(wired(inputs)))
  if handles == nil then return nil end   -- recorded in a session that has ended
  local values, fetch = {}, {}
  for i, slot in ipairs(slots) do
    local t = torch._fromhandle(handles[i], 0, copySize(slot.size), slot.dtype)
    values[i] = t
    if slot.number then fetch[#fetch + 1] = t end
  end
  if #fetch > 0 then
    local hs = {}
    for i, t in ipairs(fetch) do hs[i] = t._h end
    local numbers = {torch._fetchNumbers(unpack(hs))}
    local k = 0
    for i, slot in ipairs(slots) do
      if slot.number then
        k = k + 1
        values[i] = numbers[k]
      end
    end
  end
  return fill(entry.template, values)
end

return optimize
