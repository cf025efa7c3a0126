-- pl.lapp: penlight's command-line parser, driven by the usage text itself:
--
--   local opt = lapp [[
--   Train a model
--     -l,--learningRate (default 0.01)  learning rate
--     -b,--batchSize    (default 100)   batch size
--     -m,--model        (default mlp)   which model
--     -v,--verbose                      print more
--     --seed            (number)        required, no default
--     <input>           (string)        a positional argument
--   ]]
--
-- Each line starting with -x and/or --long declares an option; <name> a positional one.
-- In parentheses: a default (whose type, number or string, the value takes), a type
-- (number, string, boolean: required unless 'optional' precedes it), or nothing, which
-- makes a flag (false unless given). The answer holds each option under its long name
-- (hyphens also as underscores), or its short name if it has no long one. It parses the
-- global `arg` (or the table given to lapp.process_options_string). -h or --help prints
-- the text; a mistake prints it after the error, and both end the script through
-- lapp.quit, which may be replaced.

local lapp = {}

local function strip(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end

-- one declaration: {name, short, long, positional, kind = 'number'|'string'|'flag'
-- |'boolean', default, required}
local function parseSpec(spec, decl)
  spec = strip(spec)
  local optional = false
  if spec:find('^optional%s') then
    optional, spec = true, strip(spec:sub(10))
  end
  local range = spec:match('^(%-?[%d.]+%.%.%-?[%d.]+)')
  if range then spec = strip(spec:sub(#range + 1)) end
  local default = spec:match('^default%s+(.+)$')
  if default then
    default = strip(default)
    local quoted = default:match("^'(.*)'$") or default:match('^"(.*)"$')
    if quoted then
      decl.kind, decl.default = 'string', quoted
    elseif default == 'true' or default == 'false' then
      decl.kind, decl.default = 'flag', default == 'true'
    elseif tonumber(default) then
      decl.kind, decl.default = 'number', tonumber(default)
    else
      decl.kind, decl.default = 'string', default
    end
  elseif spec == 'number' or spec == 'string' or spec == 'boolean' then
    decl.kind, decl.required = spec, not optional
  elseif range then
    decl.kind, decl.required = 'number', not optional
  else
    decl.kind, decl.default = 'string', spec
  end
  if range then
    local lo, hi = range:match('^(%-?[%d.]-)%.%.(%-?[%d.]+)$')
    decl.range = {tonumber(lo), tonumber(hi)}
  end
end

local function declarations(text)
  local decls = {}
  for line in (text .. '\n'):gmatch('([^\n]*)\n') do
    local body = strip(line)
    local decl
    local short, long, rest = body:match('^%-(%w),%s*%-%-([%w_%-]+)%s*(.*)$')
    if not short then long, rest = body:match('^%-%-([%w_%-]+)%s*(.*)$') end
    if not short and not long then short, rest = body:match('^%-(%w)%s+(.*)$') end
    if not short and not long then short = body:match('^%-(%w)$') rest = short and '' end
    if short or long then
      decl = {short = short, long = long}
    else
      local name
      name, rest = body:match('^<([%w_%-]+)>%s*(.*)$')
      if name then decl = {long = name, positional = true} end
    end
    if decl then
      local spec = rest:match('^%((.-)%)')
      if spec then parseSpec(spec, decl) else decl.kind, decl.default = 'flag', false end
      if decl.positional and spec == nil then decl.kind, decl.required = 'string', true end
      decl.name = decl.long or decl.short
      decls[#decls + 1] = decl
    end
  end
  return decls
end

function lapp.quit(msg, noUsage)
  if msg then io.stderr:write(msg .. '\n\n') end
  if not noUsage then io.stderr:write(lapp._usage or '') end
  os.exit(1)
end

function lapp.error(msg, noUsage)
  local script = (arg and arg[0]) or 'lapp'
  lapp.quit(script .. ': ' .. msg, noUsage)
end

local function convert(decl, value)
  if decl.kind == 'number' then
    local n = tonumber(value)
    if n == nil then
      lapp.error(("unable to convert to number: %s"):format(tostring(value)))
      return nil
    end
    if decl.range and (n < decl.range[1] or n > decl.range[2]) then
      lapp.error(("%s out of range %s..%s"):format(decl.name, decl.range[1], decl.range[2]))
    end
    return n
  elseif decl.kind == 'boolean' then
    return value == 'true' or value == '1' or value == 'yes'
  end
  return value
end

local function store(result, decl, value)
  result[decl.name] = value
  local underscored = decl.name:gsub('%-', '_')
  result[underscored] = value
end

-- the options of text, read from args (default: the global arg)
function lapp.process_options_string(text, args)
  args = args or arg or {}
  lapp._usage = text
  local decls = declarations(text)
  local byFlag, positional = {}, {}
  for _, d in ipairs(decls) do
    if d.positional then positional[#positional + 1] = d
    else
      if d.short then byFlag['-' .. d.short] = d end
      if d.long then byFlag['--' .. d.long] = d end
    end
  end
  local result, given = {}, {}
  local i, nextPositional = 1, 1
  while args[i] ~= nil do
    local a = tostring(args[i])
    if a == '-h' or a == '--help' then
      io.write(text)
      os.exit(0)
    end
    local flag, attached = a:match('^(%-%-[%w_%-]+)=(.*)$')
    if not flag and a:match('^%-%a.+') and not a:match('^%-%-') then
      flag, attached = a:sub(1, 2), a:sub(3)
      if byFlag[flag] and byFlag[flag].kind == 'flag' then flag, attached = nil, nil end
    end
    flag = flag or a
    local decl = byFlag[flag]
    if decl then
      if decl.kind == 'flag' then
        store(result, decl, true)
      else
        local value = attached
        if value == nil then
          i = i + 1
          value = args[i]
          if value == nil then lapp.error('no value given for ' .. flag) return end
        end
        store(result, decl, convert(decl, value))
      end
      given[decl] = true
    elseif a:sub(1, 1) == '-' and not tonumber(a) then
      lapp.error('unrecognized parameter: ' .. a)
      return
    else
      local p = positional[nextPositional]
      if p == nil then lapp.error('extra argument: ' .. a) return end
      store(result, p, convert(p, a))
      given[p] = true
      nextPositional = nextPositional + 1
    end
    i = i + 1
  end
  for _, d in ipairs(decls) do
    if not given[d] then
      if d.required then
        lapp.error('missing required parameter: ' .. d.name)
        return
      end
      store(result, d, d.default)
    end
  end
  return result
end

setmetatable(lapp, {__call = function(_, text, args)
  return lapp.process_options_string(text, args)
end})

return lapp
