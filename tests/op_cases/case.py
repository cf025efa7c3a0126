"""What every family's cases share: the Case record, fixed-seed input makers, call forms."""
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

rng = np.random.default_rng(20240611)  # fixed: the same inputs on every run


def normal(*shape):
    return rng.standard_normal(shape)


def complex_normal(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def uniform(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


def away_from_zero(*shape, gap=0.5):
    """Values with |x| in [gap, gap + 1.5], random sign."""
    return rng.choice([-1.0, 1.0], shape) * uniform(gap, gap + 1.5, *shape)


def positional(op, args, kwargs):
    return op(*args, **kwargs)


def as_list(op, args, kwargs):
    """For ops that take a list of arrays (concatenate): the list is the only argument."""
    return op(list(args), **kwargs)


@dataclass
class Case:
    """One example: ``form(op, args, kwargs)`` is the call; ``diff`` lists traced args.

    For differentiable ops ``diff`` are the positions checked against finite differences
    (non-differentiable positions, such as an index or a condition, are passed plain). For
    'zero' ops they are the positions boxed to check the answer stays untraced.
    """
    args: tuple
    kwargs: dict = field(default_factory=dict)
    diff: tuple = (0,)
    second_order: bool = True   # False where the first derivative jumps (ties)
    oracle: bool = True          # False where autograd cannot serve (see each case)
    form: Callable = positional
    label: str = ""

    def __post_init__(self):
        for i in self.diff:
            if i >= len(self.args):
                raise ValueError(f"diff position {i} out of range in case {self.label!r}")

    def call(self, op, args=None):
        return self.form(op, self.args if args is None else args, self.kwargs)

    def ident(self):
        return self.label or f"{len(self.args)}args"


