"""Every public module path of HIPS autograd imports under adclient with the same public
names, and the important ones behave as autograd's do (autograd is the oracle).

A name counts as public when it does not start with an underscore and is not a module
autograd merely imported (np, scipy, warnings) or an object of the standard library
(partial, OrderedDict). The names adclient leaves out on purpose are listed below, each
group with its reason; docs/AUTOGRAD.md says the same for readers.
"""
import importlib
import pkgutil
import sys
import types
import warnings

import numpy as onp
import pytest

import autograd
import autograd.numpy as anp

import adclient

# --- deliberate exceptions ------------------------------------------------------------------
RULES = ("autograd's own gradient rules for numpy and scipy and their helpers: adclient's "
         "rules are the daemon's (adserver/ops)")
INCIDENTAL = ("imported by autograd's module for its own use; import it from where it "
              "belongs (adclient.extend, adclient.numpy, adclient.scipy.special)")
GRAPH = ("autograd's client-side graph machinery: the daemon holds adclient's traces, so "
         "there is no graph of Nodes, sparse cotangent or container box in the client")
WRAPPER = ("autograd's machinery for wrapping numpy's namespace: adclient.numpy is built "
           "from the daemon's op vocabulary instead")
DEPRECATED = "deprecated in autograd already"

EXCEPTIONS = {
    "builtins": (GRAPH, """Box ContainerVSpace DictBox DictMeta DictVSpace ListMeta ListVSpace
        NamedTupleVSpace SequenceBox SequenceVSpace SparseObject TupleMeta TupleVSpace VSpace
        container_take container_untake fwd_grad_make_sequence grad_container_take
        grad_sequence_extend_left grad_sequence_extend_right make_sequence
        sequence_extend_left sequence_extend_right dict_ isinstance_ list_ tuple_ type_
        defjvp defjvp_argnum defvjp defvjp_argnum notrace_primitive primitive subvals
        vspace"""),
    "core": (GRAPH, """SparseBox SparseObject add_outgrads backward_pass sparse_add
        sparse_object_types sum_outgrads translate_jvp translate_vjp identity_jvp
        identity_vjp primitive_ primitive_with_deprecation_warnings deprecated_defgrad
        deprecated_defvjp deprecated_defvjp_is_zero deprecated_defvjp_message"""),
    "extend": (GRAPH, "SparseObject"),
    "tracer": (GRAPH, "TraceStack trace_stack find_top_boxed_args trace_primitives_map"),
    "misc.tracers": (GRAPH, "ConstGraphNode FullGraphNode full_graph"),
    "misc.fixed_points": (RULES, "fixed_point_vjp tuple"),
    "misc.flatten": (INCIDENTAL, "make_vjp type"),
    "test_util": (INCIDENTAL, "get_name unary_to_nary"),
    "numpy": (WRAPPER, """Box array_from_args c_class concatenate_args custom_where
        make_diagonal metadata notrace_functions notrace_primitive numpy_version
        parse_einsum_input primitive r_class wrap_if_boxes_inside wrap_intdtype
        wrap_namespace"""),
    "numpy.random": (WRAPPER, "wrap_namespace"),
    "numpy.numpy_boxes": (GRAPH, """SequenceBox diff_methods method_name nondiff_methods
        primitive trace_primitives_map type_"""),
    "numpy.numpy_vspaces": (GRAPH, """EigResultVSpace EighResultVSpace NamedTupleVSpace
        QRResultVSpace SVDResultVSpace SlogdetResultVSpace type_"""),
    "numpy.fft": (RULES, """check_even_shape check_no_repeated_axes fft_grad get_fft2_args
        get_fft_args get_fftn_args irfft_grad make_rfft_factors rfft_grad truncate_pad
        match_complex defvjp primitive vspace wrap_namespace"""),
    "numpy.linalg": (RULES, """T add2d grad_cholesky grad_eig grad_eigh grad_inv grad_pinv
        grad_solve grad_svd norm_jvp norm_vjp defjvp defvjp wrap_namespace"""),
    "numpy.numpy_jvps": (RULES, """ArrayBox JVPNode atleast_jvpmaker balanced_eq broadcast
        def_linear defjvp defjvp_argnum dot_adjoint_0 dot_adjoint_1 forward_grad_np_std
        forward_grad_np_var fun func fwd_grad_chooser fwd_grad_concatenate_args
        fwd_grad_partition fwd_grad_sort nograd_functions np_abs_jvp np_conj_jvp
        register_notrace tensordot_adjoint_0 tensordot_adjoint_1 untake vspace"""),
    "numpy.numpy_vjps": (RULES, """ArrayBox SparseObject VJPNode array_from_args_gradmaker
        array_from_scalar_or_array_gradmaker balanced_eq defvjp defvjp_argnum
        dot_adjoint_0 dot_adjoint_1 dot_vjp_0 dot_vjp_1 fun func grad_broadcast_to
        grad_chooser grad_concatenate_args grad_diff grad_einsum grad_gradient grad_inner
        grad_kron grad_np_cumsum grad_np_mean grad_np_prod grad_np_std grad_np_sum
        grad_np_var grad_partition grad_repeat grad_reshape_list grad_rollaxis grad_sort
        grad_tile grad_transpose matmul_adjoint_0 matmul_adjoint_1 matmul_vjp_0
        matmul_vjp_1 nograd_functions np_abs_vjp np_conj_vjp pad_vjp primitive
        register_notrace repeat_to_match_shape reverse_axis tensordot_adjoint_0
        tensordot_adjoint_1 tensordot_vjp_0 tensordot_vjp_1 unbroadcast_einsum unpermuter
        untake vspace wrapped_reshape"""),
    "scipy.integrate": (RULES, "argnums_unpack grad_odeint tuple"),
    "scipy.linalg": (RULES, """grad_solve_banded grad_solve_triangular defjvp defjvp_argnums
        defvjp defvjp_argnums wrap_namespace"""),
    "scipy.signal": (RULES, """as_strided compute_conv_size einsum_tensordot flipped_idxs
        grad_convolve parse_axes defvjp primitive"""),
    "scipy.special": (RULES, """fwd_grad_logsumexp make_gammainc_vjp_arg1
        make_grad_logsumexp repeat_to_match_shape unbroadcast_f inv_root_pi root_pi defjvp
        defvjp primitive"""),
    "scipy.stats.beta": (RULES, """grad_beta_logpdf_arg0 grad_beta_logpdf_arg1
        grad_beta_logpdf_arg2 beta psi unbroadcast_f defvjp primitive"""),
    "scipy.stats.chi2": (RULES, "grad_chi2_logpdf gamma unbroadcast_f defvjp primitive"),
    "scipy.stats.dirichlet": (RULES, "digamma defvjp primitive"),
    "scipy.stats.gamma": (RULES, """grad_gamma_logpdf_arg0 grad_gamma_logpdf_arg1 gamma psi
        unbroadcast_f defvjp primitive"""),
    "scipy.stats.multivariate_normal": (RULES, """covgrad generalized_outer_product solve
        unbroadcast_f defvjp primitive"""),
    "scipy.stats.norm": (RULES, "unbroadcast_f defvjp primitive"),
    "scipy.stats.poisson": (RULES, "grad_poisson_logpmf unbroadcast_f defvjp primitive"),
    "scipy.stats.t": (RULES, """grad_tlogpdf_df grad_tlogpdf_diff grad_tlogpdf_loc
        grad_tlogpdf_scale grad_tlogpdf_x psi unbroadcast_f defvjp primitive"""),
}


