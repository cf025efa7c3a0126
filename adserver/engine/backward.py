"""The reverse pass, as a generator that a session can suspend.

``backward`` yields a CallbackRequest whenever it meets a node made by a primitive whose
rules live in a client, and expects the list of cotangents (one per parent) to be sent
back in. Nothing else suspends it, so a pass over built-in ops runs straight through.

``backward_seeds`` runs the pass for a stack of cotangents at once (the rows of a
Jacobian): every cotangent in it carries a leading batch axis, and a node whose op has a
batched rule (``Batching``) is visited once for the whole stack. Any other node, and a
client primitive, is visited once per seed with its ordinary rule, so every op stays
correct; only the speed differs.
"""
import numpy as np

from .tracer import getval_all
from .tuples import tuple_item


class CallbackRequest:
    """Ask the client that owns ``node.prim`` for the cotangents of ``node``'s parents."""

    __slots__ = ("node", "g")

    def __init__(self, node, g):
        self.node = node
        self.g = g


def toposort(end):
    """Nodes reachable from ``end``, each after every node that consumes it."""
    child_counts = {}
    stack = [end]
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(node.parents)
    child_counts[end] -= 1
    ready = [end]
    while ready:
        node = ready.pop()
        yield node
        for parent in node.parents:
            if child_counts[parent] == 1:
                ready.append(parent)
            else:
                child_counts[parent] -= 1


def backward(end_node, g, start_nodes, add, check=None, order=None):
    """Generator: cotangents of ``start_nodes`` given cotangent ``g`` of ``end_node``.

    ``add`` sums two cotangents (a primitive, so that sums are traced when an outer level
    is active). ``check``, if given, is called before each node, and may stop the pass by
    raising (a daemon uses it for time limits and cancellation). A start node the end does
    not depend on gets None; the caller fills zeros. Returns (via StopIteration) the list
    of cotangents in the order of ``start_nodes``. ``order``, if given, is
    ``toposort(end_node)`` already made into a list.
    """
    wanted = {node: i for i, node in enumerate(start_nodes)}
    results = [None] * len(start_nodes)
    outgrads = {end_node: g}
    for node in (toposort(end_node) if order is None else order):
        og = outgrads.pop(node, None)
        if og is None:
            continue
        if check is not None:
            check()
        i = wanted.get(node)
        if i is not None:
            results[i] = og
        if not node.parents:
            continue
        prim = node.prim
        if prim.client is not None:
            ingrads = yield CallbackRequest(node, og)
        else:
            ingrads = [prim.vjp(argnum, og, node) for argnum in node.argnums]
        for parent, ingrad in zip(node.parents, ingrads):
            if ingrad is None:
                continue
            prev = outgrads.get(parent)
            outgrads[parent] = ingrad if prev is None else add(prev, ingrad)
    # Start nodes have no parents, so each one's cotangent was complete when it was popped.
    return results


# --- many cotangents in one pass -------------------------------------------------------------

#: Elements one batched cotangent may hold; the seeds are split into chunks that keep the
#: largest value of the graph, times the chunk's seeds, below this.
BATCH_ELEMENTS = 1 << 22


def _numel(value):
    value = getval_all(value)
    if isinstance(value, (tuple, list)):
        return sum(_numel(v) for v in value)
    return int(np.size(value))


def cotangent_dtype(value):
    """The value's own float or complex type (float32 stays float32); float64 otherwise."""
    dtype = np.result_type(value)
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def zero_cotangent(value, count=None):
    """Zeros shaped like ``value`` (traced or not), with a leading axis of ``count`` rows if
    given: the cotangent of a start the end does not depend on."""
    raw = getval_all(value)
    lead = () if count is None else (count,)
    return np.zeros(lead + np.shape(raw), dtype=cotangent_dtype(raw))


