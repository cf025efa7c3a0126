-- torch.scalar: traced 0-d values as number-like proxies, where the engine allows it.
--
-- Torch7 returns a Lua number from torch.sum(x), x:dot(y), x[i] of a vector, ...; while
-- autograd traces x, that value must stay a tensor, or the gradient could not follow it.
-- Scripts still compare it with numbers: `if torch.sum(x) > 0 then`. What each engine
-- can do with `traced < number`:
--
-- * Lua 5.2, 5.3, 5.4: __lt and __le are called when either operand has them, so the
--   tensor table's own metamethods compare the value (torch/tensor.lua). Nothing here.
-- * LuaJIT 2.0 and 2.1: like Lua 5.1, __lt and __le of tables are only called when both
--   operands are tables. But LuaJIT calls the metamethods of an FFI cdata for mixed
--   operands (cdata < number, number <= cdata, cdata == number), so a traced 0-d result
--   is returned as a small cdata, a proxy for its tensor table: fields and methods go to
--   the table, arithmetic and comparisons are the tensor's. Every op of the mirror
--   returns traced 0-d results this way. A 0-d value that autograd boxes itself (a
--   number argument of grad(f)) is a plain table, so `x > 0` on that argument still
--   fails on LuaJIT; `x * 1 > 0` works.
-- * Lua 5.1: no FFI and no mixed metamethods. A traced 0-d value is a table; comparing it
--   with a number raises Lua's "attempt to compare number with table". Comparing two
--   traced values, or using torch.lt/gt/..., works.
--
-- A proxy holds an id into `tables`; its __gc frees the entry, so dropping the proxy
-- drops the tensor table and then the daemon's array, as for any tensor.

return function(torch, T)

local ok, ffi = pcall(require, 'ffi')
if not ok then return end
-- a second `require 'torch'` in the same Lua state cannot set the metatype again
if pcall(ffi.typeof, 'struct adlua_scalar') then return end
ffi.cdef('struct adlua_scalar { int32_t id; };')

local TensorMT = T.TensorMT
local tables, free, count = {}, {}, 0

local proxyMT = {
  __index = function(p, k)
    local t = tables[p.id]
    if k == '_t' then return t end
    return t[k]
  end,
  __newindex = function(p, k, v) tables[p.id][k] = v end,
  __gc = function(p)
    tables[p.id] = nil
    free[#free + 1] = p.id
  end,
  __add = function(a, b) return TensorMT.__add(a, b) end,
  __sub = function(a, b) return TensorMT.__sub(a, b) end,
  __mul = function(a, b) return TensorMT.__mul(a, b) end,
  __div = function(a, b) return TensorMT.__div(a, b) end,
  __pow = function(a, b) return TensorMT.__pow(a, b) end,
  __mod = function(a, b) return TensorMT.__mod(a, b) end,
  __unm = function(a) return TensorMT.__unm(a) end,
  __lt = function(a, b) return TensorMT.__lt(a, b) end,
  __le = function(a, b) return TensorMT.__le(a, b) end,
  __eq = function(a, b) return T.valueEqual(a, b) end,
  __tostring = function(a) return TensorMT.__tostring(a) end,
  __concat = function(a, b) return TensorMT.__concat(a, b) end,
}
local Scalar = ffi.metatype('struct adlua_scalar', proxyMT)

local function isProxy(x)
  return ffi.istype(Scalar, x)
end

local function make(t)
  local id = free[#free]
  if id ~= nil then
    free[#free] = nil
  else
    count = count + 1
    id = count
  end
  tables[id] = t
  return Scalar(id)
end

T.setScalarSupport(isProxy, make)
T.scalarProxies = true
-- for autograd: a traced 0-d tensor table as a number-like value
torch._scalar = function(t)
  if type(t) == 'table' and t._level > 0 and #t._size == 0 then return make(t) end
  return t
end

end
