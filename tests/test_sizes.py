"""adserver.sizes: the answer sizes the session checks before an op runs are the real ones."""
import numpy as np
import pytest

from adserver import sizes
from adserver.ops import OPS

A, B = np.ones((3, 1)), np.ones((1, 4))
CASES = [
    ("zeros", [(2, 3)], {}), ("ones", [5], {}), ("full", [(2, 2), 3.0], {}),
    ("zeros", [(2, 3)], {"dtype": "complex128"}), ("ones", [(4,)], {"dtype": "float32"}),
    ("eye", [3], {}), ("eye", [3, 5], {}), ("linspace", [0, 1, 7], {}),
    ("linspace", [0, 1], {"num": 9}), ("ones_like", [A], {"shape": (6, 2)}),
    ("broadcast_to", [A, (3, 5)], {}), ("tile", [A, (2, 3)], {}), ("tile", [B, 3], {}),
    ("repeat", [A, 3], {}), ("repeat", [B, 2, 1], {}), ("outer", [A.ravel(), B.ravel()], {}),
    ("kron", [np.ones((2, 3)), np.ones((4, 5))], {}), ("matmul", [np.ones((2, 3, 4)),
                                                                   np.ones((4, 5))], {}),
    ("dot", [np.ones((3, 2)), np.ones((2, 6))], {}), ("add", [A, B], {}),
    ("multiply", [A, np.ones((2, 1, 4), dtype=np.complex128)], {}),
    ("where", [np.ones((3, 1), bool), A, B], {}),
]


@pytest.mark.parametrize("name, args, kwargs", CASES)
def test_estimate_is_the_answers_size(name, args, kwargs):
    assert sizes.estimate(name, args, kwargs) == np.asarray(OPS[name](*args, **kwargs)).nbytes


def test_no_estimate_where_the_answer_cannot_outgrow_the_arguments():
    assert sizes.estimate("add", [A, 1.0], {}) is None            # a number: no growth
    assert sizes.estimate("add", [A, A], {}) is None              # equal shapes
    assert sizes.estimate("sin", [A], {}) is None                 # not a growing op
    assert sizes.estimate("zeros", ["not a shape"], {}) is None   # the op will say why


def test_diff_with_a_huge_n_costs_what_the_array_allows():
    """numpy's diff loops n times even after the answer is empty; ours stops there."""
    import time
    t0 = time.perf_counter()
    got = OPS["diff"](np.ones((3, 4)), 1 << 40, axis=1)
    assert time.perf_counter() - t0 < 1.0
    assert got.shape == np.diff(np.ones((3, 4)), 5, axis=1).shape == (3, 0)
