-- torch.bytes: numbers as little-endian bytes and back, on every engine, for Torch7's
-- binary files (torch/serialize.lua). Each codec has
--   encode(kind, values, i, j) -> string      values[i..j] as bytes
--   decode(kind, s, pos, n)    -> array       n values from s at byte pos (1-based)
-- for the kinds 'int' (int32), 'long' (int64), 'short' (int16), 'double', 'float' and
-- 'byte' (uint8).
--
-- Lua 5.3+ has string.pack; LuaJIT has ffi, which copies whole arrays at once; Lua 5.1
-- and 5.2 have neither, so there the bytes are computed with arithmetic.

local SIZE = {int = 4, long = 8, short = 2, double = 8, float = 4, byte = 1}
local CHUNK = 4096      -- values per string.pack call: unpack's results go on the stack

local function packCodec()
  local pack, unpack_ = string.pack, string.unpack
  local tunpack = table.unpack
  local FORMAT = {int = 'i4', long = 'i8', short = 'i2', double = 'd', float = 'f', byte = 'B'}
  local toint = math.tointeger
  local function encode(kind, values, i, j)
    local f = FORMAT[kind]
    local parts = {}
    local integral = kind ~= 'double' and kind ~= 'float'
    for a = i, j, CHUNK do
      local b = math.min(a + CHUNK - 1, j)
      if integral then
        local chunk = {}
        for k = a, b do chunk[k - a + 1] = toint(values[k]) or math.floor(values[k]) end
        parts[#parts + 1] = pack('<' .. f:rep(b - a + 1), tunpack(chunk, 1, b - a + 1))
      else
        parts[#parts + 1] = pack('<' .. f:rep(b - a + 1), tunpack(values, a, b))
      end
    end
    return table.concat(parts)
  end
  local function decode(kind, s, pos, n)
    local f, size = FORMAT[kind], SIZE[kind]
    local out = {}
    for a = 1, n, CHUNK do
      local m = math.min(CHUNK, n - a + 1)
      local vals = {unpack_('<' .. f:rep(m), s, pos + (a - 1) * size)}
      for k = 1, m do out[a + k - 1] = vals[k] end
    end
    return out
  end
  return {encode = encode, decode = decode}
end

local function ffiCodec(ffi)
  local CTYPE = {int = 'int32_t', long = 'int64_t', short = 'int16_t', double = 'double',
                 float = 'float', byte = 'uint8_t'}
  local function encode(kind, values, i, j)
    local n = j - i + 1
    if n <= 0 then return '' end
    local buf = ffi.new(CTYPE[kind] .. '[?]', n)
    for k = 0, n - 1 do buf[k] = values[i + k] end
    return ffi.string(buf, n * SIZE[kind])
  end
  local function decode(kind, s, pos, n)
    local out = {}
    if n <= 0 then return out end
    local buf = ffi.new(CTYPE[kind] .. '[?]', n)
    ffi.copy(buf, ffi.cast('const char *', s) + (pos - 1), n * SIZE[kind])
    local wide = kind == 'long'
    for k = 0, n - 1 do
      out[k + 1] = wide and tonumber(buf[k]) or buf[k]
    end
    return out
  end
  return {encode = encode, decode = decode}
end

-- Lua 5.1/5.2: IEEE 754 and two's complement by arithmetic
local function arithmeticCodec()
  local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
  local char, byte = string.char, string.byte
  local function intBytes(x, size)
    x = floor(x)
    if x < 0 then x = x + 2 ^ (8 * size) end
    local b = {}
    for k = 1, size do b[k] = x % 256; x = floor(x / 256) end
    return char(unpack(b))
  end
  local function floatBytes(x, size)
    local mbits, ebits, bias = 52, 11, 1023
    if size == 4 then mbits, ebits, bias = 23, 8, 127 end
    local sign = 0
    if x < 0 or (x == 0 and 1 / x < 0) then sign = 1; x = -x end
    local e, m
    if x ~= x then e, m = 2 ^ ebits - 1, 2 ^ (mbits - 1)
    elseif x == huge then e, m = 2 ^ ebits - 1, 0
    elseif x == 0 then e, m = 0, 0
    else
      local fr, ex = frexp(x)          -- x = fr * 2^ex, fr in [0.5, 1)
      e = ex + bias - 1
      if e <= 0 then m = floor(ldexp(fr, mbits + e - 1) + 0.5); e = 0
      else m = floor((fr * 2 - 1) * 2 ^ mbits + 0.5) end
      if m >= 2 ^ mbits then m = 0; e = e + 1 end
    end
    local bits = {}
    local total = m + e * 2 ^ mbits + sign * 2 ^ (mbits + ebits)
    for k = 1, size do bits[k] = total % 256; total = floor(total / 256) end
    return char(unpack(bits))
  end
  local function readInt(s, pos, size, signed)
    local x = 0
    for k = size, 1, -1 do x = x * 256 + byte(s, pos + k - 1) end
    if signed and x >= 2 ^ (8 * size - 1) then x = x - 2 ^ (8 * size) end
    return x
  end
  local function readFloat(s, pos, size)
    local mbits, ebits, bias = 52, 11, 1023
    if size == 4 then mbits, ebits, bias = 23, 8, 127 end
    local total = readInt(s, pos, size, false)
    local m = total % 2 ^ mbits
    local rest = floor(total / 2 ^ mbits)
    local e = rest % 2 ^ ebits
    local sign = floor(rest / 2 ^ ebits) == 1 and -1 or 1
    if e == 2 ^ ebits - 1 then return m == 0 and sign * huge or 0 / 0 end
    if e == 0 then return sign * ldexp(m, 1 - bias - mbits) end
    return sign * ldexp(m + 2 ^ mbits, e - bias - mbits)
  end
  local function encode(kind, values, i, j)
    local parts, size = {}, SIZE[kind]
    local isFloat = kind == 'double' or kind == 'float'
    for k = i, j do
      parts[#parts + 1] = isFloat and floatBytes(values[k], size) or intBytes(values[k], size)
    end
    return table.concat(parts)
  end
  local function decode(kind, s, pos, n)
    local out, size = {}, SIZE[kind]
    local isFloat = kind == 'double' or kind == 'float'
    for k = 1, n do
      local p = pos + (k - 1) * size
      out[k] = isFloat and readFloat(s, p, size) or readInt(s, p, size, kind ~= 'byte')
    end
    return out
  end
  return {encode = encode, decode = decode}
end

local codec
if string.pack then
  codec = packCodec()
else
  local ok, ffi = pcall(require, 'ffi')
  if ok and ffi.abi('le') then codec = ffiCodec(ffi) else codec = arithmeticCodec() end
end
codec.SIZE = SIZE
return codec
