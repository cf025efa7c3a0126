-- optim.cg: nonlinear conjugate gradients (Polack-Ribiere) with Carl Rasmussen's line
-- search (minimize.m), as Torch7's.
--
-- config: maxEval (maxIter * 1.25: function evaluations in all), maxIter (20: evaluations
-- in one line search), rho (0.01) and sig (0.5), the Wolfe-Powell conditions' constants,
-- int (0.1: do not evaluate within int of the current bracket's ends), ext (3.0: extrapolate
-- at most ext times the current step), ratio (100: the largest slope ratio). The line
-- search brackets a point by cubic extrapolation, then refines it by cubic (or quadratic)
-- interpolation until the strong Wolfe-Powell conditions hold; if it fails twice in a
-- row, cg stops. Returns x, the f values of accepted points, and the evaluations made.

local sqrt, min, max, abs, huge = math.sqrt, math.min, math.max, math.abs, math.huge

local function bad(z) return z ~= z or z == huge or z == -huge end

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local rho = config.rho or 0.01
  local sig = config.sig or 0.5
  local int = config.int or 0.1
  local ext = config.ext or 3.0
  local maxIter = config.maxIter or 20
  local ratio = config.ratio or 100
  local maxEval = config.maxEval or maxIter * 1.25
  local red = 1

  local i = 0
  local ls_failed = 0
  local fx = {}

  local z1, z2, z3 = 0, 0, 0
  local d1, d2, d3 = 0, 0, 0
  local f1, f2, f3 = 0, 0, 0

  local f, g = opfunc(x)
  local df1 = g:clone()
  f1 = f
  fx[#fx + 1] = f1
  i = i + 1

  local s = -df1                    -- the search direction
  d1 = -s:dot(s)                    -- the slope along it
  z1 = red / (1 - d1)               -- the first step

  local df2, x0, f0, df0
  while i < abs(maxEval) do
    x0, f0, df0 = x:clone(), f1, df1
    x:add(z1, s)
    f2, df2 = opfunc(x)
    df2 = df2:clone()
    i = i + 1
    d2 = df2:dot(s)
    f3, d3, z3 = f1, d1, -z1
    local m = min(maxIter, maxEval - i)
    local success = false
    local limit = -1

    while true do
      -- interpolate while the point is not good enough
      while (f2 > f1 + z1 * rho * d1 or d2 > -sig * d1) and m > 0 do
        limit = z1
        if f2 > f1 then
          z2 = z3 - (0.5 * d3 * z3 * z3) / (d3 * z3 + f2 - f3)        -- quadratic
        else
          local A = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)                -- cubic
          local B = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
          z2 = (sqrt(B * B - A * d2 * z3 * z3) - B) / A
        end
        if bad(z2) then z2 = z3 / 2 end
        z2 = max(min(z2, int * z3), (1 - int) * z3)
        z1 = z1 + z2
        x:add(z2, s)
        f2, df2 = opfunc(x)
        df2 = df2:clone()
        i = i + 1
        m = m - 1
        d2 = df2:dot(s)
        z3 = z3 - z2
      end
      if f2 > f1 + z1 * rho * d1 or d2 > -sig * d1 then
        break                                                     -- a failure
      elseif d2 > sig * d1 then
        success = true
        break
      elseif m == 0 then
        break
      end
      -- extrapolate (cubic)
      local A = 6 * (f2 - f3) / z3 + 3 * (d2 + d3)
      local B = 3 * (f3 - f2) - z3 * (d3 + 2 * d2)
      z2 = -d2 * z3 * z3 / (B + sqrt(B * B - A * d2 * z3 * z3))
      if bad(z2) or z2 < 0 then
        if limit < -0.5 then z2 = z1 * (ext - 1) else z2 = (limit - z1) / 2 end
      elseif limit > -0.5 and z2 + z1 > limit then
        z2 = (limit - z1) / 2
      elseif limit < -0.5 and z2 + z1 > z1 * ext then
        z2 = z1 * (ext - 1)
      elseif z2 < -z3 * int then
        z2 = -z3 * int
      elseif limit > -0.5 and z2 < (limit - z1) * (1 - int) then
        z2 = (limit - z1) * (1 - int)
      end
      f3, d3, z3 = f2, d2, -z2
      z1 = z1 + z2
      x:add(z2, s)
      f2, df2 = opfunc(x)
      df2 = df2:clone()
      i = i + 1
      m = m - 1
      d2 = df2:dot(s)
    end

    if success then
      f1 = f2
      fx[#fx + 1] = f1
      -- Polack-Ribiere direction
      local beta = (df2:dot(df2) - df2:dot(df1)) / df1:dot(df1)
      s = s * beta - df2
      df1, df2 = df2, df1
      d2 = df1:dot(s)
      if d2 > 0 then                  -- not downhill: steepest descent instead
        s = -df1
        d2 = -s:dot(s)
      end
      z1 = z1 * min(ratio, d1 / (d2 - 1e-320))
      d1 = d2
      ls_failed = 0
    else
      x:copy(x0)
      f1, df1 = f0, df0
      if ls_failed == 1 or i > maxEval then break end
      df1, df2 = df2, df1
      s = -df1
      d1 = -s:dot(s)
      z1 = 1 / (1 - d1)
      ls_failed = 1
    end
  end
  state.df1, state.s = df1, s
  return x, fx, i
end
