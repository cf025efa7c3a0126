-- torch.Tester: Torch7's unit test runner.
--
--   local tester = torch.Tester()
--   tester:add({name = function() tester:assertlt(1, 2, 'message') end})   -- or add(f, name)
--   tester:run()              -- or run('name'), run({'pattern', ...})
--
-- run prints Torch7's report: "Running N tests", a line per test ending [PASS], [FAIL],
-- [ERROR] or [SKIP], "Completed A asserts in N tests with F failures and E errors", then
-- each failure's message and where it happened between lines of dashes. If anything
-- failed, run raises 'An error was found while running tests!', so that the script (and
-- adlua) exits with a non-zero status. Tests run in the order of their names.
--
-- The assertions take an optional message, and those comparing values an optional
-- tolerance, in either order: assert, asserteq/ne/lt/gt/le/ge, assertalmosteq,
-- assertTensorEq/Ne, assertTableEq/Ne, assertGeneralEq/Ne (eq/ne), assertError,
-- assertNoError, assertErrorMsg, assertErrorPattern, assertErrorObj.

return function(torch)

local unpack = unpack or table.unpack
local NCOLS = 80

local Tester = torch.class('torch.Tester', torch)

function Tester:__init()
  self.errors = {}
  self.tests = {}
  self.warnings = {}
  self._warningCount = {}
  self.disabledTests = {}
  self._currentTestName = ''
  -- Torch7 compares tensors of the same elements but other dims as equal (with a warning)
  self._assertTensorEqIgnoresDims = true
end

function Tester:setEarlyAbort(earlyAbort) self.earlyAbort = earlyAbort end
function Tester:setRethrowErrors(rethrow) self.rethrow = rethrow end
function Tester:setSummaryOnly(summaryOnly) self.summaryOnly = summaryOnly end

------------------------------------------------------------------------------------------
-- recording results

