# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The cells' time loops in C: each step's product and its elementwise arithmetic with no Python in between.

numpy runs each elementwise operation as one pass over memory behind one Python call: an LSTM step is 7
such calls forward and 15 backward, and at H = 64 their fixed cost is most of the step. Here each step's gate
arithmetic is one or two loops over its (H, B) blocks (``_kernels_impl.h``, plain C that the compiler
vectorises), and the step's product calls BLAS directly: scipy's BLAS (``scipy.linalg.cython_blas``, fetched
at import), in the row blocks of :mod:`._gemm`. The tanh stays numpy's, called on the step's views: it is
vectorised, and the C library's is several times slower (measured: 8-9 ns per element against numpy's 0.3
(float32) and 1.2 (float64)).

The rate-form rnn with tanh (:mod:`.rnn`) gets the same treatment: the step's product added into the
precomputed drive by BLAS (beta = 1), then numpy's tanh, and backward one loop and one product per step.

The numpy loops of :mod:`.lstm`, :mod:`.gru` and :mod:`.rnn` state the equations and remain the reference
(``NEUROSIM_KERNELS=numpy`` selects them, :mod:`._compiled`); tests/test_kernels.py checks that the gated
cells' agree to round-off (their C loops regroup a few operations) and that the rnn's are equal bit for bit
(the same operations in the same order, and setup.py compiles without fused multiply-adds), so that a stack of
rnns (:mod:`.stacked`) stays bit-identical to each network alone.
"""

from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libc.limits cimport INT_MAX
from scipy.linalg import cython_blas

ctypedef void (*sgemm_t)(char* transa, char* transb, int* m, int* n, int* k, float* alpha, float* a, int* lda,
                         float* b, int* ldb, float* beta, float* c, int* ldc) noexcept nogil
ctypedef void (*dgemm_t)(char* transa, char* transb, int* m, int* n, int* k, double* alpha, double* a, int* lda,
                         double* b, int* ldb, double* beta, double* c, int* ldc) noexcept nogil


cdef void* _blas(str name) except NULL:
    capsule = cython_blas.__pyx_capi__[name]
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef sgemm_t sgemm = <sgemm_t>_blas("sgemm")
cdef dgemm_t dgemm = <dgemm_t>_blas("dgemm")

cdef int _blas_int(Py_ssize_t n, str what) except -1:
    """n as BLAS's (32-bit) int, or a clear error where it does not fit."""
    if n > INT_MAX:
        raise OverflowError(f"{what} = {n} is more than BLAS's 32-bit sizes allow ({INT_MAX}); "
                            "use fewer steps or trials per call")
    return <int>n


ctypedef fused real:
    float
    double

cdef extern from "_kernels.h" nogil:
    void lstm_gates_f(float* Z, float* c_next, Py_ssize_t H, Py_ssize_t B)
    void lstm_gates_d(double* Z, double* c_next, Py_ssize_t H, Py_ssize_t B)
    void lstm_hidden_f(const float* o, const float* tanh_c, float* h, Py_ssize_t ld_h, Py_ssize_t H,
                       Py_ssize_t B)
    void lstm_hidden_d(const double* o, const double* tanh_c, double* h, Py_ssize_t ld_h, Py_ssize_t H,
                       Py_ssize_t B)
    void lstm_backward_step_f(const float* Z, const float* f_next, const float* tanh_c, const float* dh_readout,
                              const float* carry, float* dc, float* da, Py_ssize_t H, Py_ssize_t B)
    void lstm_backward_step_d(const double* Z, const double* f_next, const double* tanh_c,
                              const double* dh_readout, const double* carry, double* dc, double* da,
                              Py_ssize_t H, Py_ssize_t B)
    void gru_gates_f(float* G, const float* u_n, Py_ssize_t ld_u, float* n, Py_ssize_t H, Py_ssize_t B)
    void gru_gates_d(double* G, const double* u_n, Py_ssize_t ld_u, double* n, Py_ssize_t H, Py_ssize_t B)
    void gru_hidden_f(const float* z, const float* n, const float* h_prev, float* h, Py_ssize_t ld_h,
                      Py_ssize_t H, Py_ssize_t B)
    void gru_hidden_d(const double* z, const double* n, const double* h_prev, double* h, Py_ssize_t ld_h,
                      Py_ssize_t H, Py_ssize_t B)
    void gru_backward_step_f(const float* G, const float* n, const float* h_prev, Py_ssize_t ld_h,
                             const float* dh_readout, float* carry, float* dm, float* da_n, Py_ssize_t H,
                             Py_ssize_t B)
    void gru_backward_step_d(const double* G, const double* n, const double* h_prev, Py_ssize_t ld_h,
                             const double* dh_readout, double* carry, double* dm, double* da_n, Py_ssize_t H,
                             Py_ssize_t B)
    void rnn_leak_f(const float* h, const float* x, const float* noise, float* x_next, float alpha, float leak,
                    Py_ssize_t n)
    void rnn_leak_d(const double* h, const double* x, const double* noise, double* x_next, double alpha,
                    double leak, Py_ssize_t n)
    void rnn_backward_step_f(const float* h, const float* dS, float* carry, float* E, float alpha, float leak,
                             Py_ssize_t n)
    void rnn_backward_step_d(const double* h, const double* dS, double* carry, double* E, double alpha,
                             double leak, Py_ssize_t n)
    void scatter_rows_f(const float* src, float* dst, Py_ssize_t ld, Py_ssize_t rows, Py_ssize_t B)
    void scatter_rows_d(const double* src, double* dst, Py_ssize_t ld, Py_ssize_t rows, Py_ssize_t B)


