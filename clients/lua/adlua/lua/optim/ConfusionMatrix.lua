-- optim.ConfusionMatrix: counts of (target, prediction) class pairs, and the accuracies
-- Torch7's prints.
--
--   conf = optim.ConfusionMatrix({'cat', 'dog'})   -- or (nclasses [, classes])
--   conf:add(prediction, target)          -- numbers, or a vector of scores and a class
--                                          -- (or two vectors: their argmaxes)
--   conf:batchAdd(predictions, targets)   -- vectors of classes, or matrices of scores
--   print(conf)                           -- Torch7's table; updateValids() fills
--                                          -- valids, unionvalids, totalValid, averageValid
--
-- The counts are kept in Lua, so that adding a sample never waits for the daemon; mat
-- (a LongTensor, targets along rows) gets each change as a queued write.

local bytes = require 'torch.bytes'

local ConfusionMatrix = torch.class('optim.ConfusionMatrix', optim)

function ConfusionMatrix:__init(nclasses, classes)
  if type(nclasses) == 'table' then
    classes = nclasses
    nclasses = #classes
  end
  self.nclasses = nclasses
  self.classes = classes or {}
  self.mat = torch.LongTensor(nclasses, nclasses):zero()
  self.valids = torch.FloatTensor(nclasses):zero()
  self.unionvalids = torch.FloatTensor(nclasses):zero()
  self.totalValid = 0
  self.averageValid = 0
  self.averageUnionValid = 0
  self._counts = {}
  for t = 1, nclasses do
    self._counts[t] = {}
    for p = 1, nclasses do self._counts[t][p] = 0 end
  end
end

-- the class of a score vector (its argmax), or a class number as it is
local function classOf(x)
  if type(x) == 'number' then return x end
  if not torch.isTensor(x) then
    error('optim.ConfusionMatrix: expected a class number or a tensor of scores, got ' ..
          type(x), 3)
  end
  if x:nElement() == 1 then return x:view(1)[1] end
  local _, index = torch.max(x:view(x:nElement()), 1)
  return index[1]
end

function ConfusionMatrix:_add(p, t)
  -- non-positive targets are missing values, ignored
  if t > 0 then
    local row = self._counts[t]
    row[p] = row[p] + 1
    self.mat[t][p] = row[p]
  end
end

function ConfusionMatrix:add(prediction, target)
  self:_add(classOf(prediction), classOf(target))
end

-- a batch as a Lua array of classes: a vector, an n x 1 matrix, or the argmax of each row
local function classesOf(x, what)
  if x:dim() == 2 and x:size(2) > 1 then
    local _, index = torch.max(x, 2)
    x = index
  elseif x:dim() ~= 1 and x:dim() ~= 2 then
    error(what .. ' has invalid number of dimensions', 3)
  end
  return x:view(x:nElement()):totable()
end

function ConfusionMatrix:batchAdd(predictions, targets)
  local preds = classesOf(predictions, 'predictions')
  local targs = classesOf(targets, 'targets')
  for i = 1, #preds do
    local t = targs[i]
    if t > 0 then
      local row = self._counts[t]
      row[preds[i]] = row[preds[i]] + 1
    end
  end
  self.mat = torch.LongTensor(self._counts)       -- one upload for the whole batch
end

function ConfusionMatrix:zero()
  for t = 1, self.nclasses do
    for p = 1, self.nclasses do self._counts[t][p] = 0 end
  end
  self.mat:zero()
  self.valids:zero()
  self.unionvalids:zero()
  self.totalValid = 0
  self.averageValid = 0
  self.averageUnionValid = 0
end

-- valids are a FloatTensor in Torch7: each is rounded to single precision, which shows
-- in the printed percentages
local function single(x)
  if x ~= x then return x end
  return bytes.decode('float', bytes.encode('float', {x}, 1, 1), 1, 1)[1]
end

function ConfusionMatrix:updateValids()
  local n, c = self.nclasses, self._counts
  local valids, unionvalids = {}, {}
  local total, all = 0, 0
  for t = 1, n do
    local row, col = 0, 0
    for k = 1, n do
      row = row + c[t][k]
      col = col + c[k][t]
    end
    all = all + row
    valids[t] = single(c[t][t] / row)
    unionvalids[t] = single(c[t][t] / (row + col - c[t][t]))
    total = total + c[t][t]
  end
  self.totalValid = total / all
  local average, averageUnion, nvalids, nunion = 0, 0, 0, 0
  for t = 1, n do
    if valids[t] == valids[t] then
      average = average + valids[t]
      nvalids = nvalids + 1
      if unionvalids[t] == unionvalids[t] then
        averageUnion = averageUnion + unionvalids[t]
        nunion = nunion + 1
      end
    end
  end
  self.averageValid = average / nvalids
  self.averageUnionValid = averageUnion / nunion
  self._valids = valids
  self.valids = torch.FloatTensor(valids)
  self.unionvalids = torch.FloatTensor(unionvalids)
end

-- a number as LuaJIT's tostring writes it (Lua 5.3+ would write 100.0)
local function luaNumber(x)
  if x ~= x then return (x > 0 or 1 / x > 0) and 'nan' or '-nan' end
  return string.format('%.14g', x)
end

function ConfusionMatrix:__tostring__()
  self:updateValids()
  local n, c = self.nclasses, self._counts
  local maxCount = 0
  for t = 1, n do
    for p = 1, n do if c[t][p] > maxCount then maxCount = c[t][p] end end
  end
  local digits = math.max(8, 1 + math.ceil(math.log(maxCount, 10)))
  local cell = '%' .. digits .. 'd'
  local str = {'ConfusionMatrix:\n', '['}
  local named = self.classes and self.classes[1]
  for t = 1, n do
    local pclass = string.format('%2.3f', self._valids[t] * 100)
    str[#str + 1] = t == 1 and '[' or ' ['
    for p = 1, n do str[#str + 1] = string.format(cell, c[t][p]) end
    local close = t == n and ']]  ' or ']   '
    if named then
      str[#str + 1] = close .. pclass .. '% \t[class: ' .. (self.classes[t] or '') .. ']\n'
    else
      str[#str + 1] = close .. pclass .. '% \n'
    end
  end
  str[#str + 1] = ' + average row correct: ' .. luaNumber(self.averageValid * 100) .. '% \n'
  str[#str + 1] = ' + average rowUcol correct (VOC measure): ' ..
                  luaNumber(self.averageUnionValid * 100) .. '% \n'
  str[#str + 1] = ' + global correct: ' .. luaNumber(self.totalValid * 100) .. '%'
  return table.concat(str)
end
ConfusionMatrix.__tostring = ConfusionMatrix.__tostring__
