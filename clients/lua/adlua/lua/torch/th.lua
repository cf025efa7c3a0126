-- What Torch7's `th` gives every script, beyond `torch`:
-- * print shows a plain table's contents, as th does (nested tables indented, tensors by
--   type and size), rather than `table: 0x...`;
-- * require of a file path, require './get-mnist.lua' (or '../x.lua', '/abs/x'): the file,
--   relative to the current directory, or else to the requiring script's directory;
-- * the globals paths, sys and xlua.

local torch = require 'torch'
local paths = require 'paths'

------------------------------------------------------------------------------------------
-- print

local MAX_DEPTH = 4   -- deeper tables print as {...}, as th's

local function plainTable(x)
  if type(x) ~= 'table' then return false end
  local mt = getmetatable(x)
  return not (mt and mt.__tostring) and not torch.isTensor(x) and not torch._isStorage(x)
end

-- keys in a stable order: numbers ascending, then the rest by their text
local function sortedKeys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local na, nb = type(a) == 'number', type(b) == 'number'
    if na ~= nb then return na end
    if na then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function shortValue(v)
  if torch.isTensor(v) then
    local size = v:size():totable()
    local name = torch.type(v):gsub('^torch%.', '')
    if #size == 0 then return name .. ' - empty' end
    return name .. ' - size: ' .. table.concat(size, 'x')
  elseif type(v) == 'string' then
    return '"' .. v .. '"'
  end
  return tostring(v)
end

local function tableLines(t, depth, lines)
  local indent = string.rep(' ', depth * 4)
  if next(t) == nil then
    lines[#lines + 1] = indent .. '{}'
    return
  end
  lines[#lines + 1] = indent .. '{'
  for _, k in ipairs(sortedKeys(t)) do
    local v = t[k]
    local head = indent .. '  ' .. tostring(k) .. ' : '
    if plainTable(v) then
      if depth >= MAX_DEPTH - 1 or next(v) == nil then
        lines[#lines + 1] = head .. (next(v) == nil and '{}' or '{...}')
      else
        lines[#lines + 1] = head
        tableLines(v, depth + 1, lines)
      end
    else
      lines[#lines + 1] = head .. shortValue(v)
    end
  end
  lines[#lines + 1] = indent .. '}'
end

-- the string print shows for a plain table
function torch._tableString(t)
  local lines = {}
  tableLines(t, 0, lines)
  return table.concat(lines, '\n')
end

local plainPrint = print
function print(...)
  local n = select('#', ...)
  local any = false
  for i = 1, n do
    if plainTable((select(i, ...))) then any = true break end
  end
  if not any then return plainPrint(...) end
  -- values on one line separated by tabs, each table on lines of its own
  local line = {}
  for i = 1, n do
    local v = select(i, ...)
    if plainTable(v) then
      if #line > 0 then plainPrint(table.concat(line, '\t')) line = {} end
      plainPrint(torch._tableString(v))
    else
      line[#line + 1] = tostring(v)
    end
  end
  if #line > 0 then plainPrint(table.concat(line, '\t')) end
end

------------------------------------------------------------------------------------------
-- require of a file path

local function isPath(name)
  return name:sub(1, 2) == './' or name:sub(1, 3) == '../' or name:sub(1, 1) == '/'
      or name:sub(-4) == '.lua'
end

-- the script that called require: the first frame outside this library's files
local function requiringDir()
  local level = 3
  while true do
    local info = debug.getinfo(level, 'S')
    if info == nil then return nil end
    local source = info.source or ''
    if source:sub(1, 1) == '@' and not source:find('/adlua/lua/', 1, true) then
      return paths.dirname(source:sub(2))
    end
    level = level + 1
  end
end

local function fileSearcher(name)
  if not isPath(name) then return nil end
  local candidates = {name}
  if name:sub(-4) ~= '.lua' then candidates[2] = name .. '.lua' end
  local dir = name:sub(1, 1) ~= '/' and requiringDir()
  if dir then
    local n = #candidates
    for i = 1, n do candidates[#candidates + 1] = dir .. '/' .. candidates[i] end
  end
  for _, file in ipairs(candidates) do
    if paths.filep(file) then
      local chunk, err = loadfile(file)
      if not chunk then error(err, 0) end
      return chunk, file
    end
  end
  return '\n\tno file ' .. table.concat(candidates, '\n\tno file ')
end

-- before Lua's own searchers, which would read './x.lua' as the module '//x/lua'
local searchers = package.searchers or package.loaders
table.insert(searchers, 2, fileSearcher)

------------------------------------------------------------------------------------------
-- globals

_G.paths = paths
_G.sys = require 'sys'
_G.xlua = require 'xlua'

return true
