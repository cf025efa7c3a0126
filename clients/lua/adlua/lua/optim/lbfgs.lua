-- optim.lbfgs: limited-memory BFGS, as Torch7's.
--
-- config: maxIter (20), maxEval (1.25 * maxIter), tolFun (1e-5: stop when the sum of
-- |df/dx| is below), tolX (1e-9: stop when a step or the change of f is below),
-- nCorrection (100 pairs of history), learningRate (1: the fixed step, except the first
-- iteration's min(1, 1 / sum|g|) * learningRate), lineSearch (a function as Torch7's
-- optim.lswolfe: (opfunc, x, t, d, f, g, gtd, options) -> f, g, x, t, evaluations) and
-- lineSearchOptions, verbose.
--
-- Each iteration's direction is -H g, H the inverse Hessian approximation from the last
-- nCorrection steps s and gradient changes y (the two-loop recursion), scaled by
-- Hdiag = s.y / y.y. Returns x, the f values seen, and the number of evaluations.
-- state keeps d, t, old_dirs, old_stps, Hdiag, g_old, f_old, nIter and funcEval, so a
-- later call goes on where this one stopped.

return function(opfunc, x, config, state)
  config = config or {}
  state = state or config
  local maxIter = tonumber(config.maxIter) or 20
  local maxEval = tonumber(config.maxEval) or maxIter * 1.25
  local tolFun = config.tolFun or 1e-5
  local tolX = config.tolX or 1e-9
  local nCorrection = config.nCorrection or 100
  local lineSearch = config.lineSearch
  local lineSearchOpts = config.lineSearchOptions
  local learningRate = config.learningRate or 1
  local verbose = config.verbose or false
  local function say(...) if verbose then print('<optim.lbfgs> ', ...) end end

  state.funcEval = state.funcEval or 0
  state.nIter = state.nIter or 0

  local f, g = opfunc(x)
  local f_hist = {f}
  local currentFuncEval = 1
  state.funcEval = state.funcEval + 1

  local gradSum = torch.abs(g):sum()
  if gradSum <= tolFun then
    say('optimality condition below tolFun')
    return x, f_hist, currentFuncEval
  end

  local d, t = state.d, state.t
  local old_dirs, old_stps, Hdiag = state.old_dirs, state.old_stps, state.Hdiag
  local g_old, f_old = state.g_old, state.f_old

  local nIter = 0
  while nIter < maxIter do
    nIter = nIter + 1
    state.nIter = state.nIter + 1

    if state.nIter == 1 then
      d = -g
      old_dirs, old_stps, Hdiag = {}, {}, 1
    else
      local y = g - g_old
      local s = d * t
      local ys = y:dot(s)
      if ys > 1e-10 then
        if #old_dirs == nCorrection then
          table.remove(old_dirs, 1)
          table.remove(old_stps, 1)
        end
        old_dirs[#old_dirs + 1] = s
        old_stps[#old_stps + 1] = y
        Hdiag = ys / y:dot(y)
      end
      -- the two-loop recursion: d = -H g
      local k = #old_dirs
      local ro, al = {}, {}
      for i = 1, k do ro[i] = 1 / old_stps[i]:dot(old_dirs[i]) end
      local q = -g
      for i = k, 1, -1 do
        al[i] = old_dirs[i]:dot(q) * ro[i]
        q:add(-al[i], old_stps[i])
      end
      local r = q * Hdiag
      for i = 1, k do
        local be = old_stps[i]:dot(r) * ro[i]
        r:add(al[i] - be, old_dirs[i])
      end
      d = r
    end
    g_old = g:clone()
    f_old = f

    local gtd = g:dot(d)
    if gtd > -tolX then
      say('the directional derivative is below tolX')
      break
    end

    if state.nIter == 1 then
      t = math.min(1, 1 / gradSum) * learningRate
    else
      t = learningRate
    end

    local lsFuncEval = 0
    if lineSearch and type(lineSearch) == 'function' then
      f, g, x, t, lsFuncEval = lineSearch(opfunc, x, t, d, f, g, gtd, lineSearchOpts)
      f_hist[#f_hist + 1] = f
    else
      x:add(t, d)
      if nIter ~= maxIter then
        f, g = opfunc(x)
        lsFuncEval = 1
        f_hist[#f_hist + 1] = f
      end
    end
    currentFuncEval = currentFuncEval + lsFuncEval
    state.funcEval = state.funcEval + lsFuncEval

    if nIter == maxIter then say('reached maxIter'); break end
    if currentFuncEval >= maxEval then say('reached maxEval'); break end
    gradSum = torch.abs(g):sum()
    if gradSum <= tolFun then say('optimality condition below tolFun'); break end
    if torch.abs(d):sum() * math.abs(t) <= tolX then say('step size below tolX'); break end
    if math.abs(f - f_old) < tolX then say('function value changing less than tolX'); break end
  end

  state.d, state.t = d, t
  state.old_dirs, state.old_stps, state.Hdiag = old_dirs, old_stps, Hdiag
  state.g_old, state.f_old = g_old, f_old
  return x, f_hist, currentFuncEval
end
