"""grad and friends, with HIPS autograd's names, signatures and return types.

A differentiated argument is flattened to its leaves; each leaf is boxed at a new trace
level on the daemon (local values travel inline with the box op); the user's function
runs here on RemoteArrays; then one ``vjp`` op asks the daemon for the cotangent of every
leaf (reverse mode), or one ``tangent`` op reads the output's tangent (forward mode, where
the boxes carried tangents from the start). When the inputs were local, one sync fetches
the results, which come back as numpy values.

Every operator here takes ``argnum`` as autograd does: an int, or a tuple of ints (the
differentiated argument is then the tuple of those arguments).
"""
import inspect
import warnings
from functools import wraps

import numpy as np

from .errors import DaemonError
from .proxy import RemoteArray
from .session import get_session
from . import tree, user_types


# --- autograd's calling convention ----------------------------------------------------------
def _nary(unary_operator):
    """Turn ``op(fun, x, *op_args)`` into autograd's ``op(fun, argnum=0, *op_args)``."""
    @wraps(unary_operator)
    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        @wraps(fun)
        def nary_f(*args, **kwargs):
            @wraps(fun)
            def unary_f(x):
                subargs = list(args)
                if isinstance(argnum, int):
                    subargs[argnum] = x
                else:
                    for i, xi in zip(argnum, x):
                        subargs[i] = xi
                return fun(*subargs, **kwargs)
            x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)
        return nary_f
    return nary_operator


# --- one traced call ------------------------------------------------------------------------
def _session_for(values):
    for v in values:
        if type(v) is RemoteArray:
            return v._session
    return get_session()


def _check_differentiable(leaf):
    if type(leaf) is RemoteArray:
        return leaf
    if isinstance(leaf, (bool, np.bool_)) or (
            isinstance(leaf, (int, np.integer)) and not isinstance(leaf, float)):
        raise TypeError(f"Can't differentiate w.r.t. type {type(leaf)}")
    arr = np.asarray(leaf)
    if not np.issubdtype(arr.dtype, np.inexact):
        raise TypeError(f"Can't differentiate w.r.t. an array of dtype {arr.dtype}")
    return arr


_active_traces = []


def outermost_trace():
    """The outermost trace under way, which outlives every trace inside it (or None)."""
    return _active_traces[0] if _active_traces else None


