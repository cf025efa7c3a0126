"""Fluid simulation: choose the initial wind so that smoke drifts into a target shape.

A small incompressible-flow solver (semi-Lagrangian advection, a pressure projection by
Gauss-Seidel sweeps) written in plain numpy style, with np.roll for the periodic
neighbours and integer fancy indexing for the interpolation. The gradient of the final
mismatch with respect to the initial velocity field goes back through every time step;
scipy's L-BFGS-B uses it to improve the velocity field.
"""
import numpy
from scipy.optimize import minimize

import adclient.numpy as np
from adclient import value_and_grad

ROWS, COLS = 16, 16
STEPS = 20


def project(vx, vy):
    """Make the velocity field (nearly) divergence-free: a few Gauss-Seidel sweeps for the
    pressure, then subtract its gradient."""
    p = np.zeros(vx.shape)
    h = 1.0 / vx.shape[0]
    div = -0.5 * h * (np.roll(vx, -1, axis=0) - np.roll(vx, 1, axis=0)
                      + np.roll(vy, -1, axis=1) - np.roll(vy, 1, axis=1))
    for _ in range(10):
        p = (div + np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
             + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1)) / 4.0
    vx -= 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)) / h
    vy -= 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / h
    return vx, vy


def advect(f, vx, vy):
    """Carry the field f along the velocity (vx, vy) for one time step: each cell takes the
    bilinear interpolation of f where its contents came from."""
    rows, cols = f.shape
    cell_ys, cell_xs = np.meshgrid(np.arange(cols), np.arange(rows))
    center_xs = (cell_xs - vx).ravel()
    center_ys = (cell_ys - vy).ravel()

    left_ix = np.floor(center_xs).astype(int)      # the four source cells, wrapped around
    top_ix = np.floor(center_ys).astype(int)
    rw = center_xs - left_ix                        # and the interpolation weights
    bw = center_ys - top_ix
    left_ix = np.mod(left_ix, rows)
    right_ix = np.mod(left_ix + 1, rows)
    top_ix = np.mod(top_ix, cols)
    bot_ix = np.mod(top_ix + 1, cols)

    flat_f = (1 - rw) * ((1 - bw) * f[left_ix, top_ix] + bw * f[left_ix, bot_ix]) \
        + rw * ((1 - bw) * f[right_ix, top_ix] + bw * f[right_ix, bot_ix])
    return np.reshape(flat_f, (rows, cols))


def simulate(vx, vy, smoke, num_time_steps):
    for _ in range(num_time_steps):
        vx_updated = advect(vx, vx, vy)
        vy_updated = advect(vy, vx, vy)
        vx, vy = project(vx_updated, vy_updated)
        smoke = advect(smoke, vx, vy)
    return smoke


def blob(center_row, center_col, width):
    """A smooth round puff of smoke."""
    r, c = numpy.mgrid[0:ROWS, 0:COLS]
    return numpy.exp(-((r - center_row) ** 2 + (c - center_col) ** 2) / (2.0 * width ** 2))


def main():
    init_smoke = blob(5.0, 5.0, 2.0)
    target = blob(9.0, 10.0, 2.5)

    def loss(params):
        vx = np.reshape(params[:ROWS * COLS], (ROWS, COLS))
        vy = np.reshape(params[ROWS * COLS:], (ROWS, COLS))
        final_smoke = simulate(vx, vy, init_smoke, STEPS)
        return np.mean((final_smoke - target) ** 2)

    loss_and_grad = value_and_grad(loss)

    # A gentle start: a uniform breeze toward the lower right, then let L-BFGS-B shape it.
    init_params = numpy.concatenate([numpy.full(ROWS * COLS, 0.1), numpy.full(ROWS * COLS, 0.15)])
    loss_before, grad_before = loss_and_grad(init_params)
    result = minimize(loss_and_grad, init_params, jac=True, method="L-BFGS-B",
                      options={"maxiter": 8})
    loss_after = loss(result.x)

    print(f"{ROWS}x{COLS} grid, {STEPS} steps: loss {loss_before:.6f} -> {loss_after:.6f} "
          f"after {result.nit} L-BFGS-B iterations ({result.nfev} gradients)")
    return {"loss_before": loss_before, "grad_before": grad_before,
            "loss_after": loss_after, "velocity": result.x}


if __name__ == "__main__":
    main()
