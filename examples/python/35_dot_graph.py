"""The computation graph of a function, as Graphviz DOT text.

A Node subclass that keeps each primitive's name, its constant arguments and its parent
nodes turns ``trace`` into a graph builder. Walking that graph from the output with
``toposort`` and writing one DOT node per primitive (and per constant argument) and one
edge per parent gives a file that ``dot -Tpng`` draws.

What is drawn is the forward computation: the primitives the function applies to its
traced input, as the client issues them (with adclient, a backward pass run inside the
function would happen on the daemon and would not appear). Give a path as the first
argument to write the DOT text there; otherwise it is printed.
"""
import sys
from itertools import count

import adclient.numpy as np
from adclient.tracer import trace, Node
from adclient.util import toposort


class GraphNode(Node):
    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.number = next(parents[0].numbers)
        self.numbers = parents[0].numbers
        self.label = fun.__name__
        self.parents = list(parents)
        # the arguments that are not traced values: drawn as constants feeding the node
        self.constants = {i: a for i, a in enumerate(args)
                          if i not in parent_argnums and isinstance(a, (int, float))}

    def initialize_root(self, name):
        self.numbers = count(1)
        self.number, self.label, self.parents, self.constants = 0, name, [], {}


def trace_graph(f, x, name="x"):
    _, end = trace(GraphNode.new_root(name), f, x)
    return end


def graph_to_dot(end_node):
    lines = ["digraph G {", '  rankdir = "BT";']
    nodes = list(toposort(end_node))[::-1]          # inputs first
    for node in nodes:
        shape = "ellipse" if node.parents else "box"
        lines.append(f'  n{node.number} [shape={shape}, label="{node.label}"];')
        for parent in node.parents:
            lines.append(f"  n{parent.number} -> n{node.number};")
        for argnum, value in sorted(node.constants.items()):
            lines.append(f'  c{node.number}_{argnum} [shape=plaintext, label="{value!r}"];')
            lines.append(f"  c{node.number}_{argnum} -> n{node.number};")
    lines.append(f'  n{end_node.number} [style=bold];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def fun(x):
    y = np.sin(x)
    return (y + np.exp(x) - 0.5) * y


def main(path=None):
    end = trace_graph(fun, 1.0)
    dot = graph_to_dot(end)
    if path:
        with open(path, "w") as f:
            f.write(dot)
    else:
        print(dot)
    return {"dot": dot, "primitives": [node.label for node in toposort(end)][::-1]}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
