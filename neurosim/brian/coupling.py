"""Recurrent coupling of the Brian2 rate network: the input ``I_rec = W_rec s`` of every unit, in each of B copies.

The rate group holds B independent copies of the N-unit network, neuron ``b*N + n`` being unit n of trial b, so
the coupling is block-diagonal: copy b only sees copy b. ``s`` is what the units send: r in the rate form, f(x)
in the current form. Every implementation computes ``I_rec`` at the start of each simulation step from the
state at that time, before the state update (Brian2 runs summed-variable updaters and the ``before_groups``
slot before ``groups``), which is what the artificial RNN's ``W_rec s_{t-1}`` needs.

=========== =============== =================================================================================
coupling    device          how
=========== =============== =================================================================================
"synapses"  any             ``Synapses`` with a summed variable ``I_rec_post = w * s_pre`` (the textbook Brian2
                            way; one synapse per nonzero weight, so it serves sparse ``net.mask`` connectivity)
"matmul"    runtime         a ``network_operation`` that multiplies the raw state array by W_rec (numpy/BLAS,
                            one (B, N) x (N, N) product per step, written in place into ``I_rec``)
"matmul"    cpp_standalone  a Brian2 ``Function`` with a C++ implementation, called by ``run_regularly``: at
                            neuron 0 it computes the whole (B, N) x (N, N) product into a buffer, row by row of
                            W_rec so each row stays in cache across the B copies; every neuron reads its entry
=========== =============== =================================================================================

The default is "matmul" on every device: a dense product beats one synapse per weight by a wide margin. Measured
by ``benchmarks/rate.py`` (1 s at dt = 0.1 ms, N = 64..1024, B = 1 or 32, one BLAS thread), as multiples of the
ANN forward's run time: runtime Cython matmul 0.8-4x, Synapses 2.7-26x; standalone matmul 0.3-1.05x, Synapses
1.1-17x. Only a very sparse ``net.mask`` could tip the balance toward Synapses; ask for it explicitly.
"""

from __future__ import annotations

import numpy as np

from .. import activations

__all__ = ["COUPLINGS", "default", "build", "needs_stored_source", "block_diagonal_indices", "source_name"]

COUPLINGS = ("synapses", "matmul")


def default(device: str) -> str:
    """The fastest correct coupling for ``device`` (measured by ``benchmarks/rate.py``)."""
    return "matmul"


def needs_stored_source(coupling: str, device: str) -> bool:
    """True when ``s = f(x)`` must be a stored variable (the C++ product reads raw arrays, not expressions)."""
    return coupling == "matmul" and device == "cpp_standalone"


def build(coupling: str, net, group, n_trials: int, device: str, clock_dt) -> tuple[list, dict, dict]:
    """The Brian2 objects that set ``group.I_rec`` every step; returns ``(objects, namespace, metadata)``.

    ``group`` is the rate group of ``n_trials * net.n_rec`` neurons with a source variable ``s`` (current
    form) or ``r`` (rate form) and a parameter ``I_rec``; ``clock_dt`` is the simulation step (a Brian2 time).
    """
    if coupling == "synapses":
        return _synapses(net, group, n_trials)
    if device == "cpp_standalone":
        return _matmul_cpp(net, group, n_trials, clock_dt)
    return _matmul_runtime(net, group, n_trials, clock_dt)


def block_diagonal_indices(weights: np.ndarray, n_trials: int, *, dense: bool = False):
    """Pre and post indices and weights of ``weights`` (n_post, n_pre) repeated over ``n_trials`` copies.

    Copy b connects pre neuron ``b*n_pre + j`` to post neuron ``b*n_post + i`` with weight ``weights[i, j]``;
    zero weights get no synapse unless ``dense``.
    """
    n_post, n_pre = weights.shape
    post, pre = np.nonzero(np.ones_like(weights) if dense else weights)
    w = weights[post, pre]
    copies = np.arange(n_trials)[:, None]
    return ((copies * n_pre + pre).ravel(), (copies * n_post + post).ravel(), np.tile(w, n_trials))