def backward_seeds(end_node, seeds, count, start_nodes, add, batching, check=None,
                   budget=BATCH_ELEMENTS):
    """Generator: for each of ``count`` cotangents of ``end_node``, those of the starts.

    ``seeds`` is an array (or a value traced at an outer level) of shape
    ``(count,) + end's shape``, or None for the rows of the identity: seed i is 1 at
    element i of the end (in C order) and 0 elsewhere, ``float64`` or the end's own float
    or complex type. Returns (via StopIteration) one array per start, of shape
    ``(count,) + start's shape``: row i is what ``backward`` gives for seed i (zeros for
    a start the end does not depend on). ``batching`` holds the batched rules and the
    ops to take, stack and join rows with; ``check`` is called before each node (and
    before each seed of a node that runs seed by seed), as in ``backward``.
    """
    end_raw = getval_all(end_node.ans)
    end_shape = np.shape(end_raw)
    order = list(toposort(end_node))
    biggest = max([_numel(node.ans) for node in order] + [1])
    chunk = max(1, min(count, budget // biggest))
    parts = [[] for _ in start_nodes]
    for lo in range(0, count, chunk):
        hi = min(count, lo + chunk)
        n = hi - lo
        if seeds is None:
            block = np.zeros((n, int(np.size(end_raw))), dtype=cotangent_dtype(end_raw))
            block[np.arange(n), np.arange(lo, hi)] = 1
            block = block.reshape((n,) + end_shape)
        else:
            block = seeds if (lo, hi) == (0, count) else seeds[lo:hi]
        if n == 1:
            # One seed: the plain pass, whose ops are the rules' own.
            rows = yield from backward(end_node, block[0], start_nodes, add, check, order)
            rows = [None if r is None else batching.expand(r) for r in rows]
        else:
            rows = yield from _batched_pass(order, end_node, block, n, start_nodes, add,
                                            batching, check)
        for part, row in zip(parts, rows):
            part.append((n, row))
    results = []
    for start, part in zip(start_nodes, parts):
        if all(row is None for _, row in part):
            results.append(batching.zeros(count, start.ans))
            continue
        rows = [batching.zeros(n, start.ans) if row is None else row for n, row in part]
        results.append(rows[0] if len(rows) == 1 else batching.join(rows))
    return results


def _batched_pass(order, end_node, seeds, count, start_nodes, add, batching, check):
    wanted = {node: i for i, node in enumerate(start_nodes)}
    results = [None] * len(start_nodes)
    outgrads = {end_node: seeds}
    for node in order:
        og = outgrads.pop(node, None)
        if og is None:
            continue
        if check is not None:
            check()
        i = wanted.get(node)
        if i is not None:
            results[i] = og
        if not node.parents:
            continue
        prim = node.prim
        if prim.client is not None:
            # The client's rule sees one cotangent at a time.
            per_seed = []
            for b in range(count):
                if b and check is not None:
                    check()
                per_seed.append((yield CallbackRequest(node, batching.take(og, b))))
            ingrads = [batching.stack([grads[k] for grads in per_seed])
                       for k in range(len(node.parents))]
        else:
            ingrads = []
            for argnum in node.argnums:
                ingrad = batching.vjp(prim, argnum, og, node, count)
                if ingrad is NotImplemented:
                    per_seed = []
                    for b in range(count):
                        if b and check is not None:
                            check()
                        per_seed.append(prim.vjp(argnum, batching.take(og, b), node))
                    ingrad = batching.stack(per_seed)
                ingrads.append(ingrad)
        for parent, ingrad in zip(node.parents, ingrads):
            if ingrad is None:
                continue
            prev = outgrads.get(parent)
            outgrads[parent] = ingrad if prev is None else add(prev, ingrad)
    return results


# --- batched rules ---------------------------------------------------------------------------

def _shape(x):
    return np.shape(getval_all(x))


def _is_complex(x):
    return np.iscomplexobj(getval_all(x))


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(a % ndim for a in axis)
    return (axis % ndim,)


def _tensordot_axes(axes, a_nd, b_nd):
    if isinstance(axes, (int, np.integer)):
        a_axes, b_axes = list(range(a_nd - axes, a_nd)), list(range(axes))
    else:
        a_axes, b_axes = axes
        a_axes = [a_axes] if isinstance(a_axes, (int, np.integer)) else list(a_axes)
        b_axes = [b_axes] if isinstance(b_axes, (int, np.integer)) else list(b_axes)
    return [x % a_nd for x in a_axes], [x % b_nd for x in b_axes]


def _batched_index(index):
    """``(slice(None),) + index`` if that indexes each row of a stack as ``index`` indexes
    one value, else None (advanced indices apart from each other move their axes first)."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays, advanced = False, []
    for i, p in enumerate(parts):
        if isinstance(p, (bool, np.bool_)):
            return None
        if isinstance(p, (list, np.ndarray)):
            arrays = True
            advanced.append(i)
        elif isinstance(p, (int, np.integer)):
            advanced.append(i)
        elif not (p is None or p is Ellipsis or isinstance(p, slice)):
            return None
    if arrays and advanced != list(range(advanced[0], advanced[-1] + 1)):
        return None
    return (slice(None),) + parts


#: Elementwise ops whose rule is ``g * slope`` for complex ``g`` too (no conjugation), so
#: that the rule at g = 1 gives the slope that a stack of complex cotangents multiplies.
HOLOMORPHIC = frozenset([
    "add", "subtract", "multiply", "divide", "negative", "positive", "power", "float_power",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "square", "reciprocal",
    "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh", "rad2deg", "deg2rad"])


class Batching:
    """VJP rules for a stack of cotangents, written with the ops in ``ops`` (the daemon's
    ``adserver.ops.P``, so that they are traced when an outer level is active).

    ``vjp(prim, argnum, G, node, count)`` gives the stacked cotangents of argument
    ``argnum`` for the stack ``G`` (shape ``(count,) + node's answer shape``), or
    NotImplemented, after which the pass runs that rule once per seed. The rules cover
    the ops a Jacobian or Hessian of array code mostly meets: contractions (matmul,
    tensordot), reductions (sum, mean), rearrangements (reshape, transpose, broadcasting,
    indexing, concatenation) and every elementwise ufunc. An elementwise op's batched rule
    is its own rule, applied once to ones to get the slope, which then multiplies the
    stack; a slope that is not finite falls back to seed-by-seed rules, which keep the
    exact zeros that ``where`` relies on.
    """

    def __init__(self, ops):
        self.P = ops
        by_name = {
            "add": self._add, "subtract": self._subtract, "negative": self._negative,
            "multiply": self._multiply, "where": self._where,
            "matmul": self._matmul, "tensordot": self._tensordot,
            "sum": self._sum, "mean": self._mean,
            "reshape": self._reshape, "expand_dims": self._reshape, "squeeze": self._reshape,
            "transpose": self._transpose, "broadcast_to": self._broadcast_to,
            "getitem": self._getitem, "untake": self._untake,
            "concatenate_args": self._concatenate, "array_from_args": self._array_from_args,
            "tuple_item": self._tuple_item,
            "real": self._real, "imag": self._imag, "conjugate": self._conjugate,
            "astype": self._astype,
        }
        # Keyed by the primitives themselves: a client primitive may have any name.
        self.rules = {getattr(ops, name): rule for name, rule in by_name.items()
                      if name != "tuple_item" and hasattr(ops, name)}
        self.rules[tuple_item] = self._tuple_item
        self.batched = 0       # rules run once for a whole stack
        self.per_seed = 0      # rules run seed by seed

    # --- moving rows around ---------------------------------------------------------------
    def take(self, G, b):
        if isinstance(G, tuple):
            return tuple(None if g is None else g[b] for g in G)
        return G[b]

    def stack(self, items):
        """One stack from per-seed cotangents (None for zero; tuples element by element)."""
        self.per_seed += 1
        present = [it for it in items if it is not None]
        if not present:
            return None
        if isinstance(present[0], tuple):
            return tuple(self.stack([None if it is None else it[j] for it in items])
                         for j in range(len(present[0])))
        first = getval_all(present[0])
        zero = np.zeros(np.shape(first), dtype=np.result_type(first))
        return self.P.stack([zero if it is None else it for it in items])

    def expand(self, x):
        return self.P.reshape(x, (1,) + _shape(x))

    def zeros(self, count, like):
        return zero_cotangent(like, count)

    def join(self, blocks):
        return self.P.concatenate_args(0, *blocks)

    def unbroadcast(self, target, R):
        """Sum the stack R, shape (count,) + S, back to (count,) + target's shape."""
        P = self.P
        shape = _shape(target)
        body = _shape(R)[1:]
        if body != shape:
            extra = len(body) - len(shape)
            if extra < 0:
                raise ValueError("cotangent has fewer axes than its target")
            if extra > 0:
                R = P.sum(R, axis=tuple(range(1, 1 + extra)))
            got = _shape(R)
            stretched = tuple(i + 1 for i, n in enumerate(shape) if n == 1 and got[i + 1] != 1)
            if stretched:
                R = P.sum(R, axis=stretched, keepdims=True)
        if _is_complex(R) and not _is_complex(target):
            R = P.real(R)
        return R

    # --- dispatch --------------------------------------------------------------------------
    def vjp(self, prim, argnum, G, node, count):
        rule = self.rules.get(prim)
        try:
            if rule is not None:
                out = rule(argnum, G, node, count)
            elif isinstance(prim.fun, np.ufunc) and prim.fun.signature is None \
                    and prim.fun.nout == 1:
                out = self._elementwise(prim, argnum, G, node, count)
            else:
                out = NotImplemented
        except Exception:
            # A case the batched rule does not cover (the seed-by-seed rules decide
            # whether it is an error).
            out = NotImplemented
        if out is not NotImplemented:
            self.batched += 1
        return out

    # --- elementwise --------------------------------------------------------------------------
    def _elementwise(self, prim, argnum, G, node, count):
        P = self.P
        rule = prim.vjps.get(argnum)
        ans = getval_all(node.ans)
        if rule is None or isinstance(G, tuple) or isinstance(ans, tuple):
            return NotImplemented
        shape = np.shape(ans)
        G_raw = getval_all(G)
        if np.shape(G_raw)[1:] != shape:
            return NotImplemented
        x = node.args[argnum]
        target = x
        if _shape(x) != shape:
            target = P.broadcast_to(target, shape)
        if np.iscomplexobj(G_raw):
            # Complex cotangents: only rules that multiply by the slope without
            # conjugating scale as the slope at 1 says.
            if prim.name not in HOLOMORPHIC or not np.iscomplexobj(ans):
                return NotImplemented
            if not _is_complex(x):
                # The rule would take the real part at once; the complex slope is needed.
                target = P.astype(target, np.promote_types(np.result_type(getval_all(x)),
                                                           np.complex64))
        args = list(node.args)
        args[argnum] = target
        ones = np.ones(shape, dtype=np.result_type(G_raw))
        slope = rule(ones, node.ans, *args, **node.kwargs)
        slope_raw = getval_all(slope)
        if isinstance(slope_raw, tuple) or np.ndim(slope_raw) > len(shape) or \
                not np.all(np.isfinite(slope_raw)):
            return NotImplemented
        return self.unbroadcast(x, P.multiply(G, slope))

    def _add(self, argnum, G, node, count):
        return self.unbroadcast(node.args[argnum], G)

    def _subtract(self, argnum, G, node, count):
        return self.unbroadcast(node.args[argnum], G if argnum == 0 else self.P.negative(G))

    def _negative(self, argnum, G, node, count):
        return self.P.negative(G)

    def _multiply(self, argnum, G, node, count):
        other = node.args[1 - argnum]
        return self.unbroadcast(node.args[argnum], self.P.multiply(G, other))

    def _where(self, argnum, G, node, count):
        P = self.P
        c = node.args[0]
        zeros = P.zeros_like(G)
        picked = P.where(c, G, zeros) if argnum == 1 else P.where(c, zeros, G)
        return self.unbroadcast(node.args[argnum], picked)

    def _real(self, argnum, G, node, count):
        x = node.args[0]
        return self.P.astype(G, np.result_type(getval_all(x))) if _is_complex(x) else G

    def _imag(self, argnum, G, node, count):
        return -1j * G if _is_complex(node.args[0]) else self.P.zeros_like(G)

    def _conjugate(self, argnum, G, node, count):
        return self.P.conjugate(G)

    def _astype(self, argnum, G, node, count):
        x = node.args[0]
        return self.P.astype(self.unbroadcast(x, G), np.result_type(getval_all(x)))

    # --- contractions --------------------------------------------------------------------------
    def _matmul(self, argnum, G, node, count):
        P = self.P
        if node.kwargs:
            return NotImplemented
        a, b = node.args
        a_shape, b_shape = _shape(a), _shape(b)
        a2 = P.reshape(a, (1,) + a_shape) if len(a_shape) == 1 else a
        b2 = P.reshape(b, b_shape + (1,)) if len(b_shape) == 1 else b
        a2_shape, b2_shape = _shape(a2), _shape(b2)
        out_shape = np.broadcast_shapes(a2_shape[:-2], b2_shape[:-2]) + \
            (a2_shape[-2], b2_shape[-1])
        m, n = out_shape[-2], out_shape[-1]
        if argnum == 0:
            if len(b2_shape) == 2 and len(out_shape) == 2:
                # One matrix product for the whole stack: (count * m, n) @ (n, k).
                R = P.matmul(P.reshape(G, (count * m, n)), P.transpose(b2))
                R = P.reshape(R, (count, m, a2_shape[-1]))
            else:
                R = P.matmul(P.reshape(G, (count,) + out_shape), P.swapaxes(b2, -1, -2))
            return P.reshape(self.unbroadcast(a2, R), (count,) + a_shape)
        if len(a2_shape) == 2 and len(b_shape) == 1:
            # A matrix times a vector (W @ x): the stack of rows times the matrix.
            return self.unbroadcast(b, P.matmul(P.reshape(G, (count, m)), a2))
        R = P.matmul(P.swapaxes(a2, -1, -2), P.reshape(G, (count,) + out_shape))
        return P.reshape(self.unbroadcast(b2, R), (count,) + b_shape)

    def _tensordot(self, argnum, G, node, count):
        P = self.P
        a, b = node.args[0], node.args[1]
        axes = node.args[2] if len(node.args) > 2 else node.kwargs.get("axes", 2)
        a_nd, b_nd = len(_shape(a)), len(_shape(b))
        a_axes, b_axes = _tensordot_axes(axes, a_nd, b_nd)
        a_free = [i for i in range(a_nd) if i not in a_axes]
        b_free = [i for i in range(b_nd) if i not in b_axes]
        if argnum == 0:
            g_b = [1 + len(a_free) + j for j in range(len(b_free))]
            out = P.tensordot(G, b, (g_b, b_free))
            labels = a_free + [a_axes[b_axes.index(j)] for j in sorted(b_axes)]
            perm = (0,) + tuple(1 + int(p) for p in np.argsort(labels))
            return self.unbroadcast(a, P.transpose(out, perm))
        out = P.tensordot(a, G, (a_free, [1 + j for j in range(len(a_free))]))
        nc = len(a_axes)
        labels = [b_axes[a_axes.index(i)] for i in sorted(a_axes)] + b_free
        rest = list(range(nc)) + list(range(nc + 1, nc + 1 + len(b_free)))
        perm = (nc,) + tuple(rest[int(p)] for p in np.argsort(labels))
        return self.unbroadcast(b, P.transpose(out, perm))

    # --- reductions -------------------------------------------------------------------------------
    def _repeat(self, G, node, count):
        def parse(x, axis=None, keepdims=False, **kw):
            return x, axis, keepdims, kw
        x, axis, keepdims, kw = parse(*node.args, **node.kwargs)
        if kw.get("where") is not None:
            return None, x
        shape = _shape(x)
        if not keepdims:
            axes = _axes(axis, len(shape))
            G = self.P.reshape(G, (count,) + tuple(1 if i in axes else n
                                                   for i, n in enumerate(shape)))
        return self.P.broadcast_to(G, (count,) + shape), x

    def _sum(self, argnum, G, node, count):
        R, _ = self._repeat(G, node, count)
        return NotImplemented if R is None else R

    def _mean(self, argnum, G, node, count):
        R, x = self._repeat(G, node, count)
        if R is None:
            return NotImplemented
        return R / (np.size(getval_all(x)) / max(np.size(getval_all(node.ans)), 1))

    # --- rearrangements --------------------------------------------------------------------------
    def _reshape(self, argnum, G, node, count):
        x = node.args[0]
        order = "C"
        if node.prim.name == "reshape":
            order = node.kwargs.get("order", node.args[2] if len(node.args) > 2 else "C")
            if order == "A":
                order = "F" if np.isfortran(getval_all(x)) else "C"
            if order not in ("C", "F"):
                return NotImplemented
        return self.P.reshape(G, (count,) + _shape(x), order=order)

    def _transpose(self, argnum, G, node, count):
        x = node.args[0]
        axes = node.args[1] if len(node.args) > 1 else node.kwargs.get("axes")
        nd = len(_shape(x))
        if axes is None:
            inverse = range(nd - 1, -1, -1)
        else:
            inverse = np.argsort([a % nd for a in axes])
        return self.P.transpose(G, (0,) + tuple(1 + int(p) for p in inverse))

    def _broadcast_to(self, argnum, G, node, count):
        return self.unbroadcast(node.args[0], G)

    def _getitem(self, argnum, G, node, count):
        x, index = node.args
        batched = _batched_index(index)
        if batched is None:
            return NotImplemented
        return self.P.untake(G, batched, (count,) + _shape(x))

    def _untake(self, argnum, G, node, count):
        if argnum != 0:
            return NotImplemented
        batched = _batched_index(node.args[1])
        if batched is None:
            return NotImplemented
        return self.P.getitem(G, batched)

    def _concatenate(self, argnum, G, node, count):
        P = self.P
        axis, arrays = node.args[0], node.args[1:]
        this = arrays[argnum - 1]
        if axis is None:
            start = sum(int(np.prod(_shape(a))) for a in arrays[:argnum - 1])
            stop = start + int(np.prod(_shape(this)))
            return P.reshape(P.getitem(G, (slice(None), slice(start, stop))),
                             (count,) + _shape(this))
        nd = len(_shape(node.ans))
        axis = axis % nd
        start = sum(_shape(a)[axis] for a in arrays[:argnum - 1])
        index = [slice(None)] * (nd + 1)
        index[axis + 1] = slice(start, start + _shape(this)[axis])
        return P.getitem(G, tuple(index))

    def _array_from_args(self, argnum, G, node, count):
        return self.unbroadcast(node.args[argnum], self.P.getitem(G, (slice(None), argnum)))

    def _tuple_item(self, argnum, G, node, count):
        t, i = node.args
        return tuple(G if j == i else None for j in range(len(getval_all(t))))