-- the test's frames: the (at most two) lines of the traceback above the runner's xpcall
local function whereInTest()
  local lines = {}
  for line in (debug.traceback('', 4) or ''):gmatch('[^\n]+') do
    if line:find('xpcall', 1, true) then break end
    if line ~= 'stack traceback:' then lines[#lines + 1] = line end
  end
  return table.concat(lines, '\n', math.max(1, #lines - 1), #lines)
end

function Tester:_withDebugInfo(message)
  local name = self._currentTestName
  return (name ~= '' and name .. '\n' or '') .. message .. '\n' .. whereInTest()
end

function Tester:_success()
  local name = self._currentTestName
  if self.assertionPass then
    self.assertionPass[name] = (self.assertionPass[name] or 0) + 1
  end
  return true
end

function Tester:_failure(message)
  if self.rethrow then error(message, 3) end
  local name = self._currentTestName
  if self.assertionFail then
    self.assertionFail[name] = (self.assertionFail[name] or 0) + 1
  end
  self.errors[#self.errors + 1] = self:_withDebugInfo(message)
  return false
end

function Tester:_warning(message)
  local name = self._currentTestName
  self._warningCount[name] = (self._warningCount[name] or 0) + 1
  self.warnings[#self.warnings + 1] = self:_withDebugInfo(message)
end

function Tester:_assert_sub(condition, message)
  if condition then return self:_success() end
  return self:_failure(message)
end

------------------------------------------------------------------------------------------
-- arguments: a message, and for comparisons a tolerance, in either order

local function getMessage(message, ...)
  assert(select('#', ...) == 0 or next({...}) == nil,
         'Unexpected arguments passed to test function')
  if message then
    assert(type(message) == 'string', 'message parameter must be a string')
    if message ~= '' then return message .. '\n' end
  end
  return ''
end

local function getToleranceAndMessage(default, ...)
  local message, tolerance
  for _, a in ipairs({...}) do
    if type(a) == 'string' then
      if message then error('Unexpected string argument; already have message', 3) end
      message = a .. '\n'
    elseif type(a) == 'number' then
      if tolerance then error('Unexpected number argument; already have tolerance', 3) end
      assert(a >= 0, 'tolerance cannot be negative')
      tolerance = a
    else
      error('Unrecognized argument; should be a tolerance or message', 3)
    end
  end
  return tolerance or default, message or ''
end

------------------------------------------------------------------------------------------
-- comparisons

local check = {}

-- the largest elementwise |a - b| of two tensors of the same size, as a number
local function maxDiff(a, b)
  if a:nElement() == 0 then return 0 end
  return torch.abs(a:double() - b:double()):max()
end

function check.tensors(ta, tb, tolerance, negate, ignoreDims)
  if not ignoreDims and ta:dim() ~= tb:dim() then
    return negate, 'The tensors have different dimensions'
  end
  if ta:type() ~= tb:type() then return negate, 'The tensors have different types' end
  if ta:nElement() == 0 and tb:nElement() == 0 then
    return not negate, 'Both tensors are empty'
  end
  local same = ignoreDims and ta:nElement() == tb:nElement() or ta:isSameSizeAs(tb)
  if not same then return negate, 'The tensors have different sizes' end
  local err = maxDiff(ta:contiguous():view(ta:nElement()), tb:contiguous():view(tb:nElement()))
  local ok = err <= tolerance
  if negate then ok = not ok end
  if ok then return true end
  return false, string.format('Tensor%s violation: max diff=%s, tolerance=%s',
                              negate and 'NE(==)' or 'EQ(==)', tostring(err),
                              tostring(tolerance))
end

function check.values(got, expected, tolerance, negate)
  if type(got) ~= type(expected) and
     not (torch.isTensor(got) and torch.isTensor(expected)) then
    if negate then return true end
    return false, 'EQ failed: values have different types (first: ' .. type(got) ..
                  ', second: ' .. type(expected) .. ')'
  end
  if type(got) == 'number' then
    local ok = math.abs(got - expected) <= tolerance
    if negate then ok = not ok end
    if ok then return true end
    local message = string.format(negate and 'NE failed: %s == %s' or 'EQ failed: %s ~= %s',
                                  tostring(got), tostring(expected))
    if tolerance > 0 then message = message .. ' with tolerance=' .. tostring(tolerance) end
    return false, message
  end
  if torch.isTensor(got) then return check.tensors(got, expected, tolerance, negate, false) end
  if type(got) == 'table' then return check.tables(got, expected, tolerance, negate) end
  local ok = got == expected
  if negate then ok = not ok end
  if ok then return true end
  return false, string.format(negate and 'NE failed: %s (%s) == %s (%s)' or
                              'EQ failed: %s (%s) ~= %s (%s)', tostring(got), type(got),
                              tostring(expected), type(expected))
end

-- breadth first, so that a difference is reported at the shallowest place it is
function check.tables(t1, t2, tolerance, negate)
  local queue, head = {{t1, t2}}, 1
  while queue[head] do
    local a, b, location = unpack(queue[head])
    head = head + 1
    local function at(key)
      return location and location .. '.' .. tostring(key) or tostring(key)
    end
    for key, v1 in pairs(a) do
      local v2 = b[key]
      if v2 == nil then
        return negate, string.format('Entry %s missing in second table (is %s in first)',
                                     at(key), tostring(v1))
      end
      if type(v1) == 'table' and type(v2) == 'table' and not torch.isTensor(v1) then
        queue[#queue + 1] = {v1, v2, at(key)}
      else
        local ok, message = check.values(v1, v2, tolerance, false)
        if not ok then return negate, 'At table location ' .. at(key) .. ': ' .. message end
      end
    end
    for key, v2 in pairs(b) do
      if a[key] == nil then
        return negate, string.format('Entry %s missing in first table (is %s in second)',
                                     at(key), tostring(v2))
      end
    end
  end
  return not negate, 'The tables are equal'
end

------------------------------------------------------------------------------------------
-- assertions

function Tester:assert(condition, ...)
  local message = getMessage(...)
  if type(condition) ~= 'boolean' then
    self:_warning(' :assert should only be used for boolean conditions. To check for ' ..
                  'non-nil variables, do this explicitly: Tester:assert(var ~= nil).')
  end
  return self:_assert_sub(condition, string.format('%sBOOL violation condition=%s', message,
                                                   tostring(condition)))
end

local function ordered(name, symbol, holds, negation)
  Tester[name] = function(self, a, b, ...)
    local message = getMessage(...)
    return self:_assert_sub(holds(a, b), string.format('%s%s failed: %s %s %s', message,
                            symbol, tostring(a), negation, tostring(b)))
  end
end
ordered('assertlt', 'LT', function(a, b) return a < b end, '>=')
ordered('assertgt', 'GT', function(a, b) return a > b end, '<=')
ordered('assertle', 'LE', function(a, b) return a <= b end, '>')
ordered('assertge', 'GE', function(a, b) return a >= b end, '<')
ordered('asserteq', 'EQ', function(a, b) return a == b end, '~=')
ordered('assertne', 'NE', function(a, b) return a ~= b end, '==')

function Tester:assertalmosteq(a, b, ...)
  local tolerance, message = getToleranceAndMessage(1e-16, ...)
  return self:_assert_sub(math.abs(a - b) <= tolerance, string.format(
    '%sALMOST_EQ failed: %s ~= %s with tolerance=%s', message, tostring(a), tostring(b),
    tostring(tolerance)))
end

function Tester:_eqOrNeq(got, expected, negate, ...)
  local tolerance, message = getToleranceAndMessage(0, ...)
  local ok, sub = check.values(got, expected, tolerance, negate)
  return self:_assert_sub(ok, message .. (sub or ''))
end
function Tester:assertGeneralEq(got, expected, ...) return self:_eqOrNeq(got, expected, false, ...) end
function Tester:assertGeneralNe(got, expected, ...) return self:_eqOrNeq(got, expected, true, ...) end
Tester.eq, Tester.ne = Tester.assertGeneralEq, Tester.assertGeneralNe

function Tester:_tensorEqOrNeq(ta, tb, negate, ...)
  assert(torch.isTensor(ta), 'First argument should be a Tensor')
  assert(torch.isTensor(tb), 'Second argument should be a Tensor')
  local tolerance, message = getToleranceAndMessage(0, ...)
  local ok, sub = check.tensors(ta, tb, tolerance, negate, self._assertTensorEqIgnoresDims)
  if ok and not negate and self._assertTensorEqIgnoresDims and not ta:isSameSizeAs(tb) then
    self:_warning('Tensors have the same content but different dimensions. For backwards ' ..
                  'compatibility, they are considered equal, but this may change in the ' ..
                  'future. Consider using :eq to check for equality instead.')
  end
  return self:_assert_sub(ok, message .. (sub or ''))
end
function Tester:assertTensorEq(ta, tb, ...) return self:_tensorEqOrNeq(ta, tb, false, ...) end
function Tester:assertTensorNe(ta, tb, ...) return self:_tensorEqOrNeq(ta, tb, true, ...) end

function Tester:_tableEqOrNeq(ta, tb, negate, ...)
  assert(type(ta) == 'table', 'First argument should be a Table')
  assert(type(tb) == 'table', 'Second argument should be a Table')
  return self:_eqOrNeq(ta, tb, negate, ...)
end
function Tester:assertTableEq(ta, tb, ...) return self:_tableEqOrNeq(ta, tb, false, ...) end
function Tester:assertTableNe(ta, tb, ...) return self:_tableEqOrNeq(ta, tb, true, ...) end

function Tester:assertErrorObj(f, errcomp, ...)
  local message = getMessage(...)
  local ok, err = pcall(f)
  return self:_assert_sub(not ok and errcomp(err), string.format(
    '%sERROR violation: err=%s', message, tostring(err)))
end
function Tester:assertError(f, ...)
  return self:assertErrorObj(f, function() return true end, ...)
end
function Tester:assertErrorMsg(f, errmsg, ...)
  return self:assertErrorObj(f, function(err) return err == errmsg end, ...)
end
function Tester:assertErrorPattern(f, pattern, ...)
  return self:assertErrorObj(f, function(err)
    return string.find(tostring(err), pattern) ~= nil
  end, ...)
end
function Tester:assertNoError(f, ...)
  local message = getMessage(...)
  local ok, err = pcall(f)
  return self:_assert_sub(ok, string.format('%sERROR violation: err=%s', message,
                                            tostring(err)))
end

------------------------------------------------------------------------------------------
-- adding and running tests

function Tester:add(f, name)
  if type(f) == 'table' then
    assert(name == nil, 'Name parameter is forbidden for a table of tests, since its ' ..
                        'use is ambiguous')
    if f.__isTestSuite then f = f.__tests end
    for k, v in pairs(f) do
      assert(type(v) ~= 'table', 'Nested sets of tests are not supported')
      self:add(v, k)
    end
    return self
  end
  assert(type(f) == 'function', 'Only tables of functions and functions supported')
  if name == '_setUp' then
    assert(not self._setUp, 'Only one set-up function allowed')
    self._setUp = f
  elseif name == '_tearDown' then
    assert(not self._tearDown, 'Only one tear-down function allowed')
    self._tearDown = f
  else
    name = name or 'unknown'
    if self.tests[name] ~= nil then error('Test with name ' .. name .. ' already exists!', 2) end
    self.tests[name] = f
  end
  return self
end

function Tester:disable(names)
  if type(names) == 'string' then names = {names} end
  assert(type(names) == 'table', 'Expecting name or list for disable')
  for _, name in ipairs(names) do
    assert(self.tests[name], "Unrecognized test '" .. name .. "'")
    self.disabledTests[name] = true
  end
  return self
end

-- the tests to run: all, or those whose names match the given patterns
function Tester:_getTests(names)
  if names == nil then return self.tests end
  if type(names) == 'string' then names = {names} end
  assert(type(names) == 'table', 'Only accept a name or table of test names (or nil for all tests)')
  local tests = {}
  for _, pattern in ipairs(names) do
    local found = false
    for name, f in pairs(self.tests) do
      if string.match(name, pattern) then tests[name] = f; found = true end
    end
    assert(found, "Couldn't find test '" .. pattern .. "'")
  end
  return tests
end

local function pluralize(n, word)
  return n .. ' ' .. word .. (n == 1 and '' or 's')
end

local function sortedNames(tests)
  local names = {}
  for name in pairs(tests) do names[#names + 1] = name end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  return names
end

function Tester:_pcall(f)
  local before = #self.errors
  local ok, result = xpcall(f, debug.traceback)
  if not ok then
    self.errors[#self.errors + 1] = self._currentTestName .. '\n Function call failed\n' ..
                                    tostring(result) .. '\n'
  end
  return ok, result, ok and before == #self.errors
end

function Tester:_run(tests)
  local names = sortedNames(tests)
  local ntests = #names
  local width = #tostring(ntests)
  local counter = '%' .. width .. 'u/' .. ntests .. ' '
  io.write('Running ' .. pluralize(ntests, 'test') .. '\n')
  for i, name in ipairs(names) do
    self._currentTestName = name
    local dots = NCOLS - 6 - 2 - (width * 2 + 2) - #tostring(name)
    local head = string.format(counter, i) .. tostring(name) .. ' ' ..
                 string.rep('.', math.max(dots, 0)) .. ' '
    local status, pass, skip = true, true, false
    if self.disabledTests[name] then
      skip = true
    else
      if self._setUp then self._setUp(name) end
      if self.rethrow then
        local before = #self.errors
        tests[name]()
        pass = before == #self.errors
      else
        status, _, pass = self:_pcall(tests[name])
      end
      if self._tearDown then self._tearDown(name) end
    end
    io.write(head)
    if skip then
      io.write('[SKIP]')
    elseif not status then
      self.testError[name] = 1
      io.write('[ERROR]')
    elseif not pass then
      io.write('[FAIL]')
    else
      io.write('[PASS]')
      if self._warningCount[name] > 0 then
        io.write('\n' .. string.rep(' ', NCOLS - 10) .. '[+warning]')
      end
    end
    io.write('\n')
    if self.earlyAbort and i < ntests and (not status or not pass) and not skip then
      io.write('Aborting on first error, not all tests have been executed\n')
      break
    end
    collectgarbage()
  end
end

function Tester:_report(tests)
  local ntests, nfailures, nerrors, nskipped, nwarnings = 0, 0, 0, 0, 0
  self.countasserts = 0
  for name in pairs(tests) do
    ntests = ntests + 1
    self.countasserts = self.countasserts + self.assertionFail[name] + self.assertionPass[name]
    if self.assertionFail[name] > 0 then nfailures = nfailures + 1 end
    if self.testError[name] > 0 then nerrors = nerrors + 1 end
    if self._warningCount[name] > 0 then nwarnings = nwarnings + 1 end
    if self.disabledTests[name] then nskipped = nskipped + 1 end
  end
  if self._warningCount[''] then nwarnings = nwarnings + self._warningCount[''] end
  io.write('Completed ' .. pluralize(self.countasserts, 'assert') .. ' in ' ..
           pluralize(ntests, 'test') .. ' with ' .. pluralize(nfailures, 'failure') ..
           ' and ' .. pluralize(nerrors, 'error'))
  if nwarnings > 0 then io.write(' and ' .. pluralize(nwarnings, 'warning')) end
  if nskipped > 0 then io.write(' and ' .. nskipped .. ' disabled') end
  io.write('\n')
  if self.summaryOnly then return end
  local dashes = string.rep('-', NCOLS) .. '\n'
  local first = true
  for _, list in ipairs({self.errors, self.warnings}) do
    for _, text in ipairs(list) do
      if first then io.write(dashes); first = false end
      io.write(text .. '\n' .. dashes)
    end
  end
end

function Tester:run(names)
  local tests = self:_getTests(names)
  self.assertionPass, self.assertionFail, self.testError = {}, {}, {}
  for name in pairs(tests) do
    self.assertionPass[name] = 0
    self.assertionFail[name] = 0
    self.testError[name] = 0
    self._warningCount[name] = 0
  end
  self:_run(tests)
  self:_report(tests)
  -- an error, so that the script exits with a non-zero status
  for name in pairs(tests) do
    if self.assertionFail[name] ~= 0 or self.testError[name] ~= 0 then
      error('An error was found while running tests!', 2)
    end
  end
  return 0
end

-- torch.TestSuite: a table of tests that refuses a name twice
function torch.TestSuite()
  local tests = {}
  return setmetatable({}, {
    __index = function(_, k)
      if k == '__isTestSuite' then return true end
      if k == '__tests' then return tests end
      return tests[k]
    end,
    __newindex = function(_, name, f)
      if tests[name] ~= nil then error('Test ' .. name .. ' is already defined.', 2) end
      tests[name] = f
    end,
  })
end

end