class _Trace:
    """``fun(x)`` traced at a fresh level: in reverse mode, or forward with tangent ``v``.

    ``records`` keeps alive what client primitives called during the trace need for their
    gradients later (see extend.py); it lives as long as this trace and its vjp closures.
    """

    def __init__(self, fun, x, tangent=None):
        self.records = []
        self.leaves, self.rebuild = tree.flatten(x)
        # values of registered user types are traced here (user_types.py): the daemon
        # boxes a scalar anchor in their place
        self.user_roots = {}
        wire = [np.zeros(()) if user_types.is_registered(leaf) else _check_differentiable(leaf)
                for leaf in self.leaves]
        tangents = [None] * len(wire) if tangent is None else tree.flatten(tangent)[0]
        self.session = s = _session_for(self.leaves)
        self.level = level = s.push_level(forward=tangent is not None)
        _active_traces.append(self)
        try:
            self.boxes = []
            for leaf, t in zip(wire, tangents):
                meta = None if type(leaf) is RemoteArray else (leaf.shape, leaf.dtype)
                kwargs = None if t is None else {"tangent": _tangent_wire(t, leaf)}
                self.boxes.append(RemoteArray(s, s.op("box", [leaf, level], kwargs), level, meta))
            args = list(self.boxes)
            for i, leaf in enumerate(self.leaves):
                if user_types.is_registered(leaf):
                    if tangent is not None:
                        raise NotImplementedError("forward mode through values of user types")
                    args[i], self.user_roots[i] = user_types.start(leaf, self.boxes[i], level)
            self.ans = fun(self.rebuild(args))
        finally:
            _active_traces.remove(self)
            s.pop_level(level)
        self.ans_leaves, self.ans_rebuild = tree.flatten(self.ans)
        self.traced = any(type(a) is RemoteArray and a._level >= level
                          for a in self.ans_leaves)
        if not self.traced and tangent is None:
            warnings.warn("Output seems independent of input.")

    @property
    def local(self):
        """Whether the caller gave plain values (so results come back as numpy values)."""
        return all(type(leaf) is not RemoteArray for leaf in self.leaves) and \
            self.session.level == 0

    def cotangents(self, g, scalar=False):
        """One RemoteArray (or local zeros) per leaf: the VJP of ``g``."""
        s = self.session
        if not self.traced:
            return [self._zeros(leaf) for leaf in self.leaves]
        end = self.ans
        if type(end) is not RemoteArray:
            # Several outputs: the VJP of g is that of the scalar sum_k <g_k, out_k>, built
            # here from the traced outputs (autograd's pairing: no conjugation).
            from .numpy import sum as total
            end = 0.0
            gs = [None] * len(self.ans_leaves) if g is None else tree.flatten(g)[0]
            for gk, out in zip(gs, self.ans_leaves):
                if type(out) is RemoteArray and out._level >= self.level:
                    # (no g: a cotangent of ones for every output, as in autograd)
                    end = end + total(out if gk is None else gk * out)
            g = None
        if self.records:
            s.keep_alive.append(self.records)
        handles = s.op("vjp", [end, g, self.boxes, self.level],
                       {"scalar": True} if scalar else None, out=len(self.boxes))
        # The cotangents may be traced at any level still active around this call.
        return [RemoteArray(s, h, s.level) for h in handles]

    def value_and_tangent(self):
        """(output leaves, their tangents) of a forward-mode trace, this level's boxes off."""
        s = self.session
        values, tangents = [], []
        for out in self.ans_leaves:
            if type(out) is RemoteArray and out._level >= self.level:
                values.append(RemoteArray(s, s.op("value", [out, self.level]), s.level))
                tangents.append(RemoteArray(s, s.op("tangent", [out, self.level]), s.level))
            else:
                values.append(out)
                tangents.append(np.zeros(np.shape(out),
                                         dtype=np.result_type(np.asarray(out), np.float64)))
        return values, tangents

    def _zeros(self, leaf):
        if type(leaf) is RemoteArray:
            return RemoteArray(self.session, self.session.op("zeros_like", [leaf]), 0)
        return np.zeros(np.shape(leaf), dtype=np.result_type(np.asarray(leaf).dtype, np.float64))

    def fetch(self, values):
        """For local callers, numpy values for every RemoteArray in ``values`` (one sync)."""
        return fetch_all(self.session, values) if self.local else list(values)

    def results(self, grads, also=()):
        """Gradients shaped like the argument (and ``also``), fetched for local callers."""
        fetched = self.fetch([*also, *grads])
        also, grads = fetched[:len(also)], fetched[len(also):]
        in_container = isinstance(self.rebuild(self.leaves), (tuple, list, dict))
        grads = [_like(g, leaf, in_container) for g, leaf in zip(grads, self.leaves)]
        if self.user_roots:
            self.session.sync()     # the backward pass has called back with every part
            for i, root in self.user_roots.items():
                grads[i] = user_types.gradient(self.leaves[i], root)
        return self.rebuild(grads), [_plain(a) for a in also]


    def gradient_results(self, with_value=False):
        """grad's (gradients, [value]), raising autograd's TypeError for an output that is
        not a real scalar. Where the output's dtype is not known here, local callers learn
        it in the sync that fetches the gradients; nested traces do not wait for it."""
        output = self.ans
        _check_real_scalar(_known_meta(output))
        also = (output,) if with_value else ()
        learn = self.local and not with_value and type(output) is RemoteArray
        try:
            grads = self.cotangents(None, scalar=True)
            grads, values = self.results(grads, also=(output,) if learn else also)
        except DaemonError as e:
            if e.info.get("type") == "GradientError":
                raise GradientOutputError(e.info, e.location) from None
            raise
        if learn or with_value:
            _check_real_scalar(_known_meta(values[0]))
        return grads, [] if learn else values


class GradientOutputError(DaemonError, TypeError):
    """grad of a function whose output is not a real scalar: a TypeError, as in autograd
    (and a DaemonError when the daemon is the one that noticed)."""


_NOT_REAL_SCALAR = ("Grad only applies to real scalar-output functions. Try jacobian, "
                    "elementwise_grad or holomorphic_grad.")


def _known_meta(value):
    """(shape, dtype) of grad's output when known without asking the daemon, else None."""
    if type(value) is RemoteArray:
        return value._meta
    return np.shape(value), np.asarray(value).dtype


def _check_real_scalar(meta):
    if meta is None:
        return
    shape, dtype = meta
    if dtype.kind == "c" or int(np.prod(shape)) != 1:
        raise GradientOutputError({"type": "GradientError", "op": "grad",
                                   "message": f"{_NOT_REAL_SCALAR} (this one returned shape "
                                              f"{tuple(shape)} and dtype {dtype})"})


def _tangent_wire(t, leaf):
    if type(t) is RemoteArray:
        return t
    t = np.asarray(t)
    if np.iscomplexobj(t) or np.iscomplexobj(leaf):
        return t.astype(np.complex128)
    return t.astype(np.float64)


