"""Torch7's optim in adlua (require 'optim'), on real lupa engines against a real daemon:
each method's first steps against a hand computation of its documented update on the
quadratic f(x) = 0.5 * sum(a * x^2), convergence on Rosenbrock's function, and
ConfusionMatrix and Logger as Torch7 prints and writes them."""
import math

import pytest

from lua_hosts import ENGINES, host_fixture, printed  # noqa: E402,F401

QUADRATIC = """
require 'optim'
A = torch.Tensor({1, 3})
function quadratic(x)
  return 0.5 * torch.sum(torch.cmul(torch.cmul(A, x), x)), torch.cmul(A, x)
end
function rosenbrock(x)
  local x1, x2 = x[1], x[2]
  return (1 - x1)^2 + 100 * (x2 - x1^2)^2,
         torch.Tensor({-2 * (1 - x1) - 400 * x1 * (x2 - x1^2), 200 * (x2 - x1^2)})
end
"""


lua = host_fixture("adlua-optim", QUADRATIC)


def steps(lua, method, config, n):
    """x after n steps from (1, -2) on the quadratic, and the f values returned."""
    t = lua.lua.execute(f"""
        local x = torch.Tensor({{1, -2}})
        local config = {config}
        local fs = {{}}
        for i = 1, {n} do
          local x2, f = optim.{method}(quadratic, x, config)
          assert(x2 == x, 'the same tensor, updated in place')
          fs[i] = f[1]
        end
        return {{x[1], x[2], fs[1]}}
    """)
    return [t[1], t[2]], t[3]


A = [1.0, 3.0]
X0 = [1.0, -2.0]


def grad(x):
    return [a * xi for a, xi in zip(A, x)]


def close(got, want, tol=1e-9):
    assert all(abs(g - w) <= tol * max(1, abs(w)) for g, w in zip(got, want)), (got, want)


def test_sgd_with_decay_weight_decay_and_momentum(lua):
    lr, lrd, wd, mom, damp = 0.1, 0.5, 0.01, 0.9, 0.2
    x, v = list(X0), None
    for k in range(3):
        g = [gi + wd * xi for gi, xi in zip(grad(x), x)]
        v = list(g) if v is None else [mom * vi + (1 - damp) * gi for vi, gi in zip(v, g)]
        clr = lr / (1 + k * lrd)
        x = [xi - clr * vi for xi, vi in zip(x, v)]
    got, f0 = steps(lua, "sgd", "{learningRate = 0.1, learningRateDecay = 0.5, "
                    "weightDecay = 0.01, momentum = 0.9, dampening = 0.2}", 3)
    close(got, x)
    assert f0 == pytest.approx(0.5 * (1 * 1 + 3 * 4))


def test_sgd_nesterov(lua):
    lr, mom = 0.1, 0.5
    x, v = list(X0), None
    for _ in range(3):
        g = grad(x)
        v = list(g) if v is None else [mom * vi + gi for vi, gi in zip(v, g)]
        step = [gi + mom * vi for gi, vi in zip(g, v)]
        x = [xi - lr * si for xi, si in zip(x, step)]
    got, _ = steps(lua, "sgd", "{learningRate = 0.1, momentum = 0.5, dampening = 0, "
                   "nesterov = true}", 3)
    close(got, x)


def test_adam(lua):
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    x, m, v = list(X0), [0, 0], [0, 0]
    for t in range(1, 4):
        g = grad(x)
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
        step = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        x = [xi - step * mi / (math.sqrt(vi) + eps) for xi, mi, vi in zip(x, m, v)]
    got, _ = steps(lua, "adam", "{learningRate = 0.1}", 3)
    close(got, x)


def test_adagrad(lua):
    lr = 0.5
    x, s = list(X0), [0, 0]
    for _ in range(3):
        g = grad(x)
        s = [si + gi * gi for si, gi in zip(s, g)]
        x = [xi - lr * gi / (math.sqrt(si) + 1e-10) for xi, gi, si in zip(x, g, s)]
    got, _ = steps(lua, "adagrad", "{learningRate = 0.5}", 3)
    close(got, x)