def autograd_modules():
    names = [""]
    for info in pkgutil.walk_packages(autograd.__path__, "autograd."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name[len("autograd."):])
    return names


MODULES = autograd_modules()


def _qualified(suffix, root):
    return f"{root}.{suffix}" if suffix else root


def _is_public(module, name):
    if name.startswith("_"):
        return False
    try:
        value = getattr(module, name)
    except AttributeError:      # listed by autograd.numpy's __dir__ but gone from numpy 2
        return False
    if isinstance(value, types.ModuleType):
        return value.__name__ == f"{module.__name__}.{name}"    # its own submodules only
    origin = (getattr(value, "__module__", None) or "").split(".")[0]
    return origin not in sys.stdlib_module_names


def test_the_walk_finds_autograd_modules():
    assert {"core", "tracer", "scipy.stats.multivariate_normal", "misc.tracers",
            "numpy.numpy_boxes", "differential_operators"} <= set(MODULES)


def test_exceptions_name_real_autograd_modules():
    assert set(EXCEPTIONS) <= set(MODULES)


@pytest.mark.parametrize("suffix", MODULES, ids=lambda s: s or "autograd")
def test_module_imports_with_the_same_public_names(suffix):
    # every module first, so that submodules are attributes of their packages as in autograd
    for other in MODULES:
        importlib.import_module(_qualified(other, "adclient"))
    theirs = importlib.import_module(_qualified(suffix, "autograd"))
    ours = importlib.import_module(_qualified(suffix, "adclient"))
    reason, names = EXCEPTIONS.get(suffix, ("", ""))
    excepted = set(names.split())
    public = {n for n in dir(theirs) if _is_public(theirs, n)}
    missing = sorted(n for n in public - excepted if not hasattr(ours, n))
    assert not missing, f"adclient.{suffix or ''} lacks {missing}"
    # (an excepted name adclient gains later, as adclient.numpy gains functions, is fine)


