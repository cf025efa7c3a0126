"""Print every primitive a function applies, with its inputs and its value.

``trace(start_node, fun, x)`` runs fun on a traced x and builds a node of the given type
for every primitive whose arguments include a traced value, passing it the primitive, the
arguments, the answer and the parent nodes. A Node subclass that names each value
x0, x1, ... and prints a line per primitive turns that into a listing of the computation.

This lists the forward computation. (With adclient the nodes are made as the client issues
ops to the daemon, so a gradient taken inside the traced function shows its forward ops
only: its backward pass runs on the daemon.)
"""
from itertools import count

import numpy

import adclient.numpy as np
from adclient.tracer import trace, Node


class PrintNode(Node):
    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.names, self.lines = parents[0].names, parents[0].lines
        self.name = next(self.names)
        shown = [repr(a) if isinstance(a, (int, float)) else "array" for a in args]
        for argnum, parent in zip(parent_argnums, parents):
            shown[argnum] = parent.name
        self.value = numpy.asarray(value)
        self.say(f"{self.name} = {fun.__name__}({', '.join(shown)}) = "
                 f"{numpy.array2string(self.value, precision=6)}")

    def initialize_root(self, x):
        self.names, self.lines = (f"x{i}" for i in count()), []
        self.name = next(self.names)
        self.value = numpy.asarray(x)
        self.say(f"{self.name} = {x}")

    def say(self, line):
        self.lines.append(line)
        print(line)


def print_trace(f, x):
    start = PrintNode.new_root(x)
    trace(start, f, x)
    print()
    return start.lines


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def softplus_sum(x):
    return np.sum(np.log(1.0 + np.exp(x)))


def main():
    tanh_lines = print_trace(tanh, 1.0)
    softplus_lines = print_trace(softplus_sum, numpy.array([-1.0, 0.0, 2.0]))
    # The primitives' names and the printed values: what autograd prints too.
    return {"tanh_lines": tanh_lines, "softplus_lines": softplus_lines}


if __name__ == "__main__":
    main()
