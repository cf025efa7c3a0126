"""Derivatives of tanh, up to the sixth, and the picture from the talks.

elementwise_grad, applied again and again, differentiates the backward pass of the
derivative before it: the sixth derivative is traced through five backward passes.

    python 01_tanh.py [plot.png]

The plot of the seven curves is saved (to the path given as an argument, in TANH_PNG, or
tanh.png here) only when matplotlib is installed: `pip install -e ".[plot]"`.
"""
import os
import sys

import adclient.numpy as np
from adclient import elementwise_grad as egrad


def derivatives(fun, count):
    """[fun, fun', fun'', ...]: ``count`` derivatives after the function itself."""
    funs = [fun]
    for _ in range(count):
        funs.append(egrad(funs[-1]))
    return funs


def save_plot(x, curves, path):
    """Plot the curves to ``path``; return the path, or None when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 5))
    for order, y in enumerate(curves):
        ax.plot(x, y, label="tanh" if order == 0 else f"derivative {order}")
    ax.set_xlim(-7, 7)
    ax.axis("off")
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(plot_path=None):
    x = np.linspace(-7, 7, 200)
    curves = [f(x) for f in derivatives(np.tanh, 6)]

    plot_path = plot_path or os.environ.get("TANH_PNG") or "tanh.png"
    saved = save_plot(x, curves, plot_path)

    for order, y in enumerate(curves):
        name = "tanh(x)" if order == 0 else f"derivative {order}"
        print(f"{name:>13}: max |value| on [-7, 7] = {np.max(np.abs(y)):9.6f}")
    print(f"plot saved to {saved}" if saved else "matplotlib is not installed: no plot")

    result = {"x": x}
    for order, y in enumerate(curves):
        result[f"d{order}"] = y
    return result


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
