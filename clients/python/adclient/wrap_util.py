"""autograd.wrap_util: turning operators on unary functions into autograd-style n-ary ones.

``unary_to_nary(op)`` makes ``op(fun, x, *op_args)`` callable as ``op(fun, argnum)(*args)``,
with ``argnum`` an int or a tuple of ints; the result is named and documented after
``op`` and ``fun`` as autograd names it (``grad_of_f_wrt_argnum_0``).
"""
from .util import subvals


def get_name(f):
    return getattr(f, "__name__", "[unknown name]")


def get_doc(f):
    return getattr(f, "__doc__", "")


def wraps(fun, namestr="{fun}", docstr="{doc}", **fields):
    """Name and document the decorated function after ``fun`` through format strings."""
    def rename(f):
        try:
            f.__name__ = namestr.format(fun=get_name(fun), **fields)
            f.__doc__ = docstr.format(fun=get_name(fun), doc=get_doc(fun), **fields)
        except Exception:   # a name that cannot be set (a builtin) is left alone
            pass
        return f
    return rename


def wrap_nary_f(fun, op, argnum):
    return wraps(fun, "{op}_of_{fun}_wrt_argnum_{argnum}",
                 "{op} of function {fun} with respect to argument number {argnum}. "
                 "Takes the same arguments as {fun} but returns the {op}.",
                 op=get_name(op), argnum=argnum)


def unary_to_nary(unary_operator):
    """``unary_operator(fun, x, *op_args)`` as ``operator(fun, argnum=0, *op_args)(*args)``."""
    @wraps(unary_operator)
    def nary_operator(fun, argnum=0, *op_args, **op_kwargs):
        if not isinstance(argnum, (int, tuple, list)):
            raise TypeError(f"argnum must be an int or a tuple of ints, not {argnum!r}")

        @wrap_nary_f(fun, unary_operator, argnum)
        def nary_f(*args, **kwargs):
            def unary_f(x):
                if isinstance(argnum, int):
                    return fun(*subvals(args, [(argnum, x)]), **kwargs)
                return fun(*subvals(args, zip(argnum, x)), **kwargs)
            wraps(fun)(unary_f)
            x = args[argnum] if isinstance(argnum, int) else tuple(args[i] for i in argnum)
            return unary_operator(unary_f, x, *op_args, **op_kwargs)
        return nary_f
    return nary_operator