cdef inline void _gemm_nn(int m, int n, int k, const real* A, int lda, const real* B, int ldb, real beta, real* C,
                          int ldc) noexcept nogil:
    """BLAS's column-major C (m, n) = A (m, k) B (k, n) + beta C, in float or double."""
    cdef char N = b"N"
    cdef real one = 1.0
    if real is float:
        sgemm(&N, &N, &m, &n, &k, &one, <float*>A, &lda, <float*>B, &ldb, &beta, <float*>C, &ldc)
    else:
        dgemm(&N, &N, &m, &n, &k, &one, <double*>A, &lda, <double*>B, &ldb, &beta, <double*>C, &ldc)


cdef inline void _gemm(const real* A, int k, int lda, const real* X, int n, int ldx, real beta,
                       real* C, int ldc, const int[::1] rows) noexcept nogil:
    """C = A @ X + beta C, row-major: A with k columns and row stride lda, X (k, n) with row stride ldx, C with
    row stride ldc; one product per row block ``rows[q]:rows[q + 1]`` (:func:`neurosim.ann._gemm.blocks`)."""
    # row-major C = A X is column-major C^T = X^T A^T: BLAS sees an (n, rows) result
    cdef int q
    for q in range(rows.shape[0] - 1):
        _gemm_nn(n, rows[q + 1] - rows[q], k, X, ldx, A + <Py_ssize_t>rows[q] * lda, lda, beta,
                 C + <Py_ssize_t>rows[q] * ldc, ldc)


cdef inline void _gemm_cols(const real* X, const real* W, int N, int B, real beta, real* C,
                            const int[::1] cols) noexcept nogil:
    """C = X @ W + beta C, row-major, X (B, N), W (N, N) and C (B, N) contiguous; one product per column block
    ``cols[q]:cols[q + 1]`` (:func:`neurosim.ann._gemm.blocks`): the very call numpy's matmul makes for
    ``_gemm.matmul_cols``."""
    # row-major C[:, c] = X W[:, c] is column-major C^T[c] = W[:, c]^T X^T
    cdef int q
    for q in range(cols.shape[0] - 1):
        _gemm_nn(cols[q + 1] - cols[q], B, N, W + cols[q], N, X, N, beta, C + cols[q], N)


def rnn_forward(const real[:, ::1] W_recT, const int[::1] cols, real[:, :, ::1] xs, real[:, :, ::1] A,
                real[:, :, ::1] H, noise, double alpha, list As, list Hs, object tanh):
    """One rate-form rnn's forward time loop with tanh (:func:`neurosim.ann.rnn.run`): A (T, B, N) holds the drive
    W_in u_t + b and becomes a_t; Hs[t] = tanh(As[t]) (numpy's); xs (T + 1, B, N) gets r_t unless H is xs[1:]
    (alpha = 1 without noise). noise: (T, B, N) or None."""
    cdef int T = A.shape[0], B = A.shape[1], N = A.shape[2], t
    cdef Py_ssize_t n = <Py_ssize_t>B * N
    cdef real a = <real>alpha, leak = <real>(1.0 - alpha)
    cdef bint elman = leak == 0 and noise is None
    cdef const real[:, :, ::1] noise_
    cdef const real* nz = NULL
    if noise is not None:
        noise_ = noise
    for t in range(T):
        with nogil:
            _gemm_cols(&xs[t, 0, 0], &W_recT[0, 0], N, B, <real>1, &A[t, 0, 0], cols)  # a_t = drive + W_rec r_{t-1}
        tanh(As[t], Hs[t])
        if not elman:
            if noise is not None:
                nz = &noise_[t, 0, 0]
            with nogil:
                if real is float:
                    rnn_leak_f(&H[t, 0, 0], &xs[t, 0, 0], nz, &xs[t + 1, 0, 0], a, leak, n)
                else:
                    rnn_leak_d(&H[t, 0, 0], &xs[t, 0, 0], nz, &xs[t + 1, 0, 0], a, leak, n)