def test_adadelta(lua):
    rho, eps = 0.9, 1e-6
    x, v, acc = list(X0), [0, 0], [0, 0]
    for _ in range(3):
        g = grad(x)
        v = [rho * vi + (1 - rho) * gi * gi for vi, gi in zip(v, g)]
        delta = [math.sqrt(ai + eps) / math.sqrt(vi + eps) * gi
                 for ai, vi, gi in zip(acc, v, g)]
        x = [xi - di for xi, di in zip(x, delta)]
        acc = [rho * ai + (1 - rho) * di * di for ai, di in zip(acc, delta)]
    got, _ = steps(lua, "adadelta", "{}", 3)
    close(got, x)


def test_rmsprop(lua):
    lr, alpha, eps = 0.01, 0.99, 1e-8
    x, m = list(X0), [0, 0]
    for _ in range(3):
        g = grad(x)
        m = [alpha * mi + (1 - alpha) * gi * gi for mi, gi in zip(m, g)]
        x = [xi - lr * gi / (math.sqrt(mi) + eps) for xi, gi, mi in zip(x, g, m)]
    got, _ = steps(lua, "rmsprop", "{}", 3)
    close(got, x)


def test_lbfgs_first_iterations(lua):
    # iteration 1: a steepest-descent step of min(1, 1/sum|g|); iteration 2: the two-loop
    # recursion with one (s, y) pair, which for one pair is d = -H g with
    # H = Hdiag (I - rho s y') (I - rho y s') + rho s s', Hdiag = s.y / y.y
    x = list(X0)
    g = grad(x)
    t = min(1, 1 / sum(abs(gi) for gi in g))
    d = [-gi for gi in g]
    s = [t * di for di in d]
    x1 = [xi + si for xi, si in zip(x, s)]
    g1 = grad(x1)
    y = [a - b for a, b in zip(g1, g)]
    ys = sum(a * b for a, b in zip(y, s))
    hdiag = ys / sum(a * a for a in y)
    rho = 1 / ys
    q = [-gi for gi in g1]
    al = rho * sum(a * b for a, b in zip(s, q))
    q = [qi - al * yi for qi, yi in zip(q, y)]
    r = [hdiag * qi for qi in q]
    be = rho * sum(a * b for a, b in zip(y, r))
    r = [ri + (al - be) * si for ri, si in zip(r, s)]
    x2 = [xi + ri for xi, ri in zip(x1, r)]     # learningRate 1 after the first iteration
    t = lua.lua.execute("""
        local x = torch.Tensor({1, -2})
        local _, fs, evals = optim.lbfgs(quadratic, x, {maxIter = 2})
        return {x[1], x[2], #fs, evals}
    """)
    close([t[1], t[2]], x2)
    assert (t[3], t[4]) == (2, 2)


def test_cg_first_trial_step_and_descent(lua):
    # Rasmussen's line search starts at z1 = 1 / (1 - d1), d1 = -g.g, along s = -g
    g = grad(X0)
    z1 = 1 / (1 + sum(a * a for a in g))
    trial = [xi - z1 * gi for xi, gi in zip(X0, g)]
    t = lua.lua.execute("""
        local seen = {}
        local function recording(x)
          seen[#seen + 1] = {x[1], x[2]}
          return quadratic(x)
        end
        local x = torch.Tensor({1, -2})
        local _, fs, evals = optim.cg(recording, x, {maxIter = 20, maxEval = 30})
        local ok = true
        for i = 2, #fs do ok = ok and fs[i] < fs[i - 1] end
        return {seen[2][1], seen[2][2], fs[1], #seen == evals, ok, quadratic(x)}
    """)
    close([t[1], t[2]], trial)
    assert t[3] == pytest.approx(6.5)
    assert t[4] is True and t[5] is True
    assert t[6] < 1e-12


