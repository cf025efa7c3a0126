"""What the wire may pass to an op: parameter kinds and signatures, deny by default.

Every registered op declares a ``Signature``: its positional parameters in the order its
function takes them, the keyword-only ones, and for each the kind of value it accepts.
``Signature.check`` runs on an op's arguments after handles are resolved and before the
op runs; anything it does not name is refused with a ``ParamError`` that says which
argument of which op was wrong. That is what keeps ``where=False``, ``out=``, ``casting=``,
object dtypes and strings standing in for arrays from ever reaching numpy: a parameter
the table does not list cannot be passed at all.

Kinds are small objects with a ``check(value)`` that returns nothing and raises
``ParamError`` with what was wrong. Their names (``kind.name``) appear in docs/OPS.md.
"""
import numpy as np

from adproto import DTYPES
from ..engine.tracer import Box

MAX_RANK = 64           # axes in a shape, an axis tuple, a permutation
MAX_ITEMS = 1 << 20     # items of a list argument (numbers, arrays to stack, indices)
MAX_DEPTH = 32          # nesting of list arguments
MAX_STRING = 256        # characters of a string argument (an einsum spec, a mode name)
MAX_INT = 1 << 62       # magnitude of an integer argument


class ParamError(Exception):
    """An op's argument is not one its table accepts; the message says which and why."""


def describe(value, limit=60):
    """A short description of a client's value for an error message: never its whole repr."""
    t = type(value)
    while t is Box:
        value = value._value
        t = type(value)
    if t is np.ndarray:
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if t in (list, tuple):
        return f"a {t.__name__} of {len(value)} items"
    if t is str:
        shown = value if len(value) <= limit else value[:limit] + "..."
        return f"the string {shown!r}"
    if t in (int, float, bool, complex) or isinstance(value, np.generic):
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + "..."
    if value is None:
        return "nil"
    return f"a {t.__name__}"


# --- kinds ----------------------------------------------------------------------------------
class Kind:
    name = "?"

    def check(self, v):
        raise NotImplementedError

    def __or__(self, other):
        return OneOf(self, other)

    def __repr__(self):
        return self.name


_NUMBER_TYPES = (int, float, bool, complex)
_ALLOWED = frozenset(np.dtype(n) for n in DTYPES)


def _numeric_leaves(v, depth, budget):
    """Check a nested list of numbers, arrays and traced values; returns items left."""
    if depth > MAX_DEPTH:
        raise ParamError(f"lists nested deeper than {MAX_DEPTH}")
    for x in v:
        t = type(x)
        if t is list or t is tuple:
            budget = _numeric_leaves(x, depth + 1, budget - 1)
        elif t in _NUMBER_TYPES or t is np.ndarray or t is Box or isinstance(x, np.generic):
            budget -= 1
        else:
            raise ParamError(f"a list of numbers cannot hold {describe(x)}")
        if budget < 0:
            raise ParamError(f"a list argument holds more than {MAX_ITEMS} items; send an "
                             "array instead")
    return budget


class _Array(Kind):
    """An array: a handle's value, a number, or a (nested) list of numbers."""

    name = "array"

    def check(self, v):
        t = type(v)
        if t is np.ndarray or t is Box or t is float or t is int:
            return
        if t is bool or t is complex or isinstance(v, np.generic):
            return
        if t is list or t is tuple:
            _numeric_leaves(v, 0, MAX_ITEMS)
            return
        raise ParamError(f"expected an array or a number, got {describe(v)}")


class _Arrays(Kind):
    """A list of arrays (what concatenate and stack take)."""

    name = "list of arrays"

    def check(self, v):
        if type(v) is np.ndarray or type(v) is Box:
            return      # numpy iterates over the first axis of one array
        if type(v) not in (list, tuple):
            raise ParamError(f"expected a list of arrays, got {describe(v)}")
        if len(v) > MAX_ITEMS:
            raise ParamError(f"a list of {len(v)} arrays; at most {MAX_ITEMS}")
        for x in v:
            ARRAY.check(x)


class _Int(Kind):
    def __init__(self, lo=-MAX_INT, hi=MAX_INT, name="integer"):
        self.lo, self.hi, self.name = lo, hi, name

    def check(self, v):
        if isinstance(v, np.integer):
            v = int(v)
        if type(v) is not int:
            raise ParamError(f"expected an integer, got {describe(v)}")
        if not self.lo <= v <= self.hi:
            raise ParamError(f"{v} is out of range [{self.lo}, {self.hi}]")


