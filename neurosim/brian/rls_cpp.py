"""The RLS step in C++, for FORCE learning inside a ``cpp_standalone`` Brian2 run (no Python in the loop there).

The same equations as the numpy core :meth:`neurosim.learning.rls.RLS.update`, in the same order (P's old value
gives k; the error e = W r - f is measured before the update; ``P(0) = I / alpha``)::

    k = P r                              (N,)
    c = 1 / (1 + r^T k)
    P <- P - c k k^T
    W <- W - c e k^T                     step = "normalised"   (Sussillo & Abbott 2009)
    W <- W -   e k^T                     step = "unnormalised" (Nicola & Clopath 2017)

P is one (N, N) row-major buffer of which only the lower triangle is kept (P is symmetric), W the (n_out, N)
readout, both updated in place: two passes over the triangle per step (the product P r, then the rank-one
update), as the numpy core's ``?symv`` + ``?syr`` + ``?ger`` do. The code is plain
loops that the compiler vectorises (Brian2 compiles with ``-O3``); :data:`SOURCE` is prepended to the C++
implementation of the Brian2 ``Function`` that runs a FORCE hook (:mod:`neurosim.brian.force`,
:mod:`neurosim.brian.spiking_force`). It is checked against the numpy core by tests/test_force_brian.py.
"""

from __future__ import annotations

__all__ = ["SOURCE", "P_INIT", "written_by_hook"]

# static helpers: the RLS step and P's initial value; the names carry the neurosim_ prefix to stay out of Brian2's
SOURCE = """
static void neurosim_rls_update(double* P, double* W, const double* r, const double* e, double* k,
                                const int N, const int n_out, const bool normalised)
{
    for (int a = 0; a < N; a++)
        k[a] = 0.0;
    for (int a = 0; a < N; a++)                     // k = P r from the lower triangle (symv)
    {
        const double* Pa = P + (long)a * N;
        const double ra = r[a];
        double acc = 0.0;
        for (int b = 0; b < a; b++)
        {
            acc += Pa[b] * r[b];                    // row a left of the diagonal
            k[b] += Pa[b] * ra;                     // the same entries as column a above it
        }
        k[a] += acc + Pa[a] * ra;
    }
    double rk = 0.0;
    for (int a = 0; a < N; a++)
        rk += r[a] * k[a];
    const double c = 1.0 / (1.0 + rk);
    const double gain = normalised ? c : 1.0;
    for (int a = 0; a < N; a++)                     // P <- P - c k k^T on the lower triangle (syr)
    {
        double* Pa = P + (long)a * N;
        const double cka = c * k[a];
        for (int b = 0; b <= a; b++)
            Pa[b] -= cka * k[b];
    }
    for (int o = 0; o < n_out; o++)                 // W <- W - gain e k^T (ger)
    {
        double* Wo = W + (long)o * N;
        const double ge = gain * e[o];
        for (int a = 0; a < N; a++)
            Wo[a] -= ge * k[a];
    }
}

static double* neurosim_rls_P_init(const int N, const double alpha)
{
    double* P = new double[(long)N * N];            // freed when the program ends
    for (long ab = 0; ab < (long)N * N; ab++)
        P[ab] = 0.0;
    for (int a = 0; a < N; a++)
        P[(long)a * N + a] = 1.0 / alpha;           // P(0) = I / alpha
    return P;
}
"""

P_INIT = "neurosim_rls_P_init"


def written_by_hook(device, *variables) -> None:
    """Tell the cpp_standalone ``device`` that a C++ hook writes ``variables`` (Brian2 ``ArrayVariable``s).

    The device caches the values it knows (set before the run, or zeros from creation) and returns them after
    the run instead of reading the results, unless a generated code object writes the variable; a hook writing
    through ``brian::`` pointers is invisible to it. Forgetting the cache makes ``get_value`` read the results.
    """
    for var in variables:
        device.array_cache[var] = None