def rnn_backward(const real[:, ::1] W_rec, const int[::1] cols, const real[:, :, ::1] H,
                 const real[:, :, ::1] dS, real[:, :, ::1] E, real[:, ::1] carry, double alpha):
    """One rate-form rnn's backward time loop with tanh (:func:`neurosim.ann.rnn.backward`): E (T, B, N) gets
    dL/d(drive) at every step. ``carry`` (B, N) is scratch."""
    cdef int T = E.shape[0], B = E.shape[1], N = E.shape[2], t
    cdef Py_ssize_t n = <Py_ssize_t>B * N
    cdef real a = <real>alpha, leak = <real>(1.0 - alpha)
    with nogil:
        carry[:, :] = 0
        for t in range(T - 1, -1, -1):
            if real is float:
                rnn_backward_step_f(&H[t, 0, 0], &dS[t, 0, 0], &carry[0, 0], &E[t, 0, 0], a, leak, n)
            else:
                rnn_backward_step_d(&H[t, 0, 0], &dS[t, 0, 0], &carry[0, 0], &E[t, 0, 0], a, leak, n)
            _gemm_cols(&E[t, 0, 0], &W_rec[0, 0], N, B, <real>(0 if leak == 0 else 1), &carry[0, 0], cols)


def lstm_forward(const real[:, ::1] W, const int[::1] rows, real[:, :, ::1] xh, int n_in, real[:, :, ::1] Z,
                 real[:, :, ::1] tanh_c, list gates, list cells, list tanh_cells, object tanh):
    """The LSTM's forward time loop (:func:`neurosim.ann.lstm.run`): fills Z, tanh_c and the h rows of xh.

    ``gates[t]``, ``cells[t]``, ``tanh_cells[t]`` are the numpy views Z[t, :4H], Z[t + 1, 4H:], tanh_c[t], on
    which ``tanh`` (numpy's, with ``out``) is called."""
    cdef int T = tanh_c.shape[0], H = tanh_c.shape[1], B = tanh_c.shape[2], K = xh.shape[0], t
    cdef int ld_x = _blas_int(<Py_ssize_t>(T + 1) * B, "(steps + 1) x trials")
    for t in range(T):
        with nogil:
            _gemm(&W[0, 0], K, K, &xh[0, t, 0], B, ld_x, <real>0, &Z[t, 0, 0], B, rows)  # all four gates
        tanh(gates[t], gates[t])
        with nogil:
            if real is float:
                lstm_gates_f(&Z[t, 0, 0], &Z[t + 1, 4 * H, 0], H, B)
            else:
                lstm_gates_d(&Z[t, 0, 0], &Z[t + 1, 4 * H, 0], H, B)
        tanh(cells[t], tanh_cells[t])
        with nogil:
            if real is float:
                lstm_hidden_f(&Z[t, 0, 0], &tanh_c[t, 0, 0], &xh[n_in, t + 1, 0], ld_x, H, B)
            else:
                lstm_hidden_d(&Z[t, 0, 0], &tanh_c[t, 0, 0], &xh[n_in, t + 1, 0], ld_x, H, B)


def lstm_backward(const real[:, :, ::1] Z, const real[:, :, ::1] tanh_c, const real[:, :, ::1] dh_readout,
                  const real[:, ::1] W_hhT, const int[::1] rows, real[:, :, ::1] dA, real[:, ::1] da,
                  real[:, ::1] carry, real[:, ::1] dc):
    """The LSTM's backward time loop (:func:`neurosim.ann.lstm.backward`): writes dL/da_t into ``dA``
    (4 H, T, B), gates in the internal order o, i, f, g. ``da`` (4H, B), ``carry`` and ``dc`` (H, B) are
    scratch."""
    cdef int T = tanh_c.shape[0], H = tanh_c.shape[1], B = tanh_c.shape[2], t
    cdef Py_ssize_t ld_A = <Py_ssize_t>T * B
    cdef const real* f_next
    with nogil:
        carry[:, :] = 0
        for t in range(T - 1, -1, -1):
            f_next = &Z[t + 1, 2 * H, 0] if t + 1 < T else NULL
            if real is float:
                lstm_backward_step_f(&Z[t, 0, 0], f_next, &tanh_c[t, 0, 0], &dh_readout[t, 0, 0], &carry[0, 0],
                                     &dc[0, 0], &da[0, 0], H, B)
                scatter_rows_f(&da[0, 0], &dA[0, t, 0], ld_A, 4 * H, B)
            else:
                lstm_backward_step_d(&Z[t, 0, 0], f_next, &tanh_c[t, 0, 0], &dh_readout[t, 0, 0], &carry[0, 0],
                                     &dc[0, 0], &da[0, 0], H, B)
                scatter_rows_d(&da[0, 0], &dA[0, t, 0], ld_A, 4 * H, B)
            _gemm(&W_hhT[0, 0], 4 * H, 4 * H, &da[0, 0], B, B, <real>0, &carry[0, 0], B, rows)  # W_hh^T da_t


