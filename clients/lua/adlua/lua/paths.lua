-- paths: Torch7's file-name and directory helpers, in plain Lua (the file system is asked
-- through io.open and the shell, as no C module is loaded).
--
--   paths.dirname(p), paths.basename(p [, ext]), paths.extname(p), paths.concat(...),
--   paths.filep(p), paths.dirp(p), paths.mkdir(p), paths.rmdir(p), paths.cwd(),
--   paths.home, paths.thisfile([name]), paths.dirname of the calling script, paths.dir(p),
--   paths.files(p), paths.tmpname()

local paths = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function trimSlashes(p)
  local t = p:gsub('/+$', '')
  if t == '' and p:sub(1, 1) == '/' then return '/' end
  return t
end

-- the directory part: '/a/b/c.lua' -> '/a/b', 'c.lua' -> '.', '/c' -> '/'
function paths.dirname(p)
  p = trimSlashes(p)
  if p == '/' then return '/' end
  local dir = p:match('^(.*)/[^/]*$')
  if dir == nil then return '.' end
  if dir == '' then return '/' end
  return trimSlashes(dir)
end

-- the last component, without ext if it ends with it: basename('/a/b.lua', 'lua') -> 'b'
function paths.basename(p, ext)
  p = trimSlashes(p)
  local base = p:match('([^/]*)$')
  if ext then
    ext = ext:gsub('^%.', '')
    local suffix = '.' .. ext
    if #base > #suffix and base:sub(-#suffix) == suffix then
      base = base:sub(1, -#suffix - 1)
    end
  end
  return base
end

-- the extension without its dot, or nil
function paths.extname(p)
  return paths.basename(p):match('^.+%.([^.]+)$')
end

-- the components joined with '/'; an absolute component starts over; no arguments: cwd
function paths.concat(...)
  local n = select('#', ...)
  if n == 0 then return paths.cwd() end
  local out
  for i = 1, n do
    local part = tostring((select(i, ...)))
    if out == nil or part:sub(1, 1) == '/' then
      out = part
    elseif part ~= '' then
      out = out:gsub('/+$', '') .. '/' .. part
    end
  end
  if out:sub(1, 1) ~= '/' then out = paths.cwd() .. '/' .. out end
  return out
end

-- a directory opens as "dir/.", a file does not
function paths.dirp(p)
  local f = io.open(tostring(p) .. '/.', 'r')
  if f then f:close() return true end
  return false
end

function paths.filep(p)
  local f = io.open(tostring(p), 'r')
  if not f then return false end
  f:close()
  return not paths.dirp(p)
end

local function shell(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- true if p is a directory afterwards (parents are not made, as Torch7's)
function paths.mkdir(p)
  if paths.dirp(p) then return true end
  shell('mkdir ' .. quote(p) .. ' 2>/dev/null')
  return paths.dirp(p)
end

function paths.rmdir(p)
  shell('rmdir ' .. quote(p) .. ' 2>/dev/null')
  return not paths.dirp(p)
end

function paths.rmall(p, confirm)
  if confirm ~= 'yes' then return false end
  shell('rm -rf ' .. quote(p))
  return not paths.dirp(p) and not paths.filep(p)
end

-- a shell command's output; through a temporary file where the engine has no io.popen
-- (lupa's Lua 5.4 builds lack it)
local function capture(cmd)
  local ok, pipe = pcall(io.popen, cmd)
  if ok and pipe then
    local out = pipe:read('*a')
    pipe:close()
    return out
  end
  local tmp = os.tmpname()
  os.execute(cmd .. ' > ' .. quote(tmp))
  local f = io.open(tmp, 'r')
  local out = f and f:read('*a') or ''
  if f then f:close() end
  os.remove(tmp)
  return out
end
paths._capture = capture

function paths.cwd()
  return (capture('pwd'):gsub('\n$', ''))
end

paths.home = os.getenv('HOME') or '.'

function paths.tmpname() return os.tmpname() end

-- the names in directory p (with '.' and '..'), or nil if it is not one
function paths.dir(p)
  if not paths.dirp(p) then return nil end
  local names = {}
  for line in capture('ls -a ' .. quote(p)):gmatch('[^\n]+') do names[#names + 1] = line end
  return names
end

-- an iterator over the names in directory p
function paths.files(p)
  local names = paths.dir(p) or {}
  local i = 0
  return function()
    i = i + 1
    return names[i]
  end
end

-- the file of the function that called `level` frames up, as an absolute path
local function callerFile(level)
  local info = debug.getinfo(level + 1, 'S')
  local source = info and info.source or ''
  if source:sub(1, 1) ~= '@' then return nil end
  local file = source:sub(2)
  if file:sub(1, 1) ~= '/' then file = paths.cwd() .. '/' .. file:gsub('^%./', '') end
  return file
end
paths._callerFile = callerFile

-- the calling script's full path; with name, that name in the script's directory
function paths.thisfile(name)
  local file = callerFile(2)
  if file and name then return paths.concat(paths.dirname(file), name) end
  return file
end

return paths