def fetch_all(session, values):
    """``values`` with every RemoteArray replaced by its value, fetched in one sync."""
    remote = [v for v in values if type(v) is RemoteArray]
    if not remote:
        return list(values)
    fetched, _ = session.sync(fetch=remote)
    by_id = dict(zip(map(id, remote), fetched))
    return [by_id.get(id(v), v) if type(v) is RemoteArray else v for v in values]


def _like(value, leaf, in_container=False):
    """A gradient in the type autograd gives: for a number, a numpy number of its dtype
    (float32 stays float32), or a 0-d array when the number is inside a tuple, list or
    dict; for an array, an array."""
    if type(value) is RemoteArray:
        return value
    if isinstance(leaf, (float, complex, np.inexact)) or (in_container and np.ndim(leaf) == 0):
        value = np.asarray(value, dtype=_number_dtype(leaf, value))
        return value if in_container else value[()]
    return np.asarray(value)


def _number_dtype(leaf, value):
    # The wire carries numpy numbers as Python ones: their dtype is the leaf's.
    if isinstance(leaf, (np.inexact, np.ndarray)):
        return leaf.dtype
    return np.complex128 if isinstance(leaf, complex) or np.iscomplexobj(value) else np.float64


def _plain(value):
    return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value


# --- reverse mode ---------------------------------------------------------------------------
@_nary
def make_vjp(fun, x):
    """make_vjp(fun, argnum)(*args) -> (vjp, ans): ``vjp(g)`` is the cotangent of ``g``."""
    t = _Trace(fun, x)

    def vjp(g):
        grads, _ = t.results(t.cotangents(g))
        return grads

    return vjp, t.ans_rebuild([_plain(a) for a in t.fetch(t.ans_leaves)])


@_nary
def _grad(fun, x):
    grads, _ = _Trace(fun, x).gradient_results()
    return grads


@_nary
def _value_and_grad(fun, x):
    grads, (ans,) = _Trace(fun, x).gradient_results(with_value=True)
    return ans, grads


def grad(fun, argnum=0, optimize=False):
    """The gradient of scalar-valued ``fun`` with respect to argument ``argnum``.

    With ``optimize=True`` the daemon records the call once per argument signature and
    replays the recording on later calls (see adclient.replay for what that requires).
    """
    if optimize:
        from .replay import optimized
        return optimized("grad", fun, argnum)
    return _grad(fun, argnum)


def value_and_grad(fun, argnum=0, optimize=False):
    """(fun(*args), grad(fun)(*args)) from one trace (``optimize``: as for grad)."""
    if optimize:
        from .replay import optimized
        return optimized("value_and_grad", fun, argnum)
    return _value_and_grad(fun, argnum)


@_nary
def grad_and_aux(fun, x):
    """For ``fun`` returning (value, aux): (grad of value, aux)."""
    aux_box = []

    def value_only(x):
        value, aux = fun(x)
        aux_box.append(aux)
        return value

    t = _Trace(value_only, x)
    grads, _ = t.results(t.cotangents(None, scalar=True))
    return grads, aux_box[0]


@_nary
def elementwise_grad(fun, x):
    """The VJP of ``fun`` with a cotangent of ones: the sum of the Jacobian's rows."""
    t = _Trace(fun, x)
    grads, _ = t.results(t.cotangents(None))
    return grads


@_nary
def holomorphic_grad(fun, x):
    """For holomorphic ``fun``: the complex derivative, as the gradient of its real part."""
    from .numpy import real
    if not np.iscomplexobj(x) and type(x) is not RemoteArray:
        warnings.warn("Input to holomorphic_grad is not complex")
    return grad(lambda x: real(fun(x)))(x)


def _shape_of(value):
    return value.shape if type(value) is RemoteArray else np.shape(value)


def _jacobian_end(t):
    """The traced value whose elements the Jacobian's rows differentiate: fun's output,
    or its outputs as one array (a tuple or list of arrays of one shape, as numpy.shape
    sees it)."""
    ans = t.ans
    if isinstance(ans, dict):
        raise TypeError("jacobian needs fun to return an array (or a tuple or list of "
                        "arrays of one shape), not a dict")
    if type(ans) is RemoteArray or not isinstance(ans, (tuple, list)):
        return ans
    from .numpy import array
    return array(ans)