def gru_forward(const real[:, ::1] W, const int[::1] rows, real[:, :, ::1] hx, const real[:, :, ::1] u_n,
                real[:, :, ::1] G, real[:, :, ::1] n, list rz, list ns, object tanh):
    """The GRU's forward time loop (:func:`neurosim.ann.gru.run`): fills G, n and the h rows of hx.

    ``rz[t]`` and ``ns[t]`` are the numpy views G[t, :2H] and n[t], on which ``tanh`` is called."""
    cdef int T = n.shape[0], H = n.shape[1], B = n.shape[2], K = hx.shape[0], t
    cdef int ld_x = _blas_int(<Py_ssize_t>(T + 1) * B, "(steps + 1) x trials")
    cdef Py_ssize_t ld_u = <Py_ssize_t>T * B
    for t in range(T):
        with nogil:
            _gemm(&W[0, 0], K, K, &hx[0, t, 0], B, ld_x, <real>0, &G[t, 0, 0], B, rows)  # [a_r/2; a_z/2; m_n]
        tanh(rz[t], rz[t])
        with nogil:
            if real is float:
                gru_gates_f(&G[t, 0, 0], &u_n[0, t, 0], ld_u, &n[t, 0, 0], H, B)
            else:
                gru_gates_d(&G[t, 0, 0], &u_n[0, t, 0], ld_u, &n[t, 0, 0], H, B)
        tanh(ns[t], ns[t])
        with nogil:
            if real is float:
                gru_hidden_f(&G[t, H, 0], &n[t, 0, 0], &hx[0, t, 0], &hx[0, t + 1, 0], ld_x, H, B)
            else:
                gru_hidden_d(&G[t, H, 0], &n[t, 0, 0], &hx[0, t, 0], &hx[0, t + 1, 0], ld_x, H, B)


def gru_backward(const real[:, :, ::1] G, const real[:, :, ::1] n, const real[:, :, ::1] hx,
                 const real[:, :, ::1] dh_readout, const real[:, ::1] W_hhT, const int[::1] rows,
                 real[:, :, ::1] dM, real[:, :, ::1] dN, real[:, ::1] dm, real[:, ::1] da_n, real[:, ::1] carry):
    """The GRU's backward time loop (:func:`neurosim.ann.gru.backward`): writes [da_r; da_z; dm_n] into ``dM``
    (3H, T, B) and da_n into ``dN`` (H, T, B). ``dm`` (3H, B), ``da_n`` and ``carry`` (H, B) are scratch."""
    cdef int T = n.shape[0], H = n.shape[1], B = n.shape[2], t
    cdef Py_ssize_t ld_x = <Py_ssize_t>(T + 1) * B, ld_A = <Py_ssize_t>T * B
    with nogil:
        carry[:, :] = 0
        for t in range(T - 1, -1, -1):
            if real is float:
                gru_backward_step_f(&G[t, 0, 0], &n[t, 0, 0], &hx[0, t, 0], ld_x, &dh_readout[t, 0, 0],
                                    &carry[0, 0], &dm[0, 0], &da_n[0, 0], H, B)
                scatter_rows_f(&dm[0, 0], &dM[0, t, 0], ld_A, 3 * H, B)
                scatter_rows_f(&da_n[0, 0], &dN[0, t, 0], ld_A, H, B)
            else:
                gru_backward_step_d(&G[t, 0, 0], &n[t, 0, 0], &hx[0, t, 0], ld_x, &dh_readout[t, 0, 0],
                                    &carry[0, 0], &dm[0, 0], &da_n[0, 0], H, B)
                scatter_rows_d(&dm[0, 0], &dM[0, t, 0], ld_A, 3 * H, B)
                scatter_rows_d(&da_n[0, 0], &dN[0, t, 0], ld_A, H, B)
            _gemm(&W_hhT[0, 0], 3 * H, 3 * H, &dm[0, 0], B, B, <real>1, &carry[0, 0], B, rows)  # += W_hh^T dm
