-- pl.tablex: penlight's table functions (the ones scripts use).

local tablex = {}

function tablex.keys(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  return out
end

function tablex.values(t)
  local out = {}
  for _, v in pairs(t) do out[#out + 1] = v end
  return out
end

function tablex.size(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

-- a shallow copy
function tablex.copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- a copy of t and every table in it (the metatables are kept, not copied); shared and
-- cyclic tables stay shared
function tablex.deepcopy(t)
  local seen = {}
  local function copy(x)
    if type(x) ~= 'table' then return x end
    if seen[x] then return seen[x] end
    local out = {}
    seen[x] = out
    for k, v in pairs(x) do out[copy(k)] = copy(v) end
    return setmetatable(out, getmetatable(x))
  end
  return copy(t)
end

-- equal keys and values, looked into tables (ignore_mt: do not use __eq)
function tablex.deepcompare(a, b, ignore_mt, eps)
  if type(a) ~= type(b) then return false end
  if type(a) ~= 'table' then
    if eps and type(a) == 'number' then return math.abs(a - b) <= eps end
    return a == b
  end
  local mt = getmetatable(a)
  if not ignore_mt and mt and mt.__eq then return a == b end
  for k, v in pairs(a) do
    if b[k] == nil or not tablex.deepcompare(v, b[k], ignore_mt, eps) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- {k = fun(v, ...)} for every entry of t
function tablex.map(fun, t, ...)
  local out = {}
  for k, v in pairs(t) do out[k] = fun(v, ...) end
  return out
end

-- the same over the array part, in order
function tablex.imap(fun, t, ...)
  local out = {}
  for i, v in ipairs(t) do out[i] = fun(v, ...) end
  return out
end

-- fun(v, k, ...) for every entry
function tablex.foreach(t, fun, ...)
  for k, v in pairs(t) do fun(v, k, ...) end
end
function tablex.foreachi(t, fun, ...)
  for i, v in ipairs(t) do fun(v, i, ...) end
end

-- the entries of the array part for which pred(v, arg) holds
function tablex.filter(t, pred, arg)
  local out = {}
  for _, v in ipairs(t) do
    if pred(v, arg) then out[#out + 1] = v end
  end
  return out
end

-- fun(fun(t[1], t[2]), t[3]) ...; memo starts the fold if given
function tablex.reduce(fun, t, memo)
  local i = 1
  if memo == nil then memo, i = t[1], 2 end
  for j = i, #t do memo = fun(memo, t[j]) end
  return memo
end

-- the index of value in the array part (from idx), or nil
function tablex.find(t, value, idx)
  for i = idx or 1, #t do
    if t[i] == value then return i end
  end
  return nil
end

-- t's entries, overwritten by u's; returns t
function tablex.update(t, u)
  for k, v in pairs(u) do t[k] = v end
  return t
end

-- a new table with the keys of both (dup true) or of both only (dup false)
function tablex.merge(t1, t2, dup)
  local out = {}
  for k, v in pairs(t1) do
    if dup or t2[k] ~= nil then out[k] = v end
  end
  if dup then
    for k, v in pairs(t2) do out[k] = v end
  end
  return out
end

-- the entries of s1 whose keys s2 lacks
function tablex.difference(s1, s2)
  local out = {}
  for k, v in pairs(s1) do
    if s2[k] == nil then out[k] = v end
  end
  return out
end

function tablex.index_by(t, keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = t[k] end
  return out
end

-- {v = true} for the values of the array part
function tablex.makeset(t)
  local out = {}
  for _, v in ipairs(t) do out[v] = true end
  return out
end

-- {v = number of times it occurs} for the array part
function tablex.count_map(t)
  local out = {}
  for _, v in ipairs(t) do out[v] = (out[v] or 0) + 1 end
  return out
end

-- the keys sorted (by cmp), with their values: for k, v in tablex.sort(t) do
function tablex.sort(t, cmp)
  local keys = tablex.keys(t)
  table.sort(keys, cmp)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end
end

-- the same, ordered by the values
function tablex.sortv(t, cmp)
  local keys = tablex.keys(t)
  cmp = cmp or function(a, b) return a < b end
  table.sort(keys, function(a, b) return cmp(t[a], t[b]) end)
  local i = 0
  return function()
    i = i + 1
    local k = keys[i]
    if k ~= nil then return k, t[k] end
  end
end

-- {start, start + step, ..., up to finish}
function tablex.range(start, finish, step)
  step = step or 1
  local out = {}
  for v = start, finish, step do out[#out + 1] = v end
  return out
end

-- {{a[1], b[1], ...}, {a[2], b[2], ...}, ...} for the shortest
function tablex.zip(...)
  local lists = {...}
  local n = math.huge
  for _, l in ipairs(lists) do n = math.min(n, #l) end
  local out = {}
  for i = 1, (n == math.huge and 0 or n) do
    local row = {}
    for j, l in ipairs(lists) do row[j] = l[i] end
    out[i] = row
  end
  return out
end

-- t[k] = fun(v) in place
function tablex.transform(fun, t, ...)
  for k, v in pairs(t) do t[k] = fun(v, ...) end
  return t
end

-- same keys (and, with values, same values by ==)
function tablex.compare(t1, t2, cmp)
  if #t1 ~= #t2 then return false end
  cmp = cmp or function(a, b) return a == b end
  for i = 1, #t1 do
    if not cmp(t1[i], t2[i]) then return false end
  end
  return true
end

function tablex.issubset(t1, t2)
  for _, v in pairs(t1) do
    local found = false
    for _, w in pairs(t2) do if v == w then found = true break end end
    if not found then return false end
  end
  return true
end

return tablex