def test_stats_distributions_are_submodules_and_attributes():
    import adclient.scipy.stats as stats
    import adclient.scipy.stats.multivariate_normal as mvn
    assert isinstance(stats.norm, types.ModuleType) and stats.multivariate_normal is mvn
    import autograd.scipy.stats.multivariate_normal as amvn
    x, mean, cov = onp.array([0.3, -0.2]), onp.zeros(2), onp.array([[2.0, 0.3], [0.3, 1.0]])
    assert onp.allclose(mvn.logpdf(x, mean, cov), amvn.logpdf(x, mean, cov))
    ours = adclient.grad(lambda x: mvn.logpdf(x, mean, cov))(x)
    assert onp.allclose(ours, autograd.grad(lambda x: amvn.logpdf(x, mean, cov))(x))
    assert stats.norm.rvs is not None    # scipy's own attributes fall through


# --- behaviour against autograd -------------------------------------------------------------
import adclient.numpy as np  # noqa: E402


def test_grad_named_and_multigrad_dict():
    from adclient.differential_operators import grad_named, multigrad_dict
    import autograd.differential_operators as ado

    def f(a, b, c=2.0):
        return a * b ** 2 + c * a

    def af(a, b, c=2.0):
        return a * b ** 2 + c * a
    assert onp.isclose(grad_named(f, "b")(1.5, 0.5), ado.grad_named(af, "b")(1.5, 0.5))
    # autograd's multigrad_dict needs the Python 2 package funcsigs: its answer is the
    # gradient in each argument, so those are the oracle
    ours = multigrad_dict(f)(1.5, 0.5)
    assert list(ours) == ["a", "b", "c"]
    for argnum, name in enumerate(ours):
        assert onp.isclose(ours[name], autograd.grad(af, argnum)(1.5, 0.5, 2.0))


def test_holomorphic_grad():
    from adclient.differential_operators import holomorphic_grad
    z = 0.7 + 0.4j
    ours = holomorphic_grad(lambda z: np.exp(z) * z)(z)
    assert onp.isclose(ours, autograd.holomorphic_grad(lambda z: anp.exp(z) * z)(z))


def test_make_ggnvp_and_deriv():
    from adclient.differential_operators import make_ggnvp, deriv
    W = onp.random.RandomState(0).randn(3, 2)
    v, x = onp.array([0.5, -1.0]), onp.array([0.2, 0.1])
    ours = make_ggnvp(lambda x: np.tanh(np.dot(W, x)))(x)(v)
    theirs = autograd.make_ggnvp(lambda x: anp.tanh(anp.dot(W, x)))(x)(v)
    assert onp.allclose(ours, theirs)
    assert onp.isclose(deriv(np.sin)(0.3), autograd.deriv(anp.sin)(0.3))


def test_make_jvp_reversemode_and_core_make_vjp():
    from adclient.differential_operators import make_jvp_reversemode
    from adclient.core import make_vjp
    import autograd.core
    import autograd.differential_operators as ado
    x, v = onp.array([0.3, 0.8]), onp.array([1.0, -2.0])
    ours = make_jvp_reversemode(lambda x: np.sin(x) * x[0])(x)(v)
    assert onp.allclose(ours, ado.make_jvp_reversemode(lambda x: anp.sin(x) * x[0])(x)(v))
    vjp, ans = make_vjp(np.cos, x)
    avjp, aans = autograd.core.make_vjp(anp.cos, x)
    assert onp.allclose(ans, aans) and onp.allclose(vjp(v), avjp(v))


def test_const_graph_gives_the_functions_answers():
    from adclient.misc import const_graph
    from autograd.misc import const_graph as aconst_graph

    def f(x, scale):
        return np.sum(np.sin(x) * scale)

    def af(x, scale):
        return anp.sum(anp.sin(x) * scale)
    ours, theirs = const_graph(f), aconst_graph(af)
    for x in (onp.array([0.1, 0.2]), onp.array([1.0, -1.0])):
        assert onp.isclose(ours(x, 3.0), theirs(x, 3.0))
    assert onp.allclose(adclient.grad(lambda x: ours(x, 3.0))(x),
                        autograd.grad(lambda x: theirs(x, 3.0))(x))


