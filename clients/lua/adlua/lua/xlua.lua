-- xlua: the part of Torch7's xlua that training scripts call, xlua.progress(i, n): the
-- progress bar Torch7 draws on stdout, redrawn in place (carriage returns) and ended by a
-- newline when i reaches n:
--
--    [=================>................... 12/30 ........................]  ETA: 1s | Step: 50ms
--
-- Its width is $COLUMNS (80 if unset, at most 120), as Torch7 asks the terminal.

local xlua = {}

-- seconds as Torch7 prints them: the two largest units of D, h, m, s, ms ('0ms' for none)
function xlua.formatTime(seconds)
  local floor = math.floor
  local days = floor(seconds / 86400)
  seconds = seconds - days * 86400
  local hours = floor(seconds / 3600)
  seconds = seconds - hours * 3600
  local minutes = floor(seconds / 60)
  seconds = seconds - minutes * 60
  local whole = floor(seconds)
  local millis = floor((seconds - whole) * 1000)
  local out, units = '', 0
  for _, part in ipairs({{days, 'D'}, {hours, 'h'}, {minutes, 'm'}, {whole, 's'},
                         {millis, 'ms'}}) do
    if part[1] > 0 and units < 2 then
      out = out .. string.format('%d', part[1]) .. part[2]
      units = units + 1
    end
  end
  if out == '' then out = '0ms' end
  return out
end

local function terminalWidth()
  local columns = tonumber(os.getenv('COLUMNS') or '')
  return math.min(columns or 80, 120)
end

-- the state of the bar being drawn
local barDone, previous = true, -1
local timer, times, indices

local SMOOTHING = 100

-- 12, not 12.0, on the engines with an integer subtype
local function count(x)
  if x == math.floor(x) then return string.format('%d', x) end
  return tostring(x)
end   -- the step time is averaged over this many calls

function xlua.progress(current, goal)
  local width = terminalWidth()
  local barLength = width - 34
  local percent = math.floor(current * barLength / goal)
  local write = io.write

  if barDone and (previous == -1 or percent < previous) then
    -- a new bar
    barDone, previous = false, -1
    timer = torch.Timer()
    times, indices = {timer:time().real}, {current}
  else
    write('\r')
  end
  if barDone then return end
  previous = percent

  local bar = {' ['}
  for i = 1, barLength do
    bar[#bar + 1] = i < percent and '=' or i == percent and '>' or '.'
  end
  bar[#bar + 1] = '] '
  write(table.concat(bar))
  local pad = width - barLength - 4
  write(string.rep(' ', pad) .. string.rep('\b', pad))

  local elapsed = timer:time().real
  local step = 0
  if current ~= indices[1] then step = (elapsed - times[1]) / (current - indices[1]) end
  local remaining = math.max(0, (goal - current) * step)
  indices[#indices + 1] = current
  times[#times + 1] = elapsed
  if #indices > SMOOTHING then
    table.remove(indices, 1)
    table.remove(times, 1)
  end
  local tm
  if percent < barLength then
    tm = ' ETA: ' .. xlua.formatTime(remaining)
  else
    tm = ' Tot: ' .. xlua.formatTime(elapsed)
  end
  tm = tm .. ' | Step: ' .. xlua.formatTime(step)
  write(tm)
  -- back to the middle of the bar, for the count
  write(string.rep('\b', math.floor(5 + #tm + barLength / 2)))
  write(' ' .. count(current) .. '/' .. count(goal) .. ' ')
  if percent == barLength then
    barDone = true
    write('\n')
  end
  write('\r')
  io.flush()
end

return xlua
