-- torch.serialize: torch.save, torch.load, torch.serialize and torch.deserialize in
-- Torch7's file format, binary or 'ascii', so that files go both ways between adlua and
-- Torch7.
--
-- The format is File:writeObject's. Each value starts with an int32 type tag: 0 nil,
-- 1 number (a double), 2 string (int32 length, bytes), 3 table, 4 torch object,
-- 5 boolean (an int32, 1 or 0), 6 function (legacy), 7 and 8 function with upvalues.
-- Tables, torch objects and functions then carry an int32 index: the first time an
-- object is written it gets the next index and its contents follow; written again (a
-- shared reference, a cycle), it is only its index. A table is its number of pairs, then
-- key and value objects. A torch object is the string "V 1" and its class name (each
-- int32 length and bytes), then what its class writes: a tensor its nDimension (int32),
-- sizes and strides (int64 each), 1-based storageOffset (int64) and its storage object;
-- a storage its size (int64) and raw elements; any other class (nn modules) a table of
-- its fields. Binary is little-endian. 'ascii' writes the same items as text, those of
-- one write separated by spaces and ended by a newline; strings stay raw bytes.
--
-- Tensors live on the daemon: writing fetches their values, and reading uploads them.
-- A tensor is written contiguous, on a storage of its own: views written together do
-- not share memory once loaded.

return function(torch, T)

local bytes = require 'torch.bytes'
local isTensor, isStorage, sizeOf, numel = T.isTensor, T.isStorage, T.sizeOf, T.numel
local userError = T.userError
local floor, huge = math.floor, math.huge
local toint = math.tointeger

local TYPE_NIL, TYPE_NUMBER, TYPE_STRING, TYPE_TABLE, TYPE_TORCH, TYPE_BOOLEAN = 0, 1, 2, 3,
                                                                                 4, 5
local TYPE_FUNCTION, LEGACY_TYPE_RECUR_FUNCTION, TYPE_RECUR_FUNCTION = 6, 7, 8

-- per tensor and storage type: the dtype on the daemon and the element's codec kind
local TENSORS = {
  ['torch.DoubleTensor'] = 'float64', ['torch.FloatTensor'] = 'float32',
  ['torch.LongTensor'] = 'int64', ['torch.IntTensor'] = 'int32',
  ['torch.ShortTensor'] = 'int16', ['torch.CharTensor'] = 'int8',
  ['torch.ByteTensor'] = 'uint8',
}
local STORAGE_OF = {}
for name in pairs(TENSORS) do STORAGE_OF[name] = name:gsub('Tensor$', 'Storage') end
local KIND = {
  ['torch.DoubleStorage'] = 'double', ['torch.FloatStorage'] = 'float',
  ['torch.LongStorage'] = 'long', ['torch.IntStorage'] = 'int',
  ['torch.ShortStorage'] = 'short', ['torch.CharStorage'] = 'char',
  ['torch.ByteStorage'] = 'byte',
}

------------------------------------------------------------------------------------------
-- sinks and sources of the items File writes, binary and ascii

