"""Small matrix products at the speed of OpenBLAS's small-matrix kernels.

On AVX-512 CPUs OpenBLAS (0.3.x, the BLAS in numpy's wheels) computes a product of at most 100^3
multiply-adds whose operands need no transposition (in its column-major terms: numpy's C-contiguous
``W @ x``) with "small matrix" kernels that read both operands where they lie. A larger product first copies
(packs) both operands into its own layout. BPTT's recurrent product of one time step, (G H, H) x (H, B) with a
batch of B = 32, crosses that bound from H ~ 100 on: the weights would be packed again at every step, and the
product runs at a third of the machine's speed. :func:`blocks` cuts the output of such a product into blocks
that stay under the bound, each one product; the cells compute every per-step product through it.

Blocks change the order of no sum (each output element is still one dot product over K), but the small
kernels round differently from the packed ones: results agree to round-off, not bit for bit, with the uncut
product. Where OpenBLAS has no small kernels (other CPUs, another BLAS) a cut costs one call per block.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SMALL", "QUANTUM", "blocks", "bounds", "matmul_cols", "matmul_rows"]

SMALL = 100**3  # OpenBLAS's bound (M N K) for its small-matrix kernels (kernel/x86_64/*_small_kernel_permit*)
QUANTUM = 16  # block sizes are multiples of one AVX-512 register of float32


def blocks(n: int, cost: int) -> list[slice]:
    """Cut ``n`` output rows (or columns), each costing ``cost`` multiply-adds, into as few slices as keep
    every block at most :data:`SMALL` multiply-adds, of nearly equal sizes (multiples of :data:`QUANTUM`)."""
    if n * cost <= SMALL:
        return [slice(0, n)]
    largest = max(QUANTUM, SMALL // max(cost, 1) // QUANTUM * QUANTUM)
    count = -(-n // largest)
    size = -(-(-(-n // count)) // QUANTUM) * QUANTUM  # ceil(n / count), rounded up to QUANTUM (<= largest)
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def bounds(slices: list[slice]) -> np.ndarray:
    """The blocks of :func:`blocks` as their boundaries, for the compiled kernels: [s0.start, s0.stop, s1.stop, ...]
    (int32)."""
    return np.array([slices[0].start] + [s.stop for s in slices], np.int32)


def matmul_cols(x, W_blocks, cols, out):
    """``out = x @ W`` as one product per column block: ``W_blocks[k] = W[..., cols[k]]`` (see :func:`blocks`)."""
    if len(cols) == 1:
        return np.matmul(x, W_blocks[0], out=out)
    for W, c in zip(W_blocks, cols):
        np.matmul(x, W, out=out[..., c])
    return out


def matmul_rows(W_blocks, rows, x, out):
    """``out = W @ x`` as one product per row block: ``W_blocks[k] = W[..., rows[k], :]``."""
    if len(rows) == 1:
        return np.matmul(W_blocks[0], x, out=out)
    for W, r in zip(W_blocks, rows):
        np.matmul(W, x, out=out[..., r, :])
    return out
