-- sys: Torch7's system helpers that scripts use: a clock, tic/toc, the calling file's
-- directory, path pieces and shell commands.

local paths = require 'paths'
local B = _ADLUA

local sys = {}

-- seconds, with sub-millisecond resolution; differences measure time
function sys.clock() return B.now() end

local ticked = B.now()
function sys.tic() ticked = B.now() end
function sys.toc(verbose)
  local elapsed = B.now() - ticked
  if verbose then print(elapsed) end
  return elapsed
end

-- the directory of the file that called it
function sys.fpath()
  local file = paths._callerFile(2)
  if file == nil then return '.' end
  return paths.dirname(file)
end

sys.dirname = paths.dirname
sys.basename = paths.basename
sys.concat = paths.concat
sys.filep, sys.dirp = paths.filep, paths.dirp

-- a shell command's output (trailing newline removed)
function sys.execute(cmd)
  return (paths._capture(cmd):gsub('\n$', ''))
end
sys.fexecute = sys.execute

function sys.uname()
  local name = sys.execute('uname -s 2>/dev/null'):lower()
  if name:find('darwin') then return 'macos' end
  if name:find('linux') then return 'linux' end
  return name ~= '' and name or 'unknown'
end

function sys.sleep(seconds) os.execute('sleep ' .. tonumber(seconds)) end

return sys