@pytest.mark.parametrize("method,config,calls", [
    ("sgd", "{learningRate = 1e-3, momentum = 0.9}", 1500),
    ("adam", "{learningRate = 0.05}", 2000),
    ("rmsprop", "{learningRate = 1e-2}", 1500),
    ("adagrad", "{learningRate = 0.5}", 1500),
    ("adadelta", "{rho = 0.95, eps = 1e-4}", 1500),
    ("lbfgs", "{maxIter = 100}", 3),
    ("cg", "{maxIter = 25, maxEval = 200}", 3),
])
def test_each_method_descends_rosenbrock(lua, method, config, calls):
    t = lua.lua.execute(f"""
        local x = torch.Tensor({{-1.2, 1}})
        local config = {config}
        local fs
        for i = 1, {calls} do _, fs = optim.{method}(rosenbrock, x, config) end
        local f = rosenbrock(x)
        return {{f, x[1], x[2]}}
    """)
    f, x1, x2 = t[1], t[2], t[3]
    assert f < 24.2 * 0.1, (method, f, x1, x2)      # from f(-1.2, 1) = 24.2
    tol = {"lbfgs": 1e-3, "cg": 1e-3, "adam": 1e-2}.get(method)
    if tol:
        assert abs(x1 - 1) < tol and abs(x2 - 1) < tol, (method, x1, x2)


def test_autograd_optim_still_torch_autograds(lua):
    t = lua.lua.execute("""
        local autograd = require 'autograd'
        local params = {w = torch.Tensor({3})}
        local step = autograd.optim.sgd(autograd(function(p) return torch.sum(torch.cmul(p.w, p.w)) end),
                                        {learningRate = 0.25}, params)
        step()
        return params.w[1], optim.sgd ~= autograd.optim.sgd
    """)
    assert t == (1.5, True)



def test_confusion_matrix_prints_as_torch7(lua):
    out = printed(lua, """
        local c = optim.ConfusionMatrix({'a', 'b', 'c'})
        c:add(1, 1); c:add(2, 1); c:add(3, 3)
        c:add(torch.Tensor({0.1, 0.8, 0.1}), 2)                  -- scores and a class
        c:batchAdd(torch.Tensor({1, 2, 3}), torch.Tensor({1, 2, 2}))
        c:add(1, 0)                                              -- a missing target
        print(c)
        print(c.mat:sum(), c.totalValid, c.averageValid)
    """)
    assert out == (
        "ConfusionMatrix:\n"
        "[[       2       1       0]   66.667% \t[class: a]\n"
        " [       0       2       1]   66.667% \t[class: b]\n"
        " [       0       0       1]]  100.000% \t[class: c]\n"
        " + average row correct: 77.777779102325% \n"
        " + average rowUcol correct (VOC measure): 55.555556217829% \n"
        " + global correct: 71.428571428571%\n"
        "7\t0.71428571428571\t0.77777779102325\n")


def test_confusion_matrix_of_score_batches_without_class_names(lua):
    out = printed(lua, """
        local c = optim.ConfusionMatrix(2)
        c:batchAdd(torch.Tensor({{0.9, 0.1}, {0.2, 0.8}, {0.6, 0.4}}), torch.Tensor({1, 2, 2}))
        print(c)
        c:zero()
        print(c.mat:sum())
    """)
    assert out.splitlines()[:3] == ["ConfusionMatrix:", "[[       1       0]   100.000% ",
                                    " [       1       1]]  50.000% "]
    assert out.splitlines()[-1] == "0"


def test_logger_writes_its_file_and_plot_is_a_no_op(lua, tmp_path):
    path = tmp_path / "logs" / "train.log"
    out = printed(lua, f"""
        local logger = optim.Logger('{path}')
        logger:setNames{{'train error', 'test error'}}
        logger:add{{0.5, 0.25}}
        logger:add{{1e-3, 'n/a'}}
        logger:style{{'-', '-'}}
        logger:plot()
        logger:plot()
        local keyed = optim.Logger('{tmp_path}/keyed.log')
        keyed:add{{['b'] = 2, ['a'] = 1}}
        keyed:add{{['a'] = 3, ['b'] = 4}}
    """)
    assert out == "<Logger> warning: cannot plot with this version of Torch\n"
    assert path.read_text() == ("train error\ttest error\t\n"
                                " 5.0000e-01\t 2.5000e-01\t\n"
                                " 1.0000e-03\tn/a\t\n")
    assert (tmp_path / "keyed.log").read_text() == ("a\tb\t\n 1.0000e+00\t 2.0000e+00\t\n"
                                                    " 3.0000e+00\t 4.0000e+00\t\n")