class _Float(Kind):
    """A real number (an integer is one too)."""

    name = "number"

    def check(self, v):
        if type(v) in (int, float) or isinstance(v, (np.integer, np.floating)):
            return
        if type(v) is np.ndarray and v.ndim == 0 and v.dtype.kind in "iuf":
            return
        raise ParamError(f"expected a real number, got {describe(v)}")


class _Bool(Kind):
    name = "boolean"

    def check(self, v):
        if type(v) is bool or isinstance(v, np.bool_):
            return
        if type(v) is int and v in (0, 1):
            return      # Lua 5.3+ and some clients send 0 and 1
        raise ParamError(f"expected true or false, got {describe(v)}")


class _NoneKind(Kind):
    name = "nil"

    def check(self, v):
        if v is not None:
            raise ParamError(f"expected nil, got {describe(v)}")


class _Axes(Kind):
    """nil, an axis, or a list of distinct axes."""

    name = "axis"

    def check(self, v):
        if v is None:
            return
        if type(v) in (list, tuple):
            if len(v) > MAX_RANK:
                raise ParamError(f"{len(v)} axes; at most {MAX_RANK}")
            for a in v:
                AXIS1.check(a)
            return
        AXIS1.check(v)


class _Shape(Kind):
    """A shape: a length, or a list of lengths (each at least 0; -1 where it may be inferred)."""

    def __init__(self, lo=0, name="shape"):
        self.lo, self.name = lo, name

    def check(self, v):
        if isinstance(v, (int, np.integer)) and type(v) is not bool:
            if not self.lo <= v <= MAX_INT:
                raise ParamError(f"a length of {v}")
            return
        if type(v) not in (list, tuple):
            raise ParamError(f"expected a shape (a list of lengths), got {describe(v)}")
        if len(v) > MAX_RANK:
            raise ParamError(f"a shape of {len(v)} axes; at most {MAX_RANK}")
        for n in v:
            if not isinstance(n, (int, np.integer)) or type(n) is bool or \
                    not self.lo <= n <= MAX_INT:
                raise ParamError(f"a shape's lengths must be integers of at least {self.lo}, "
                                 f"got {describe(n)}")


class _Dtype(Kind):
    """nil or the name of an allowed dtype (the wire's whitelist, PROTOCOL.md section 4)."""

    name = "dtype"
    PYTHON = {"float": "float64", "int": "int64", "bool": "bool", "complex": "complex128"}

    def check(self, v):
        if v is None:
            return
        if type(v) is not str or len(v) > 32:
            raise ParamError(f"expected a dtype name, got {describe(v)}")
        name = self.PYTHON.get(v, v)
        if name not in DTYPES:
            raise ParamError(f"dtype {v!r} is not allowed; allowed: "
                             f"{', '.join(sorted(DTYPES))}")


class Choice(Kind):
    """One of a fixed set of strings (or other constants)."""

    def __init__(self, *values):
        self.values = frozenset(values)
        self.name = "one of " + ", ".join(sorted(map(repr, values)))

    def check(self, v):
        try:
            if v in self.values and type(v) in (str, type(None), int, float, bool):
                return
        except TypeError:
            pass
        raise ParamError(f"expected {self.name}, got {describe(v)}")


class Text(Kind):
    """A short string whose characters are all in ``alphabet``."""

    def __init__(self, alphabet, maxlen=MAX_STRING, name="string"):
        self.alphabet, self.maxlen, self.name = frozenset(alphabet), maxlen, name

    def check(self, v):
        if type(v) is not str:
            raise ParamError(f"expected a {self.name}, got {describe(v)}")
        if len(v) > self.maxlen:
            raise ParamError(f"a {self.name} of {len(v)} characters; at most {self.maxlen}")
        bad = set(v) - self.alphabet
        if bad:
            raise ParamError(f"a {self.name} cannot hold {''.join(sorted(bad))[:10]!r}")


class OneOf(Kind):
    def __init__(self, *kinds):
        flat = []
        for k in kinds:
            flat.extend(k.kinds if isinstance(k, OneOf) else [k])
        self.kinds = tuple(flat)
        self.name = " or ".join(k.name for k in self.kinds)

    def check(self, v):
        errors = []
        for k in self.kinds:
            try:
                k.check(v)
                return
            except ParamError as exc:
                errors.append(str(exc))
        raise ParamError(f"expected {self.name}: " + "; ".join(errors))