def test_unary_to_nary_decorates_user_operators():
    from adclient.wrap_util import unary_to_nary
    from autograd.wrap_util import unary_to_nary as aunary_to_nary

    def doubled_grad(grad, fun, x):
        return 2 * grad(fun)(x)
    ours = unary_to_nary(lambda fun, x: doubled_grad(adclient.grad, fun, x))
    theirs = aunary_to_nary(lambda fun, x: doubled_grad(autograd.grad, fun, x))

    def f(a, b):
        return a ** 3 * b
    assert onp.isclose(ours(f, 1)(2.0, 1.5), theirs(f, 1)(2.0, 1.5))
    assert onp.allclose(ours(f, (0, 1))(2.0, 1.5), theirs(f, (0, 1))(2.0, 1.5))
    assert ours(f).__name__ == theirs(f).__name__ == "<lambda>_of_f_wrt_argnum_0"


def test_util_and_tracer_helpers():
    from adclient.util import subvals, toposort
    from adclient.tracer import isbox, getval, primitive
    import autograd.util as au
    assert subvals((1, 2, 3), [(0, 9), (2, 7)]) == au.subvals((1, 2, 3), [(0, 9), (2, 7)])
    parents = lambda n: [n + 1, n + 2] if n < 4 else []    # noqa: E731
    assert list(toposort(1, parents)) == list(au.toposort(1, parents))
    seen = []

    @primitive
    def probe(x):
        return x

    def f(x):
        seen.append((isbox(x), isbox(getval(x))))
        return np.sum(x ** 2)
    adclient.grad(f)(onp.ones(2))
    assert seen == [(True, False)] and not isbox(1.0)


def test_primitive_vjps_view_reads_and_writes_the_rules():
    from adclient.core import primitive_vjps
    from adclient.extend import primitive

    @primitive
    def cube(x):
        return x ** 3
    assert cube not in primitive_vjps
    primitive_vjps[cube] = lambda argnums, ans, args, kwargs: lambda g: (g * 3 * args[0] ** 2,)
    assert cube in primitive_vjps
    assert onp.isclose(adclient.grad(cube)(2.0), 12.0)


def _make_user_type(lib):
    """A function-valued type, differentiated as in autograd's RKHS example."""
    primitive, defvjp, Box, VSpace = lib

    class Bumps:
        def __init__(self, weights=None):
            self.weights = dict(weights or {})

        @primitive
        def __call__(self, x):
            return sum([w * onp.exp(-(x - c) ** 2) for c, w in self.weights.items()], 0.0)

    def bump_vjp(ans, f, x):
        return lambda g: Bumps({x: g})
    defvjp(Bumps.__call__, bump_vjp)

    class BumpsBox(Box, Bumps):
        pass
    BumpsBox.register(Bumps)

    class BumpsVSpace(VSpace):
        def __init__(self, value):
            pass

        def zeros(self):
            return Bumps()

        def _add(self, f, g):
            weights = dict(f.weights)
            for c, w in g.weights.items():
                weights[c] = weights.get(c, 0.0) + w
            return Bumps(weights)

        _mut_add = _add     # autograd sums cotangents in place with it

        def _scalar_mul(self, f, a):
            return Bumps({c: a * w for c, w in f.weights.items()})
    BumpsVSpace.register(Bumps)
    return Bumps, BumpsVSpace


def test_user_box_and_vspace_registration_inside_grad():
    import adclient.extend as ours_ext
    import autograd.extend as their_ext
    xs, ys = [0.0, 1.0, 2.0], [1.0, 2.0, 1.0]
    results, ours_type = [], None
    for ext, grad in ((ours_ext, adclient.grad), (their_ext, autograd.grad)):
        Bumps, vs = _make_user_type((ext.primitive, ext.defvjp, ext.Box, ext.VSpace))
        ours_type = ours_type or (Bumps, vs)

        def loss(f):
            return sum((f(x) - y) ** 2 for x, y in zip(xs, ys))
        f = Bumps()
        for _ in range(3):
            g = grad(loss)(f)
            f = vs(f).add(f, vs(f).scalar_mul(g, -0.1))
        results.append({c: float(w) for c, w in f.weights.items()})
    assert results[0].keys() == results[1].keys() == set(xs)
    assert all(onp.isclose(results[0][c], results[1][c]) for c in results[1])
    Bumps, vs = ours_type
    assert isinstance(ours_ext.vspace(Bumps()), vs)


def test_quick_grad_check_warns_as_autograd_does():
    from adclient.util import quick_grad_check
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quick_grad_check(lambda x: np.sum(np.sin(x)), onp.array([0.1, 0.2]))
    assert any("deprecated" in str(w.message) for w in caught)
