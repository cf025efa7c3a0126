-- torch.class(name [, parentName]): Torch7's classes. It returns the class's method table
-- and its parent's; name 'nn.Foo' makes the constructor nn.Foo (the table nn is made if
-- needed), which builds an instance and calls its __init. Instances report their class
-- to torch.type and torch.typename, and torch.isTypeOf(x, name) follows the parents.
--
--   local Foo, parent = torch.class('nn.Foo', 'nn.Module')
--   function Foo:__init(n) parent.__init(self); self.n = n end
--   local foo = nn.Foo(3)

return function(torch, T)

local classes = {}     -- name -> method table (each instance's metatable)

-- the table the dotted name's prefix names, made if missing ('nn.Foo' -> _G.nn)
local function namespace(name)
  local parts = {}
  for part in name:gmatch('[^.]+') do parts[#parts + 1] = part end
  local space = _G
  for i = 1, #parts - 1 do
    space[parts[i]] = space[parts[i]] or {}
    space = space[parts[i]]
  end
  return space, parts[#parts]
end

function torch.class(name, parentName, module)
  if type(name) ~= 'string' then T.userError('torch.class: expected a class name') end
  if classes[name] then T.userError('torch.class: class ' .. name .. ' already exists') end
  if type(parentName) == 'table' then module, parentName = parentName, nil end
  local parent
  if parentName ~= nil then
    parent = classes[parentName]
    if parent == nil then
      T.userError('torch.class: parent class ' .. tostring(parentName) .. ' does not exist')
    end
  end
  local class = {__typename = name, __parent = parent}
  class.__index = class
  if parent then
    setmetatable(class, {__index = parent})
    -- metamethods are looked up raw, so the parent's are copied in
    for k, v in pairs(parent) do
      if type(k) == 'string' and k:sub(1, 2) == '__' and k ~= '__index' and
         k ~= '__typename' and k ~= '__parent' and rawget(class, k) == nil then
        class[k] = v
      end
    end
  end
  if class.__init == nil then class.__init = function() end end
  classes[name] = class
  local function construct(...)
    local self = setmetatable({}, class)
    self:__init(...)
    return self
  end
  local space, short
  if module then space, short = module, name:match('([^.]+)$')
  else space, short = namespace(name) end
  space[short] = setmetatable({}, {__call = function(_, ...) return construct(...) end,
                                   __index = class, __newindex = class})
  return class, parent
end

-- the class table of a name, as Torch7's torch.getmetatable
function torch.getmetatable(name)
  if type(name) == 'string' then return classes[name] end
  return getmetatable(name)
end

local function classOf(x)
  if type(x) ~= 'table' then return nil end
  local mt = getmetatable(x)
  if type(mt) == 'table' and classes[rawget(mt, '__typename') or ''] == mt then return mt end
  return nil
end

local plainType, plainTypename = torch.type, torch.typename
function torch.type(x)
  local class = classOf(x)
  if class then return class.__typename end
  return plainType(x)
end
function torch.typename(x)
  local class = classOf(x)
  if class then return class.__typename end
  return plainTypename(x)
end

-- true if x's class is name or inherits from it
function torch.isTypeOf(x, name)
  local class = classOf(x)
  while class do
    if class.__typename == name then return true end
    class = class.__parent
  end
  return torch.type(x) == name
end

end
