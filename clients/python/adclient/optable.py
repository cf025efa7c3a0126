"""What the client needs to know of the daemon's op vocabulary.

The names are the daemon's registry names (numpy's own names). Ops with a zero gradient
never return traced values, which is how the client knows a result's trace level
without asking.
"""

# numpy ufunc name -> daemon op name, for __array_ufunc__
UFUNC_OPS = {
    "negative": "negative", "exp": "exp", "log": "log", "sin": "sin", "cos": "cos",
    "tan": "tan", "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "sqrt": "sqrt",
    "absolute": "absolute", "add": "add", "subtract": "subtract", "multiply": "multiply",
    "divide": "divide", "true_divide": "divide", "power": "power", "maximum": "maximum",
    "minimum": "minimum", "floor": "floor", "ceil": "ceil", "sign": "sign",
    "equal": "equal", "not_equal": "not_equal", "less": "less", "less_equal": "less_equal",
    "greater": "greater", "greater_equal": "greater_equal", "matmul": "matmul",
}

ZERO_GRADIENT = frozenset({
    "floor", "ceil", "sign", "equal", "not_equal", "less", "less_equal", "greater",
    "greater_equal", "zeros_like", "ones_like", "zeros", "ones", "eye", "full", "argmax",
    "argmin", "shape",
})
