"""The Taylor series of sin, summed until a term is small: control flow that depends on data.

The loop runs as many times as the value of x asks for, and the `break` is an ordinary
Python `break`. grad follows whichever path this call took; grad of grad does the same
through the first backward pass.
"""
import adclient.numpy as np
from adclient import grad


def taylor_sin(x):
    term = x
    total = term
    for i in range(1000):
        term = -term * x ** 2 / ((2 * i + 3) * (2 * i + 2))
        total = total + term
        if np.abs(term) < 0.2:
            break
    return total


d_taylor_sin = grad(taylor_sin)        # first derivative
dd_taylor_sin = grad(d_taylor_sin)     # second derivative


def main():
    x = np.linspace(-10, 10, 100)
    value = np.array([taylor_sin(xi) for xi in x])
    first = np.array([d_taylor_sin(xi) for xi in x])
    second = np.array([dd_taylor_sin(xi) for xi in x])

    print("     x    series       d/dx     d2/dx2    (sin, cos, -sin)")
    for i in range(0, len(x), 11):
        print(f"{x[i]:6.1f} {value[i]:9.4f} {first[i]:10.4f} {second[i]:10.4f}"
              f"    ({np.sin(x[i]):.4f}, {np.cos(x[i]):.4f}, {-np.sin(x[i]):.4f})")
    return {"x": x, "value": value, "first": first, "second": second}


if __name__ == "__main__":
    main()