@_nary
def jacobian(fun, x):
    """The Jacobian: shape fun(x).shape + x.shape.

    One ``vjp`` op with ``seeds`` asks for every row: the daemon runs the rows' passes
    together (batched where the ops' rules allow it) and returns them stacked.
    """
    if isinstance(x, (tuple, list, dict)):
        raise ValueError(f"jacobian differentiates with respect to one array, not a "
                         f"{type(x).__name__} (as autograd's jacobian)")
    t = _Trace(fun, x)
    end = _jacobian_end(t)
    s = t.session
    shape = tuple(_shape_of(end)) + tuple(_shape_of(x))
    if not (type(end) is RemoteArray and end._level >= t.level):
        # The output does not depend on x (_Trace has warned).
        leaf = t.leaves[0]
        if type(leaf) is not RemoteArray:
            return np.zeros(shape, dtype=np.result_type(np.asarray(leaf).dtype, np.float64))
        from .numpy import broadcast_to
        return broadcast_to(t._zeros(leaf), shape)
    if t.records:
        s.keep_alive.append(t.records)
    (h,) = s.op("vjp", [end, None, t.boxes, t.level], {"seeds": True}, out=1)
    # The rows may be traced at any level still active around this call.
    rows = RemoteArray(s, h, s.level)
    if t.local:
        (rows,) = t.fetch([rows])
        return np.reshape(rows, shape)
    from .numpy import reshape
    return reshape(rows, shape)


def hessian(fun, argnum=0):
    """The Hessian of scalar-valued ``fun``: the Jacobian of its gradient."""
    return jacobian(jacobian(fun, argnum), argnum)


# --- forward mode ----------------------------------------------------------------------------
@_nary
def make_jvp(fun, x):
    """make_jvp(fun, argnum)(*args) -> ``jvp(v)``, which gives (fun(x), J v) by forward mode."""
    def jvp(v):
        t = _Trace(fun, x, tangent=v)
        values, tangents = t.value_and_tangent()
        fetched = t.fetch([*values, *tangents])
        n = len(values)
        return (t.ans_rebuild([_plain(a) for a in fetched[:n]]),
                t.ans_rebuild([_plain(a) for a in fetched[n:]]))
    return jvp


@_nary
def deriv(fun, x):
    """The derivative of ``fun`` along ones: make_jvp(fun)(x)(ones)[1]."""
    return make_jvp(fun)(x)(np.ones(np.shape(x)) if type(x) is not RemoteArray
                            else RemoteArray(x._session, x._session.op("ones_like", [x]), 0))[1]


# --- products with Hessians and Jacobians ---------------------------------------------------
@_nary
def make_hvp(fun, x):
    """(hvp, grad fun(x)): ``hvp(v)`` is the Hessian-vector product at x, from one trace."""
    return make_vjp(grad(fun))(x)


def hessian_tensor_product(fun, argnum=0):
    """H(f)(x) contracted with a tensor v over all of v's axes: f(x...) -> hvp(*args, v)."""
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        from .numpy import tensordot
        return tensordot(fun_grad(*args, **kwargs), vector, np.ndim(vector))
    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    """v contracted with the Jacobian of ``fun`` over all of v's axes (a VJP, as a function)."""
    def vector_dot_fun(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        from .numpy import tensordot
        return tensordot(vector, fun(*args, **kwargs), axes=np.ndim(vector))
    return jacobian(vector_dot_fun, argnum)


vector_jacobian_product = tensor_jacobian_product


def make_ggnvp(f, g=None, f_argnum=0):
    """Generalized Gauss-Newton-vector products of g(f(x)) at a point: J_f^T H_g J_f v.

    ``g`` defaults to half the squared norm over the last axis, as in autograd.
    """
    from . import numpy as anp
    if g is None:
        def g(y):
            return 0.5 * anp.sum(y ** 2, axis=-1)

    @_nary
    def _make(f, x):
        f_vjp, f_x = make_vjp(f)(x)
        g_hvp, grad_g_x = make_vjp(grad(g))(f_x)
        f_jvp, _ = make_vjp(f_vjp)(np.zeros(np.shape(grad_g_x)) if type(grad_g_x) is not
                                   RemoteArray else anp.zeros_like(grad_g_x))

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)))
        return ggnvp
    return _make(f, f_argnum)


# --- gradients by name -----------------------------------------------------------------------
def grad_named(fun, argname):
    """The gradient with respect to the argument called ``argname``."""
    names = list(inspect.signature(fun).parameters)
    if argname not in names:
        raise ValueError(f"{fun.__name__} has no argument named {argname!r}")
    return grad(fun, names.index(argname))


def multigrad_dict(fun):
    """The gradient with respect to every argument at once, as {argument name: gradient}."""
    signature = inspect.signature(fun)

    @wraps(fun)
    def gradfun(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        names = [n for n, p in signature.parameters.items()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        values = {n: bound.arguments[n] for n in names}

        def of_dict(d):
            call = signature.bind_partial(**d)
            return fun(*call.args, **call.kwargs)
        return grad(of_dict)(values)
    return gradfun
