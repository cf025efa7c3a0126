-- pl.stringx: penlight's string functions (the ones scripts use). Separators are plain
-- strings, not patterns, as in penlight.

local stringx = {}

local function escape(s) return (s:gsub('[%-%.%+%[%]%(%)%$%^%%%?%*]', '%%%0')) end

-- split(s [, sep [, n]]): with sep, the fields between its occurrences (empty ones kept);
-- without, the words between runs of whitespace. At most n fields: the last holds the rest.
function stringx.split(s, sep, n)
  local fields = {}
  if sep == nil or sep == '' then
    local pos = s:find('%S')
    while pos do
      if n and #fields == n - 1 then
        fields[#fields + 1] = (s:sub(pos):gsub('%s+$', ''))
        break
      end
      local stop = s:find('%s', pos) or #s + 1
      fields[#fields + 1] = s:sub(pos, stop - 1)
      pos = s:find('%S', stop)
    end
    return fields
  end
  local start = 1
  while true do
    if n and #fields == n - 1 then break end
    local i, j = s:find(sep, start, true)
    if not i then break end
    fields[#fields + 1] = s:sub(start, i - 1)
    start = j + 1
  end
  fields[#fields + 1] = s:sub(start)
  return fields
end

local function charClass(chars)
  if chars == nil then return '%s' end
  return '[' .. escape(chars) .. ']'
end

function stringx.lstrip(s, chars) return (s:gsub('^' .. charClass(chars) .. '+', '')) end
function stringx.rstrip(s, chars) return (s:gsub(charClass(chars) .. '+$', '')) end
function stringx.strip(s, chars) return stringx.rstrip(stringx.lstrip(s, chars), chars) end

-- prefix (or suffix) may be a table of them: true if any matches
local function anyOf(s, what, test)
  if type(what) == 'table' then
    for _, w in ipairs(what) do if test(s, w) then return true end end
    return false
  end
  return test(s, what)
end
function stringx.startswith(s, prefix)
  return anyOf(s, prefix, function(x, p) return x:sub(1, #p) == p end)
end
function stringx.endswith(s, suffix)
  return anyOf(s, suffix, function(x, p) return #p == 0 or x:sub(-#p) == p end)
end

function stringx.join(sep, seq)
  local parts = {}
  for i, v in ipairs(seq) do parts[i] = tostring(v) end
  return table.concat(parts, sep)
end

function stringx.splitlines(s, keepends)
  local lines = {}
  local pos = 1
  while pos <= #s do
    local i, j = s:find('\r?\n', pos)
    if not i then
      lines[#lines + 1] = s:sub(pos)
      break
    end
    lines[#lines + 1] = s:sub(pos, keepends and j or i - 1)
    pos = j + 1
  end
  return lines
end

function stringx.lines(s)
  local lines, i = stringx.splitlines(s), 0
  return function() i = i + 1 return lines[i] end
end

-- replace(s, old, new [, n]): plain text, at most n times
function stringx.replace(s, old, new, n)
  return (s:gsub(escape(old), (new:gsub('%%', '%%%%')), n))
end

-- the number of non-overlapping occurrences of sub
function stringx.count(s, sub)
  local count, start = 0, 1
  while true do
    local i, j = s:find(sub, start, true)
    if not i then return count end
    count, start = count + 1, math.max(j, i) + 1
  end
end

function stringx.at(s, i) return s:sub(i, i) end

local function all(pattern)
  return function(s) return #s > 0 and s:find('^' .. pattern .. '+$') ~= nil end
end
stringx.isalpha, stringx.isdigit, stringx.isalnum = all('%a'), all('%d'), all('%w')
stringx.isspace, stringx.islower, stringx.isupper = all('%s'), all('[%l%A]'), all('[%u%A]')

function stringx.ljust(s, w, ch) return s .. string.rep(ch or ' ', w - #s) end
function stringx.rjust(s, w, ch) return string.rep(ch or ' ', w - #s) .. s end
function stringx.center(s, w, ch)
  local pad = w - #s
  if pad <= 0 then return s end
  local left = math.floor(pad / 2)
  ch = ch or ' '
  return string.rep(ch, left) .. s .. string.rep(ch, pad - left)
end

-- (before, sep, after) at the first (or, rpartition, last) sep; ('', '', s) if none
function stringx.partition(s, sep)
  local i, j = s:find(sep, 1, true)
  if not i then return s, '', '' end
  return s:sub(1, i - 1), sep, s:sub(j + 1)
end
function stringx.rpartition(s, sep)
  local last
  local start = 1
  while true do
    local i = s:find(sep, start, true)
    if not i then break end
    last, start = i, i + 1
  end
  if not last then return '', '', s end
  return s:sub(1, last - 1), sep, s:sub(last + #sep)
end

function stringx.title(s)
  return (s:gsub('(%a)([%w_\']*)', function(first, rest)
    return first:upper() .. rest:lower()
  end))
end
stringx.capitalize = stringx.title

-- s cut to at most w characters, ending with '...'
function stringx.shorten(s, w, tail)
  if #s <= w then return s end
  if w < 3 then return ('.'):rep(w) end
  if tail then return '...' .. s:sub(#s - w + 4) end
  return s:sub(1, w - 3) .. '...'
end

-- stringx.import(): these functions become methods of every string
function stringx.import()
  for name, f in pairs(stringx) do
    if name ~= 'import' then string[name] = f end
  end
end

return stringx