class ListOf(Kind):
    """A list (or tuple) of at most ``most`` values of one kind."""

    def __init__(self, kind, most=MAX_RANK):
        self.kind, self.most = kind, most
        self.name = f"list of {kind.name}"

    def check(self, v):
        if type(v) not in (list, tuple):
            raise ParamError(f"expected a {self.name}, got {describe(v)}")
        if len(v) > self.most:
            raise ParamError(f"a list of {len(v)} items; at most {self.most}")
        for x in v:
            self.kind.check(x)


class _Any(Kind):
    """Anything the session itself checks (only for session-built arguments)."""

    name = "any"

    def check(self, v):
        return


ARRAY = _Array()
ARRAYS = _Arrays()
INT = _Int()
NONNEG = _Int(0, MAX_INT, "non-negative integer")
AXIS1 = _Int(-MAX_RANK, MAX_RANK - 1, "axis")
AXIS = _Axes()
SHAPE = _Shape()
FLOAT = _Float()
BOOL = _Bool()
NONE = _NoneKind()
DTYPE = _Dtype()
ANY = _Any()


def optional(kind):
    return OneOf(kind, NONE)


# --- signatures -----------------------------------------------------------------------------
class Param:
    __slots__ = ("name", "kind", "required", "index")

    def __init__(self, name, kind, required, index):
        self.name, self.kind, self.required, self.index = name, kind, required, index


class Signature:
    """An op's parameters: positional ones in order, then keyword-only ones.

    ``Signature(("x", ARRAY), ("axis", AXIS, None), kw={"keepdims": BOOL})`` takes one
    required array, an optional axis (by position or by name), and keepdims by name only.
    A positional entry with a third item (its default, never used: the op's own default
    applies) is optional. ``star`` is the kind of any further positional arguments
    (``*arrays``), with at most ``most`` of them.
    """

    __slots__ = ("positional", "byname", "star", "most", "required", "fast")

    def __init__(self, *positional, kw=None, star=None, most=MAX_ITEMS):
        self.positional = []
        self.byname = {}
        for i, entry in enumerate(positional):
            name, kind = entry[0], entry[1]
            p = Param(name, kind, len(entry) < 3, i)
            if self.positional and p.required and not self.positional[-1].required:
                raise ValueError(f"required parameter {name!r} after an optional one")
            self.positional.append(p)
            self.byname[name] = p
        for name, kind in (kw or {}).items():
            self.byname[name] = Param(name, kind, False, None)
        self.star = star
        self.most = most
        self.required = sum(p.required for p in self.positional)
        # Arrays only, by position: the elementwise ops' common case, checked in one loop.
        self.fast = star is None and all(p.kind is ARRAY for p in self.positional)

    def check(self, args, kwargs):
        """Raise ParamError unless ``args`` and ``kwargs`` fit this signature."""
        n = len(args)
        positional = self.positional
        if n > len(positional):
            if self.star is None:
                raise ParamError(f"takes at most {len(positional)} positional argument(s), "
                                 f"got {n}")
            if n - len(positional) > self.most:
                raise ParamError(f"takes at most {self.most} further arguments, got "
                                 f"{n - len(positional)}")
        if self.fast and n == self.required and not kwargs:
            for a in args:
                t = type(a)
                if t is not np.ndarray and t is not Box and t is not float and t is not int:
                    ARRAY.check(a)
            return
        for i, a in enumerate(args):
            if i < len(positional):
                p = positional[i]
                try:
                    p.kind.check(a)
                except ParamError as exc:
                    raise ParamError(f"argument {i + 1} ({p.name}): {exc}") from None
            else:
                try:
                    self.star.check(a)
                except ParamError as exc:
                    raise ParamError(f"argument {i + 1}: {exc}") from None
        for key, v in kwargs.items():
            p = self.byname.get(key) if type(key) is str else None
            if p is None:
                raise ParamError(f"accepts no keyword argument {describe(key)}"
                                 + self._accepted())
            if p.index is not None and p.index < n:
                raise ParamError(f"got {key!r} both by position and by name")
            try:
                p.kind.check(v)
            except ParamError as exc:
                raise ParamError(f"keyword {key!r}: {exc}") from None
        if n < self.required:
            for p in positional[n:self.required]:
                if p.name not in kwargs:
                    raise ParamError(f"missing argument {p.name!r}")

    def _accepted(self):
        names = sorted(self.byname)
        return f" (it accepts: {', '.join(names)})" if names else " (it takes none)"

    def describe(self):
        """One line for docs: ``x: array, axis: axis = ..., *, keepdims: boolean``."""
        parts = [f"{p.name}: {p.kind.name}" + ("" if p.required else " = ...")
                 for p in self.positional]
        if self.star is not None:
            parts.append(f"*{self.star.name}")
        kwonly = [p for p in self.byname.values() if p.index is None]
        if kwonly:
            if self.star is None:
                parts.append("*")
            parts += [f"{p.name}: {p.kind.name}" for p in kwonly]
        return ", ".join(parts)


