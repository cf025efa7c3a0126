-- torch.CmdLine(): Torch7's command-line parser.
--
--   local cmd = torch.CmdLine()
--   cmd:text('Train a network'); cmd:text(); cmd:text('Options:')
--   cmd:option('-lr', 0.1, 'learning rate')       -- the default's type is the option's
--   cmd:option('-cuda', false, 'use the GPU')      -- a boolean option is a flag
--   cmd:argument('-data', 'the data file')         -- positional, required
--   local opt = cmd:parse(arg)                     -- opt.lr, opt.cuda, opt.data
--   cmd:string('run', opt, {data = true})          -- 'run,lr=0.05': options not at default
--
-- A flag given flips its default. -h or --help prints the help; a mistake prints it after
-- the error; both end the script (cmd:error may be replaced).

return function(torch, T)

local CmdLine = {}
CmdLine.__index = CmdLine

local function strip(key) return (key:gsub('^%-+', '')) end

function torch.CmdLine(argseparator, keyseparator)
  return setmetatable({options = {}, arguments = {}, helplines = {},
                       argseparator = argseparator or ',', keyseparator = keyseparator or '='},
                      CmdLine)
end

function CmdLine:text(txt)
  self.helplines[#self.helplines + 1] = txt or ''
end

function CmdLine:option(key, default, help, kind)
  if default == nil then T.userError('CmdLine:option: ' .. key .. ' needs a default') end
  if self.options[key] then T.userError('CmdLine:option: duplicate option ' .. key) end
  local option = {key = key, default = default, help = help or '',
                  type = kind or type(default)}
  self.options[key] = option
  self.helplines[#self.helplines + 1] = option
end

function CmdLine:argument(key, help, kind)
  local argument = {key = key, help = help or '', type = kind or 'string'}
  self.arguments[#self.arguments + 1] = argument
  self.helplines[#self.helplines + 1] = argument
end

function CmdLine:help(arg)
  io.write('Usage: ')
  if arg and arg[0] then io.write(arg[0] .. ' ') end
  io.write('[options]')
  for _, a in ipairs(self.arguments) do io.write(' <' .. strip(a.key) .. '>') end
  io.write('\n')
  local width = 0
  for _, line in ipairs(self.helplines) do
    if type(line) == 'table' then
      local n = line.default ~= nil and #line.key or #strip(line.key) + 2
      if n > width then width = n end
    end
  end
  for _, line in ipairs(self.helplines) do
    if type(line) == 'table' then
      local key = line.default ~= nil and line.key or '<' .. strip(line.key) .. '>'
      io.write('  ' .. key .. string.rep(' ', width - #key) .. ' ' .. line.help)
      if line.default ~= nil then io.write(' [' .. tostring(line.default) .. ']') end
      io.write('\n')
    else
      io.write(line .. '\n')
    end
  end
end

function CmdLine:error(msg)
  io.stderr:write('\n' .. msg .. '\n')
  self:help()
  os.exit(1)
end

local function convert(self, entry, value)
  if entry.type == 'number' then
    local n = tonumber(value)
    if n == nil then
      self:error('invalid type for option ' .. entry.key .. ' (should be number)')
    end
    return n
  end
  return value
end

-- the options and arguments of arg (default: the global arg), defaults filled in
function CmdLine:parse(arg)
  arg = arg or _G.arg or {}
  local params = {}
  for key, option in pairs(self.options) do params[strip(key)] = option.default end
  local i, nextArgument = 1, 1
  while arg[i] ~= nil do
    local a = tostring(arg[i])
    if a == '-h' or a == '--help' then
      self:help(arg)
      os.exit(0)
    end
    local option = self.options[a]
    if option then
      if option.type == 'boolean' then
        params[strip(a)] = not option.default
        i = i + 1
      else
        local value = arg[i + 1]
        if value == nil then self:error('missing argument for option ' .. a) end
        params[strip(a)] = convert(self, option, value)
        i = i + 2
      end
    elseif a:sub(1, 1) == '-' and not tonumber(a) then
      self:error('unknown option ' .. a)
      i = i + 1
    else
      local argument = self.arguments[nextArgument]
      if argument == nil then self:error('unexpected argument ' .. a) end
      params[strip(argument.key)] = convert(self, argument, a)
      nextArgument = nextArgument + 1
      i = i + 1
    end
  end
  if nextArgument <= #self.arguments then
    self:error('missing argument: ' .. strip(self.arguments[nextArgument].key))
  end
  return params
end

-- prefix, then the arguments and the options that differ from their defaults, as
-- key=value (booleans t or f), options sorted; keys in ignore are left out
function CmdLine:string(prefix, params, ignore)
  ignore = ignore or {}
  local arguments, options = {}, {}
  for k, v in pairs(params) do
    if not ignore[k] then
      local option = self.options['-' .. k]
      if option then
        if v ~= option.default then
          if type(v) == 'boolean' then v = v and 't' or 'f' end
          options[#options + 1] = k .. self.keyseparator .. tostring(v)
        end
      else
        for n, a in ipairs(self.arguments) do
          if strip(a.key) == k then arguments[n] = k .. self.keyseparator .. tostring(v) end
        end
      end
    end
  end
  table.sort(options)
  local parts = {}
  for n = 1, #self.arguments do parts[#parts + 1] = arguments[n] end
  for _, o in ipairs(options) do parts[#parts + 1] = o end
  local str = table.concat(parts, self.argseparator)
  if str == '' then return prefix end
  return prefix .. self.argseparator .. str
end

-- print the options to file (a path) as well as here, as Torch7's cmd:log
function CmdLine:log(file, params)
  local f = io.open(file, 'w')
  local keys = {}
  for k in pairs(params or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local line = k .. ' ' .. tostring(params[k])
    if f then f:write(line .. '\n') end
  end
  if f then f:close() end
end

function CmdLine:silent() self._silent = true end
function CmdLine:addTime() end

end
