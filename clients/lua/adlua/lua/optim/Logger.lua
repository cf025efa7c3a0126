-- optim.Logger: a log file of values by name, one row per add, as Torch7's.
--
--   logger = optim.Logger('train.log')      -- no name: to standard output
--   logger:setNames{'train error', 'test error'}
--   logger:add{0.52, 0.61}                  -- or keyed: logger:add{['train error'] = 0.52}
--   logger:style{'-', '-'}
--   logger:plot()                           -- needs gnuplot, which adlua has not: a no-op
--
-- The first row holds the names, each followed by a tab; each add writes its numbers as
-- '%11.4e' (strings as they are), each followed by a tab. Keyed rows are written in the
-- order of the first row.

local Logger = torch.class('optim.Logger', optim)

function Logger:__init(filename, timestamp)
  if filename then
    self.name = filename
    local dir = filename:match('^(.*)/[^/]*$')
    if dir and dir ~= '' then os.execute('mkdir -p "' .. dir .. '"') end
    if timestamp then filename = filename .. '-' .. os.date('%Y_%m_%d_%X') end
    local file, err = io.open(filename, 'w')
    if not file then error('optim.Logger: cannot open ' .. filename .. ': ' .. tostring(err), 2) end
    self.file = file
    self.epsfile = self.name .. '.eps'
  else
    self.file = {write = function(_, s) io.write(s) end, flush = function() end}
    self.name = 'stdout'
    print('<Logger> warning: no path provided, logging to std out')
  end
  self.empty = true
  self.symbols = {}
  self.styles = {}
  self.names = {}
  self.idx = {}
  self.figure = nil
  self.showPlot = true
  self.plotRawCmd = nil
  self.defaultStyle = '+'
  self.logscale = false
end

function Logger:setNames(names)
  self.names = names
  self.empty = false
  self.nsymbols = #names
  for k, key in pairs(names) do
    self.file:write(key .. '\t')
    self.symbols[k] = {}
    self.styles[k] = {self.defaultStyle}
    self.idx[key] = k
  end
  self.file:write('\n')
  self.file:flush()
  return self
end

local function cell(val)
  if type(val) == 'number' then return string.format('%11.4e', val) .. '\t' end
  if type(val) == 'string' then return val .. '\t' end
  error('optim.Logger: can only log numbers and strings', 3)
end

function Logger:add(symbols)
  if self.empty then
    -- keyed rows name their columns the first time
    local names = {}
    for k in pairs(symbols) do names[#names + 1] = k end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    self:setNames(names)
    self.keyed = true
  end
  if self.keyed then
    for k, name in ipairs(self.names) do
      local val = symbols[name]
      if val ~= nil then
        self.file:write(cell(val))
        table.insert(self.symbols[k], val)
      end
    end
  else
    for k = 1, #self.names do
      local val = symbols[k]
      if val ~= nil then
        self.file:write(cell(val))
        table.insert(self.symbols[k], val)
      end
    end
  end
  self.file:write('\n')
  self.file:flush()
end

function Logger:style(symbols)
  for name, style in pairs(symbols) do
    local k = self.keyed and self.idx[name] or name
    if type(style) == 'string' then self.styles[k] = {style}
    elseif type(style) == 'table' then self.styles[k] = style
    else error('optim.Logger: style should be a string or a table of strings', 2) end
  end
  return self
end

function Logger:setlogscale(value) self.logscale = value end
function Logger:display(value) self.showPlot = value end
function Logger:plotRaw(cmd) self.plotRawCmd = cmd end

-- gnuplot is not part of adlua: plotting warns once and does nothing
function Logger:plot()
  if not self.warned then
    print('<Logger> warning: cannot plot with this version of Torch')
    self.warned = true
  end
end
