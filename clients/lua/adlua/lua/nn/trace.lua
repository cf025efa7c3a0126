-- nn.trace: a module's forward run as a traced function of its input and parameters, kept
-- so that its backward is one vjp on the daemon.
--
-- Torch7's modules each carry a hand-written updateGradInput and accGradParameters. Here a
-- module writes only its output, with torch-mirror ops; the daemon records those ops while
-- the forward runs (input and parameters boxed at a trace level of their own), and
-- backward asks the daemon for the cotangents of every boxed value at once, seeded with
-- gradOutput. The gradients are therefore exactly the derivatives of the forward, as
-- autograd's are.
--
--   local rec = trace.run(fn, input, params, constantInput)
--     fn(input, params) -> a tensor or a table of tensors; params is a table of tensors
--     (name -> tensor), rec.output the result without its trace
--   local gradInput, gradParams = trace.vjp(rec, gradOutput)
--     gradInput shaped as input (nil for a constant input), gradParams by name
--   trace.current(rec, input, params) is true while input and params still hold the values
--     rec was traced with (so that backward may reuse the forward's trace)

local torch = require 'torch'
local B = _ADLUA
local isTensor, sizeOf = torch.isTensor, torch._sizeOf
local numel = torch._internals.numel

local trace = {}

local FLOAT = {float64 = true, float32 = true}

local function plainTable(x)
  return type(x) == 'table' and not isTensor(x) and not torch._isStorage(x)
end

-- x with every tensor boxed at `level`, each box recorded in `leaves`
local function box(x, level, leaves)
  if isTensor(x) then
    -- the daemon differentiates integer tensors as float64 ones
    local dtype = FLOAT[x._dtype] and x._dtype or 'float64'
    local h = B.op('box', x._h, level)
    local b = torch._scalar(torch._fromhandle(h, level, sizeOf(x), dtype))
    leaves[#leaves + 1] = {box = b, h = h, orig = x, origH = x._h}
    return b
  elseif plainTable(x) then
    local out = {}
    for k, v in pairs(x) do out[k] = box(v, level, leaves) end
    return out
  end
  return x
end

-- the tensors of a nested table in a fixed order (array part first, then sorted keys)
local function tensorsOf(x, list)
  list = list or {}
  if isTensor(x) then
    list[#list + 1] = x
  elseif plainTable(x) then
    local n = #x
    for i = 1, n do tensorsOf(x[i], list) end
    local keys = {}
    for k in pairs(x) do
      if not (type(k) == 'number' and k >= 1 and k <= n and k % 1 == 0) then
        keys[#keys + 1] = k
      end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do tensorsOf(x[k], list) end
  end
  return list
end
trace.tensorsOf = tensorsOf

-- a result with this level's boxes taken off, and the traced tensors it held
local function untrace(r, level, ends)
  if isTensor(r) then
    ends[#ends + 1] = r
    if r._level < level then return r end
    local size = sizeOf(r)
    return torch._fromhandle(B.op('value', r._h, level), level - 1, size, r._dtype)
  elseif plainTable(r) then
    local out = {}
    local n = #r
    for i = 1, n do out[i] = untrace(r[i], level, ends) end
    for k, v in pairs(r) do
      if out[k] == nil then out[k] = untrace(v, level, ends) end
    end
    return out
  end
  return r
end

-- every tensor of a list, flattened and joined: one value to seed a vjp with
local function joined(list)
  if #list == 1 then return list[1] end
  local flat = {}
  for i, t in ipairs(list) do flat[i] = torch.view(t, numel(sizeOf(t))) end
  return torch.cat(flat, 1)
end

function trace.run(fn, input, params, constantInput)
  local level = B.push_level()
  local leaves, paramLeaves = {}, {}
  local ok, result = pcall(function()
    local x = input
    if not constantInput then x = box(input, level, leaves) end
    local p = {}
    for name, t in pairs(params) do
      local l = {}
      p[name] = box(t, level, l)
      paramLeaves[name] = l[1]
    end
    return fn(x, p)
  end)
  B.pop_level(level)
  if not ok then error(result, 0) end
  local ends = {}
  local output = untrace(result, level, ends)
  local rec = {level = level, output = output, ends = ends, leaves = leaves,
               paramLeaves = paramLeaves, constantInput = constantInput, input = input}
  return rec
end

-- the tensors of x in the order box() met them (pairs() walks an unchanged table the same
-- way twice)
local function leavesOf(x, list)
  if isTensor(x) then
    list[#list + 1] = x
  elseif plainTable(x) then
    for _, v in pairs(x) do leavesOf(v, list) end
  end
  return list
end

-- true while the tensors of input and params are the ones rec was traced with
function trace.current(rec, input, params)
  if rec == nil then return false end
  if not rec.constantInput then
    if rec.input ~= input then return false end
    local now = leavesOf(input, {})
    if #now ~= #rec.leaves then return false end
    for i, t in ipairs(now) do
      local leaf = rec.leaves[i]
      if t ~= leaf.orig or t._h ~= leaf.origH then return false end
    end
  end
  for name, leaf in pairs(rec.paramLeaves) do
    local t = params[name]
    if t ~= leaf.orig or t._h ~= leaf.origH then return false end
  end
  for name in pairs(params) do
    if rec.paramLeaves[name] == nil then return false end
  end
  return true
end

-- the gradient of a leaf from a vjp's handle, of the leaf's tensor type
local function gradientOf(leaf, h, level)
  local b = leaf.box
  local g = torch._fromhandle(h, level - 1, sizeOf(b), 'float64')
  if torch.type(leaf.orig) ~= 'torch.DoubleTensor' then g = g:type(torch.type(leaf.orig)) end
  return g
end

-- the structure of x with its tensors replaced, in box()'s order, by grads
local function rebuild(x, grads, pos)
  if isTensor(x) then
    pos.i = pos.i + 1
    return grads[pos.i]
  end
  if plainTable(x) then
    local out = {}
    for k, v in pairs(x) do out[k] = rebuild(v, grads, pos) end
    return out
  end
  return x
end

-- gradOutput as a seed for rec's joined output; nil seeds a scalar output with 1
local function seedFor(rec, gradOutput)
  if gradOutput == nil then return nil end
  local gs = tensorsOf(gradOutput)
  if #gs ~= #rec.ends then
    torch._userError(string.format('gradOutput holds %d tensors, the output %d', #gs, #rec.ends))
  end
  for i, g in ipairs(gs) do
    local want = sizeOf(rec.ends[i])
    if numel(sizeOf(g)) ~= numel(want) then
      torch._userError('gradOutput has ' .. numel(sizeOf(g)) .. ' elements where the output has '
                       .. numel(want))
    end
    if #rec.ends == 1 and #sizeOf(g) ~= #want then gs[i] = torch.view(g, torch.LongStorage(want)) end
  end
  return joined(gs)
end

function trace.vjp(rec, gradOutput)
  local starts, order = {}, {}
  for _, leaf in ipairs(rec.leaves) do
    starts[#starts + 1] = leaf.h
    order[#order + 1] = leaf
  end
  local names = {}
  for name, leaf in pairs(rec.paramLeaves) do
    names[#names + 1] = name
    starts[#starts + 1] = leaf.h
    order[#order + 1] = leaf
  end
  local gradParams = {}
  if #starts == 0 then return nil, gradParams end
  local level = rec.level
  local handles
  local out = #rec.ends > 0 and joined(rec.ends) or nil
  if out == nil or out._level < level then
    -- the output does not depend on what was boxed: every gradient is zero
    handles = {}
    for i, leaf in ipairs(order) do
      handles[i] = torch._apply('zeros_like', sizeOf(leaf.box), 'float64', leaf.box)._h
    end
  else
    local seed = seedFor(rec, gradOutput)
    if seed == nil then
      handles = B.vjp(out._h, starts, level)
    else
      handles = B.opn('vjp', #starts, out._h, seed._h, starts, level)
    end
  end
  local grads = {}
  for i, leaf in ipairs(rec.leaves) do grads[i] = gradientOf(leaf, handles[i], level) end
  local gradInput = nil
  if not rec.constantInput then gradInput = rebuild(rec.input, grads, {i = 0}) end
  for j, name in ipairs(names) do
    gradParams[name] = gradientOf(rec.paramLeaves[name], handles[#rec.leaves + j], level)
  end
  return gradInput, gradParams
end

return trace