# --- integer data, indices and Python's scalar types (shape.py, indexing.py) ---------------
def _unboxed(v):
    while type(v) is Box:
        v = v._value
    return v


def _integer_leaves(v, depth, budget, bools):
    """Check a nested list of integers (and booleans if ``bools``); returns items left."""
    if depth > MAX_DEPTH:
        raise ParamError(f"lists nested deeper than {MAX_DEPTH}")
    for x in v:
        t = type(x)
        if t is list or t is tuple:
            budget = _integer_leaves(x, depth + 1, budget - 1, bools)
        elif t is int or isinstance(x, np.integer) or \
                (bools and (t is bool or isinstance(x, np.bool_))):
            budget -= 1
        else:
            raise ParamError(f"a list of integers cannot hold {describe(x)}")
        if budget < 0:
            raise ParamError(f"a list argument holds more than {MAX_ITEMS} items; send an "
                             "array instead")
    return budget


class _Integers(Kind):
    """Integer data: an integer, an integer array (a handle's), or a list of integers;
    with ``bools``, boolean ones too (a mask)."""

    def __init__(self, bools=False, name="integers"):
        self.bools, self.name = bools, name
        self.kinds = "iub" if bools else "iu"

    def check(self, v):
        v = _unboxed(v)
        t = type(v)
        if t is np.ndarray:
            if v.dtype.kind in self.kinds:
                return
        elif t is int or isinstance(v, np.integer) or \
                (self.bools and (t is bool or isinstance(v, np.bool_))):
            return
        elif t is list or t is tuple:
            _integer_leaves(v, 0, MAX_ITEMS, self.bools)
            return
        raise ParamError(f"expected {self.name}, got {describe(v)}")


class _SliceEnd(Kind):
    """A slice's start, stop or step: nil, an integer, or a 0-d integer array (a handle's)."""

    name = "slice bound"

    def check(self, v):
        v = _unboxed(v)
        if v is None or type(v) is int or isinstance(v, np.integer):
            return
        if type(v) is np.ndarray and v.ndim == 0 and v.dtype.kind in "iu":
            return
        raise ParamError(f"a slice's bounds are integers or nil, got {describe(v)}")


class _Index(Kind):
    """numpy's index: an integer, a slice of integers, nil (a new axis), Ellipsis, an
    integer or boolean array (or a list of them), or a tuple of these."""

    name = "index"

    def check(self, v):
        if type(v) is tuple:
            if len(v) > MAX_RANK:
                raise ParamError(f"an index of {len(v)} parts; at most {MAX_RANK}")
            for part in v:
                if type(part) is tuple:
                    raise ParamError("an index's parts cannot be tuples; send an array")
                self._part(part)
        else:
            self._part(v)

    @staticmethod
    def _part(p):
        if p is None or p is Ellipsis:
            return
        if type(p) is slice:
            _SLICE_END.check(p.start)
            _SLICE_END.check(p.stop)
            _SLICE_END.check(p.step)
            return
        try:
            INDEX_ARRAY.check(p)
        except ParamError:
            raise ParamError(f"an index's parts are integers, slices, nil, Ellipsis and "
                             f"integer or boolean arrays, got {describe(p)}") from None


class _DtypeOrType(_Dtype):
    """A dtype (as DTYPE), or Python's int, float, bool or complex, or a numpy scalar type
    of an allowed dtype (numpy's functions take these as dtype=)."""

    def check(self, v):
        if isinstance(v, type):
            if v in (int, float, bool, complex):
                return
            if issubclass(v, np.generic) and np.dtype(v) in _ALLOWED:
                return
            raise ParamError(f"dtype {v.__name__} is not allowed")
        if isinstance(v, np.dtype):
            if v in _ALLOWED:
                return
            raise ParamError(f"dtype {v} is not allowed")
        super().check(v)


INTEGERS = _Integers()
INDEX_ARRAY = _Integers(bools=True, name="integers or booleans")
_SLICE_END = _SliceEnd()
INDEX = _Index()
DTYPE_OR_TYPE = _DtypeOrType()


class _SliceKind(Kind):
    """A slice of integers (numpy.delete's and numpy.insert's places)."""

    name = "slice"

    def check(self, v):
        if type(v) is not slice:
            raise ParamError(f"expected a slice, got {describe(v)}")
        _Index._part(v)


SLICE = _SliceKind()