def source_name(net) -> str:
    """The variable a unit sends to others and to the readout: r (rate form) or s = f(x) (current form)."""
    return "r" if net.form == "rate" else "s"


def _synapses(net, group, n_trials):
    import brian2

    pre, post, w = block_diagonal_indices(net.W_rec, n_trials)
    if len(w) == 0:  # W_rec == 0: I_rec stays 0 (Brian2 cannot connect an empty index list)
        return [], {}, {"n_synapses": 0}
    src = source_name(net)
    # on the group's own clock (not Brian2's default 0.1 ms one); the summation itself always runs on the target's
    syn = brian2.Synapses(group, group, model=f"w : 1 (constant)\nI_rec_post = w * {src}_pre : 1 (summed)",
                          clock=group.clock, name="neurosim_recurrent")
    syn.connect(i=pre, j=post)
    syn.w = w
    return [syn], {}, {"n_synapses": int(len(w))}


def _matmul_runtime(net, group, n_trials, clock_dt):
    import brian2

    B, N = n_trials, net.n_rec
    state = group.variables["r" if net.form == "rate" else "x"].get_value()  # the live arrays, (B*N,)
    I_rec = group.variables["I_rec"].get_value()
    state_bn, I_bn = state.reshape(B, N), I_rec.reshape(B, N)  # views, no copies
    W_recT = net.W_rec.T
    if net.form == "rate":
        def recurrent():
            np.matmul(state_bn, W_recT, out=I_bn)  # I_rec = W_rec r for every copy
    else:
        f = activations.get(net.activation).f

        def recurrent():
            np.matmul(f(state_bn), W_recT, out=I_bn)  # I_rec = W_rec f(x)

    op = brian2.NetworkOperation(recurrent, dt=clock_dt, when="before_groups", name="neurosim_recurrent")
    return [op], {}, {}


def _matmul_cpp(net, group, n_trials, clock_dt):
    import brian2

    B, N = n_trials, net.n_rec
    src = source_name(net)
    source_array = brian2.get_device().get_array_name(group.variables[src], access_data=True)
    code = _CPP_MATMUL.format(BN=B * N, B=B, N=N, source=source_array)
    W = np.ascontiguousarray(net.W_rec, dtype=np.float64).ravel()  # row-major: W[i*N + j] = W_rec[i, j]

    def python_fallback(i):  # pragma: no cover - only the C++ implementation is ever used
        raise NotImplementedError("neurosim_recurrent runs only on the cpp_standalone device")

    fn = brian2.Function(python_fallback, arg_units=[1], arg_names=["i"], arg_types=["integer"],
                         return_unit=1, return_type="float", stateless=False)
    fn.implementations.add_implementation("cpp", code, name="neurosim_recurrent",
                                          namespace={"neurosim_W_rec": W})
    objects = []
    if net.form == "current":
        f_of_x = activations.get(net.activation).brian.format(x="x")
        objects.append(group.run_regularly(f"s = {f_of_x}", dt=clock_dt, when="before_groups", order=0,
                                           name="neurosim_source"))
    objects.append(group.run_regularly("I_rec = neurosim_recurrent(i)", dt=clock_dt, when="before_groups",
                                       order=1, name="neurosim_recurrent"))
    return objects, {"neurosim_recurrent": fn}, {}


# C++: at i == 0 (the first neuron of the sequential run_regularly loop) compute I = s W_rec^T for all copies.
_CPP_MATMUL = """
static double _neurosim_I_rec[{BN}];
double neurosim_recurrent(const int i)
{{
    if (i == 0)
    {{
        const double* s = brian::{source};
        const double* W = _namespaceneurosim_W_rec;
        for (int row = 0; row < {N}; row++)
        {{
            const double* w = W + row * {N};
            for (int b = 0; b < {B}; b++)
            {{
                const double* sb = s + b * {N};
                double acc = 0.0;
                for (int col = 0; col < {N}; col++)
                    acc += w[col] * sb[col];
                _neurosim_I_rec[b * {N} + row] = acc;
            }}
        }}
    }}
    return _neurosim_I_rec[i];
}}
"""