local function binarySink()
  local parts = {}
  local sink = {parts = parts}
  function sink.numbers(kind, values, n)
    if kind == 'char' then
      local b = {}
      for i = 1, n do b[i] = values[i] % 256 end
      values, kind = b, 'byte'
    end
    parts[#parts + 1] = bytes.encode(kind, values, 1, n)
  end
  function sink.chars(s) parts[#parts + 1] = s end
  return sink
end

local ASCII_FORMAT = {int = '%d', long = '%d', short = '%d', double = '%.17g',
                      float = '%.9g'}

local function asciiNumber(kind, x)
  if kind == 'double' or kind == 'float' then
    if x ~= x then return 'nan' end
    if x == huge then return 'inf' elseif x == -huge then return '-inf' end
    return string.format(ASCII_FORMAT[kind], x)
  end
  return string.format('%d', floor(x))
end

local function asciiSink()
  local parts = {}
  local sink = {parts = parts}
  function sink.numbers(kind, values, n)
    if n == 0 then return end
    if kind == 'byte' or kind == 'char' then
      -- Torch7 writes bytes raw in ascii mode too
      local b = {}
      for i = 1, n do b[i] = string.char(values[i] % 256) end
      parts[#parts + 1] = table.concat(b) .. '\n'
      return
    end
    local items = {}
    for i = 1, n do items[i] = asciiNumber(kind, values[i]) end
    parts[#parts + 1] = table.concat(items, ' ') .. '\n'
  end
  function sink.chars(s)
    if #s > 0 then parts[#parts + 1] = s .. '\n' end
  end
  return sink
end

local function signedChars(values)
  for i = 1, #values do
    if values[i] >= 128 then values[i] = values[i] - 256 end
  end
  return values
end

local function binarySource(s)
  local source = {pos = 1}
  local function need(n)
    if source.pos + n - 1 > #s then
      error('torch.load: the file ends in the middle of an object', 0)
    end
  end
  function source.numbers(kind, n)
    local codecKind = kind == 'char' and 'byte' or kind
    local size = bytes.SIZE[codecKind] * n
    need(size)
    local values = bytes.decode(codecKind, s, source.pos, n)
    source.pos = source.pos + size
    if kind == 'char' then signedChars(values) end
    return values
  end
  function source.chars(n)
    need(n)
    local out = s:sub(source.pos, source.pos + n - 1)
    source.pos = source.pos + n
    return out
  end
  return source
end

local SPECIAL = {inf = huge, ['-inf'] = -huge, nan = 0 / 0, ['-nan'] = 0 / 0}

local function asciiSource(s)
  local source = {pos = 1}
  -- Torch7's reader takes one newline after each read of n > 0 items
  local function endOfItems()
    if s:sub(source.pos, source.pos) == '\n' then source.pos = source.pos + 1 end
  end
  function source.numbers(kind, n)
    if n == 0 then return {} end
    if kind == 'byte' or kind == 'char' then
      local raw = source.chars(n)
      local values = {raw:byte(1, -1)}
      if kind == 'char' then signedChars(values) end
      return values
    end
    local values = {}
    for i = 1, n do
      local a, b, token = s:find('^%s*(%S+)', source.pos)
      if a == nil then error('torch.load: the file ends in the middle of an object', 0) end
      local x = tonumber(token) or SPECIAL[token:lower()]
      if x == nil then error('torch.load: not a number in an ascii file: ' .. token, 0) end
      values[i] = x
      source.pos = b + 1
    end
    endOfItems()
    return values
  end
  function source.chars(n)
    if n == 0 then return '' end
    if source.pos + n - 1 > #s then
      error('torch.load: the file ends in the middle of an object', 0)
    end
    local out = s:sub(source.pos, source.pos + n - 1)
    source.pos = source.pos + n
    endOfItems()
    return out
  end
  return source
end

------------------------------------------------------------------------------------------
-- classes: tensors and storages are built in; any other torch.class is a table of fields

local function typenameOf(x)
  if isTensor(x) then return torch.type(x) end
  local name = torch.typename(x)
  if name == nil then return nil end
  if KIND[name] or TENSORS[name] then return name end
  if torch.getmetatable(name) ~= nil then return name end
  return nil
end

-- the class table of a name, loading its package (nn for nn.Linear) if it is not yet
local function classNamed(name)
  local class = torch.getmetatable(name)
  if class == nil then
    local package = name:match('^([^.]+)%.')
    if package and package ~= 'torch' then pcall(require, package) end
    class = torch.getmetatable(name)
  end
  return class
end

local function classMethod(class, name)
  if type(class) ~= 'table' then return nil end
  local f = class['__' .. name] or class[name]
  if type(f) == 'function' then return f end
  return nil
end

------------------------------------------------------------------------------------------
-- writing

local function flatValues(t)
  local values = T.fetchValues(T.unwrap(t)._h)
  local n = numel(sizeOf(t))
  local flat = {}
  for i = 1, n do
    local v = values[i]
    if v == true then v = 1 elseif v == false then v = 0 end
    flat[i] = v
  end
  return flat, n
end

-- a tensor's storage on its way to the file
local TensorStorage = {}

local function newWriter(sink, referenced)
  local w = {sink = sink, indices = {}, count = 0, path = {}}

  local function int(n) sink.numbers('int', {n}, 1) end
  local function long(n) sink.numbers('long', {n}, 1) end
  local function str(s)
    int(#s)
    sink.chars(s)
  end

  local function where()
    return table.concat(w.path, '.')
  end

  local function typeOf(x)
    local tx = type(x)
    if x == nil then return TYPE_NIL end
    if typenameOf(x) then return TYPE_TORCH end
    if tx == 'table' then return TYPE_TABLE end
    if tx == 'number' then return TYPE_NUMBER end
    if tx == 'string' then return TYPE_STRING end
    if tx == 'boolean' then return TYPE_BOOLEAN end
    if tx == 'function' and pcall(string.dump, x) then return TYPE_RECUR_FUNCTION end
    return nil
  end
  w.typeOf = typeOf

  local writeObject

  local function writeStorage(typename, values, n)
    long(n)
    sink.numbers(KIND[typename], values, n)
  end

  local function writeTensor(t, typename)
    local size = sizeOf(t)
    local nd = #size
    local flat, n = flatValues(t)
    int(nd)
    sink.numbers('long', size, nd)
    sink.numbers('long', T.rowMajor(size), nd)
    long(1)
    -- the storage is an object of its own, with its own index
    writeObject(setmetatable({typename = STORAGE_OF[typename], values = flat, n = n},
                             TensorStorage))
  end

  local function writeTorch(x, typename)
    str('V ' .. tostring((type(x) == 'table' and rawget(getmetatable(x) or {}, '__version'))
                         or 1))
    str(typename)
    if TENSORS[typename] then return writeTensor(x, typename) end
    if KIND[typename] then return writeStorage(typename, x, #x) end
    local class = torch.getmetatable(typename)
    local write = classMethod(class, 'write')
    if write then return write(x, w.file) end
    local fields = {}
    for k, v in pairs(x) do
      if typeOf(v) ~= nil then
        fields[k] = v
      else
        print(string.format('$ Warning: cannot write object field <%s> of <%s> %s',
                            tostring(k), typename, where()))
      end
    end
    writeObject(fields, typename)
  end

  function writeObject(x, name)
    -- a storage written for a tensor: a torch object that is not a Lua value
    if getmetatable(x) == TensorStorage then
      int(TYPE_TORCH)
      w.count = w.count + 1
      int(w.count)
      str('V 1')
      str(x.typename)
      return writeStorage(x.typename, x.values, x.n)
    end
    if x == nil then return int(TYPE_NIL) end
    x = T.unwrap(x)
    w.path[#w.path + 1] = name or '<?>'
    local tag = typeOf(x)
    if tag == nil then
      error(string.format('Unwritable object <%s> at %s', type(x), where()), 0)
    end
    int(tag)
    if tag == TYPE_NUMBER then
      sink.numbers('double', {x}, 1)
    elseif tag == TYPE_BOOLEAN then
      int(x and 1 or 0)
    elseif tag == TYPE_STRING then
      str(x)
    else
      local index = referenced and w.indices[x]
      if index then
        int(index)
      else
        w.count = w.count + 1
        index = w.count
        if referenced then w.indices[x] = index end
        int(index)
        if tag == TYPE_TORCH then
          writeTorch(x, typenameOf(x))
        elseif tag == TYPE_TABLE then
          local n = 0
          for _ in pairs(x) do n = n + 1 end
          int(n)
          for k, v in pairs(x) do
            writeObject(k)
            writeObject(v, (type(k) == 'string' or type(k) == 'number') and tostring(k) or nil)
          end
        else
          local upvalues = {}
          local i = 1
          while true do
            local uname, value = debug.getupvalue(x, i)
            if not uname then break end
            if uname == '_ENV' then value = nil end
            upvalues[i] = {name = uname, value = value}
            i = i + 1
          end
          str(string.dump(x))
          writeObject(upvalues)
        end
      end
    end
    w.path[#w.path] = nil
  end
  w.writeObject = writeObject
  return w
end

------------------------------------------------------------------------------------------
-- reading

-- Lua 5.3+ keeps integral numbers as integers, as the host gives them (they print as 3,
-- as in Torch7, not 3.0)
local function number(x)
  if toint and x == floor(x) and x > -2 ^ 53 and x < 2 ^ 53 then return toint(x) end
  return x
end

-- the elements of a tensor of `size` at `stride` from the 1-based `offset` of `values`,
-- in row-major order
local function gather(values, size, stride, offset)
  local nd, n = #size, numel(size)
  local out = {}
  if n == 0 then return out end
  local index = {}
  for d = 1, nd do index[d] = 0 end
  local pos = offset
  for i = 1, n do
    local v = values[pos]
    if v == nil then error('torch.load: a tensor reaches past the end of its storage', 0) end
    out[i] = v
    for d = nd, 1, -1 do
      index[d] = index[d] + 1
      pos = pos + stride[d]
      if index[d] < size[d] then break end
      pos = pos - index[d] * stride[d]
      index[d] = 0
    end
  end
  return out
end

local function storageValue(typename, values)
  local make = torch[typename:match('^torch%.(.*)$')]
  if make then return make(values) end
  return setmetatable(values, {__index = {size = function(s) return #s end},
                               _typename = typename})
end

local function newReader(source, referenced)
  local r = {objects = {}}
  local function int() return source.numbers('int', 1)[1] end
  local function long() return source.numbers('long', 1)[1] end
  local function str() return source.chars(int()) end
  local readObject

  local function readTensor(typename)
    local nd = int()
    local size = source.numbers('long', nd)
    local stride = source.numbers('long', nd)
    local offset = long()
    local storage = readObject()
    local dtype = TENSORS[typename]
    if nd == 0 or storage == nil then return T.constructors[dtype]() end
    local flat = gather(storage, size, stride, offset)
    for d = 1, nd do size[d] = number(size[d]) end
    return T.fromValues(flat, size, dtype)
  end

  local function readTorch(index)
    local version = str()
    local versionNumber = tonumber(version:match('^V (.*)$'))
    local className
    if versionNumber == nil then className, versionNumber = version, 0
    else className = str() end
    if TENSORS[className] then
      local t = readTensor(className)
      r.objects[index] = t
      return t
    end
    if KIND[className] then
      local n = long()
      local values = source.numbers(KIND[className], n)
      if KIND[className] == 'double' or KIND[className] == 'float' then
        for i = 1, n do values[i] = number(values[i]) end
      end
      local s = storageValue(className, values)
      r.objects[index] = s
      return s
    end
    local class = classNamed(className)
    if class == nil then
      error(string.format('unknown Torch class <%s>', tostring(className)), 0)
    end
    local object = setmetatable({}, class)
    r.objects[index] = object
    local read = classMethod(class, 'read')
    if read then
      read(object, r.file, versionNumber)
    else
      local fields = readObject()
      for k, v in pairs(fields) do object[k] = v end
    end
    return object
  end

  local function readFunction(tag)
    local dumped = str()
    local f, err = (loadstring or load)(dumped)
    if not f then error('Failed to load function from bytecode: ' .. tostring(err), 0) end
    return f
  end

  local function setUpvalues(f, upvalues, tag)
    for i, up in ipairs(upvalues) do
      if tag ~= TYPE_RECUR_FUNCTION then debug.setupvalue(f, i, up)
      elseif up.name == '_ENV' then debug.setupvalue(f, i, _ENV or _G)
      else debug.setupvalue(f, i, up.value) end
    end
  end

  function readObject()
    local tag = int()
    if tag == TYPE_NIL then return nil end
    if tag == TYPE_NUMBER then return number(source.numbers('double', 1)[1]) end
    if tag == TYPE_BOOLEAN then return int() == 1 end
    if tag == TYPE_STRING then return str() end
    if tag == TYPE_FUNCTION then
      local f = readFunction(tag)
      setUpvalues(f, readObject(), tag)
      return f
    end
    if tag ~= TYPE_TABLE and tag ~= TYPE_TORCH and tag ~= TYPE_RECUR_FUNCTION and
       tag ~= LEGACY_TYPE_RECUR_FUNCTION then
      error('torch.load: unknown object type ' .. tostring(tag) ..
            ' (not a Torch7 file, or not in this mode: binary or ascii)', 0)
    end
    local index = int()
    if referenced and r.objects[index] ~= nil then return r.objects[index] end
    if tag == TYPE_TORCH then return readTorch(index) end
    if tag == TYPE_TABLE then
      local n = int()
      local t = {}
      r.objects[index] = t
      for _ = 1, n do
        local k = readObject()
        local v = readObject()
        if k ~= nil then t[k] = v end
      end
      return t
    end
    local f = readFunction(tag)
    r.objects[index] = f
    setUpvalues(f, readObject(), tag)
    return f
  end
  r.readObject = readObject
  return r
end

------------------------------------------------------------------------------------------
-- the public functions

local function checkMode(mode, what)
  if mode ~= nil and mode ~= 'binary' and mode ~= 'ascii' then
    userError(what .. ': "binary" or "ascii" (or nil) expected for mode, got ' ..
              tostring(mode))
  end
  return mode or 'binary'
end

local function encode(object, mode, referenced)
  local sink = mode == 'ascii' and asciiSink() or binarySink()
  local w = newWriter(sink, referenced ~= false)
  -- a class's own write method gets this file (writeObject, writeInt, ...)
  w.file = {
    writeObject = function(_, x) w.writeObject(x) end,
    writeInt = function(_, n) sink.numbers('int', {n}, 1) end,
    writeLong = function(_, n) sink.numbers('long', {n}, 1) end,
    writeDouble = function(_, x) sink.numbers('double', {x}, 1) end,
    writeFloat = function(_, x) sink.numbers('float', {x}, 1) end,
    writeBool = function(_, b) sink.numbers('int', {b and 1 or 0}, 1) end,
    writeString = function(_, s) sink.chars(s) end,
  }
  w.writeObject(object)
  return table.concat(sink.parts)
end

local function decode(s, mode, referenced)
  local source = mode == 'ascii' and asciiSource(s) or binarySource(s)
  local r = newReader(source, referenced ~= false)
  r.file = {
    readObject = function() return r.readObject() end,
    readInt = function() return source.numbers('int', 1)[1] end,
    readLong = function() return source.numbers('long', 1)[1] end,
    readDouble = function() return number(source.numbers('double', 1)[1]) end,
    readFloat = function() return source.numbers('float', 1)[1] end,
    readBool = function() return source.numbers('int', 1)[1] == 1 end,
    readString = function(_, n) return source.chars(n) end,
  }
  return r.readObject()
end

local function protected(what, f, ...)
  local ok, result = pcall(f, ...)
  if not ok then userError(what .. ': ' .. tostring(result)) end
  return result
end

function torch.save(filename, object, mode, referenced)
  mode = checkMode(mode, 'torch.save')
  if type(filename) ~= 'string' then
    userError('torch.save: argument 1 (filename) must be a string, got ' .. type(filename))
  end
  local data = protected('torch.save', encode, object, mode, referenced)
  local f, err = io.open(filename, 'wb')
  if not f then userError('torch.save: cannot open ' .. filename .. ': ' .. tostring(err)) end
  f:write(data)
  f:close()
end

function torch.load(filename, mode, referenced)
  mode = checkMode(mode, 'torch.load')
  if type(filename) ~= 'string' then
    userError('torch.load: argument 1 (filename) must be a string, got ' .. type(filename))
  end
  local f, err = io.open(filename, 'rb')
  if not f then userError('torch.load: cannot open ' .. filename .. ': ' .. tostring(err)) end
  local data = f:read('*a')
  f:close()
  return protected('torch.load', decode, data, mode, referenced)
end

function torch.serialize(object, mode)
  return protected('torch.serialize', encode, object, checkMode(mode, 'torch.serialize'))
end

function torch.deserialize(s, mode)
  if type(s) ~= 'string' then
    userError('torch.deserialize: argument 1 must be a string, got ' .. type(s))
  end
  return protected('torch.deserialize', decode, s, checkMode(mode, 'torch.deserialize'))
end

torch.saveobj, torch.loadobj = torch.save, torch.load

function torch.version(x)
  local mt = type(x) == 'table' and getmetatable(x)
  return type(mt) == 'table' and rawget(mt, '__version') or 1
end

end
