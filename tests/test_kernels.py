"""The compiled time loops (neurosim.ann._kernels) of the LSTM, the GRU and the tanh rnn against numpy's loops,
their reference."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.ann import GatedNetwork, _compiled, _gemm, gru, lstm
from neurosim.tasks import Trials

CELLS = {"lstm": lstm, "gru": gru}
TOLERANCE = {np.float32: 2e-5, np.float64: 1e-12}  # relative to each array's largest entry


def _problem(cell, dtype, B, T, H, n_in=3, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    net = GatedNetwork.random(n_in, H, n_out, cell=cell, init="pytorch", rng=seed)
    net = net.replace(h0=rng.normal(size=H) * 0.5, c0=rng.normal(size=H) * 0.5 if cell == "lstm" else None)
    trials = Trials(rng.normal(size=(B, T, n_in)), rng.normal(size=(B, T, n_out)),
                    (rng.random((B, T, n_out)) < 0.7).astype(float), net.dt)
    return net.astype(dtype), trials


def _run(net, trials, rng_dS):
    """The cell's forward pass, its cache's arrays and the gradients for a random dL/dh_t."""
    module = CELLS[net.cell]
    inputs = np.ascontiguousarray(trials.inputs.transpose(1, 0, 2), dtype=net.dtype)  # (T, B, n_in)
    cache = module.run(net, inputs, None)
    arrays = {"S": cache.S.copy(), "gates": cache.gates.copy()}
    arrays["cs" if net.cell == "lstm" else "n"] = (cache.cs if net.cell == "lstm" else cache.n).copy()
    dS = rng_dS.normal(size=cache.S.shape).astype(net.dtype)
    grads = {k: v.copy() for k, v in module.backward(net, cache, dS).items()}
    return arrays, grads


def test_the_compiled_kernels_are_built():
    """An install builds them (setup.py); without them every gated step runs numpy's slower loops."""
    assert _compiled._kernels is not None, f"neurosim.ann._kernels did not import: {_compiled.BUILD_ERROR}"


def test_the_environment_selects_numpys_loops(monkeypatch):
    monkeypatch.setenv("NEUROSIM_KERNELS", "numpy")
    assert _compiled.kernels() is None
    monkeypatch.setenv("NEUROSIM_KERNELS", "")
    assert _compiled.kernels() is _compiled._kernels


@pytest.mark.skipif(_compiled._kernels is None, reason="neurosim.ann._kernels is not built")
@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B,T,H", [
    (3, 7, 5),  # odd sizes: every vector loop's remainder
    (1, 1, 4),  # one trial, one step: the backward loop never sees a step t + 1
    (24, 6, 130),  # products cut into row blocks forward and backward (neurosim.ann._gemm.blocks)
])
def test_compiled_and_numpy_loops_agree(cell, dtype, B, T, H, monkeypatch):
    net, trials = _problem(cell, dtype, B, T, H)
    if H == 130:  # the case is what it says
        G = len(ns.ann.gated.GATES[cell])
        assert len(_gemm.blocks(G * H, (H + 4) * B)) > 1 and len(_gemm.blocks(H, G * H * B)) > 1
    compiled = _run(net, trials, np.random.default_rng(1))
    monkeypatch.setattr(_compiled, "_kernels", None)
    reference = _run(net, trials, np.random.default_rng(1))
    for got, want in zip(compiled, reference):
        assert got.keys() == want.keys()
        for k in want:
            assert got[k].dtype == want[k].dtype == dtype, k
            scale = max(float(np.max(np.abs(want[k]))), 1e-30)
            np.testing.assert_allclose(got[k], want[k], rtol=0, atol=TOLERANCE[dtype] * scale, err_msg=k)


@pytest.mark.skipif(_compiled._kernels is None, reason="neurosim.ann._kernels is not built")
@pytest.mark.parametrize("cell", sorted(CELLS))
def test_a_training_step_is_the_same_either_way(cell, monkeypatch):
    """Through the public API (loss_and_grads on batch-major trials), both loops give the same loss and grads."""
    net, trials = _problem(cell, np.float64, B=4, T=9, H=6)
    value, grads = ns.ann.loss_and_grads(net, trials)
    monkeypatch.setenv("NEUROSIM_KERNELS", "numpy")
    value_np, grads_np = ns.ann.loss_and_grads(net, trials)
    assert abs(value - value_np) <= 1e-14 * abs(value_np)
    for k in grads_np:
        np.testing.assert_allclose(grads[k], grads_np[k], rtol=1e-11, atol=1e-14, err_msg=k)


@pytest.mark.skipif(_compiled._kernels is None, reason="neurosim.ann._kernels is not built")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha,noisy", [(1.0, False), (1.0, True), (0.2, False), (0.2, True)])
@pytest.mark.parametrize("stack", [(), (3,)])
@pytest.mark.parametrize("N,B", [(5, 7), (256, 32)])  # (256, 32): the per-step products cut into column blocks
def test_the_compiled_rnn_loop_is_numpys_bit_for_bit(dtype, alpha, noisy, stack, N, B, monkeypatch):
    """The rate-form tanh rnn's compiled loops make numpy's operations in numpy's order (setup.py: no fused
    multiply-adds) and the same BLAS calls, the step's product added into the drive by BLAS (beta = 1) as numpy
    adds it after: so the results are equal, not just close, and a stack of networks stays bit-identical to
    each network alone whichever loops run."""
    from neurosim.ann import rnn, stacked
    assert len(_gemm.blocks(N, B * N)) == (3 if N == 256 else 1)
    T, rng = 6, np.random.default_rng(0)
    nets = [ns.RateNetwork.random(3, N, 2, tau=0.01 / alpha, dt=0.01, dtype=dtype, rng=s) for s in range(3)]
    net = stacked.Stack(nets) if stack else nets[0]
    inputs = rng.normal(size=(*stack, T, B, 3)).astype(dtype)
    noise = (0.1 * rng.normal(size=(*stack, T, B, N))).astype(dtype) if noisy else None
    dS = rng.normal(size=(*stack, T, B, N)).astype(dtype)
    results = []
    for loops in ("", "numpy"):
        monkeypatch.setenv("NEUROSIM_KERNELS", loops)
        cache = rnn.run(net, inputs, noise)
        grads = rnn.backward(net, cache, dS)
        results.append((cache.xs.copy(), cache.A.copy(), {k: v.copy() for k, v in grads.items()}))
    (xs, A, grads), (xs_np, A_np, grads_np) = results
    assert xs.dtype == dtype and np.array_equal(xs, xs_np) and np.array_equal(A, A_np)
    for k in grads_np:
        assert grads[k].dtype == dtype and np.array_equal(grads[k], grads_np[k]), k
