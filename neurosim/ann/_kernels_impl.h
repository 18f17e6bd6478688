/* The gated cells' elementwise step arithmetic, for one floating-point type: _kernels.h includes this file
 * once with REAL = float (names ending _f) and once with REAL = double (_d).
 *
 * Every block is row-major with B trials per row; one step's gate blocks are contiguous ((G H, B) as one
 * array), so most loops run over a step's H B elements as one flat array, which the compiler vectorises
 * (`restrict`: no two blocks overlap). h_t lives in the columns matrix ([x_t; h_{t-1}; 1] or [h_{t-1}; 1; x_t])
 * with a row stride of ld_h = (T + 1) B. The equations are those of the numpy loops in lstm.py and gru.py.
 */

#define NAME(x) NEUROSIM_CAT(x, SFX)

/* LSTM forward, after tanh over all four gate blocks [o; i; f; g] of Z (5H, B), whose last block is c_{t-1}:
 * o, i, f <- 0.5 + 0.5 tanh(a / 2) (the sigmoid; the 1/2 inside is folded into the weights);
 * c_t = f c_{t-1} + i g */
static inline void NAME(lstm_gates)(REAL* restrict Z, REAL* restrict c_next, const ptrdiff_t H,
                                    const ptrdiff_t B)
{
    const ptrdiff_t HB = H * B;
    REAL* restrict o = Z;
    REAL* restrict i = Z + HB;
    REAL* restrict f = Z + 2 * HB;
    const REAL* restrict g = Z + 3 * HB;
    const REAL* restrict c_prev = Z + 4 * HB;
    for (ptrdiff_t e = 0; e < HB; e++) {
        const REAL i_e = (REAL)0.5 + (REAL)0.5 * i[e], f_e = (REAL)0.5 + (REAL)0.5 * f[e];
        o[e] = (REAL)0.5 + (REAL)0.5 * o[e];
        i[e] = i_e;
        f[e] = f_e;
        c_next[e] = f_e * c_prev[e] + i_e * g[e];
    }
}

/* LSTM forward: h_t = o tanh(c_t), into H rows of stride ld_h */
static inline void NAME(lstm_hidden)(const REAL* restrict o, const REAL* restrict tanh_c, REAL* restrict h,
                                     const ptrdiff_t ld_h, const ptrdiff_t H, const ptrdiff_t B)
{
    for (ptrdiff_t j = 0; j < H; j++)
        for (ptrdiff_t b = 0; b < B; b++)
            h[j * ld_h + b] = o[j * B + b] * tanh_c[j * B + b];
}

/* LSTM backward, one step, from Z = [o; i; f; g; c_{t-1}] and tanh(c_t):
 *   dh = dL/dh_t = dh_readout + carry                 (carry = W_hh^T da_{t+1})
 *   dc = dL/dc_t = dh o (1 - tanh(c_t)^2) + dc f_{t+1}  (dc holds dL/dc_{t+1} on entry; f_next NULL at t = T-1)
 *   da_o = dh tanh(c_t) o (1 - o)     da_i = dc g i (1 - i)
 *   da_f = dc c_{t-1} f (1 - f)       da_g = dc i (1 - g^2)
 * into da (4H, B), gates o, i, f, g. */
static inline void NAME(lstm_backward_step)(const REAL* restrict Z, const REAL* restrict f_next,
                                            const REAL* restrict tanh_c, const REAL* restrict dh_readout,
                                            const REAL* restrict carry, REAL* restrict dc, REAL* restrict da,
                                            const ptrdiff_t H, const ptrdiff_t B)
{
    const ptrdiff_t HB = H * B;
    const REAL* restrict o = Z;
    const REAL* restrict i = Z + HB;
    const REAL* restrict f = Z + 2 * HB;
    const REAL* restrict g = Z + 3 * HB;
    const REAL* restrict c_prev = Z + 4 * HB;
    /* one loop each way, so that neither has a branch inside: with and without the path through
     * c_{t+1} = f_{t+1} c_t + ... */
#define LSTM_BACKWARD_ELEMENT(CARRIED)                                                                        \
        const REAL t = tanh_c[e], dh = dh_readout[e] + carry[e], c = dh * (o[e] * (1 - t * t)) + CARRIED;    \
        dc[e] = c;                                                                                            \
        da[e] = dh * t * ((1 - o[e]) * o[e]);                                                                 \
        da[HB + e] = c * ((1 - i[e]) * i[e] * g[e]);                                                          \
        da[2 * HB + e] = c * ((1 - f[e]) * f[e] * c_prev[e]);                                                 \
        da[3 * HB + e] = c * ((1 - g[e] * g[e]) * i[e]);
    if (f_next)
        for (ptrdiff_t e = 0; e < HB; e++) {
            LSTM_BACKWARD_ELEMENT(dc[e] * f_next[e])
        }
    else
        for (ptrdiff_t e = 0; e < HB; e++) {
            LSTM_BACKWARD_ELEMENT((REAL)0)
        }
#undef LSTM_BACKWARD_ELEMENT
}

/* GRU forward, after tanh over the r, z blocks of G = [r; z; m_n] (3H, B):
 * r, z <- 0.5 + 0.5 tanh(a / 2); n <- u_n + r m_n (before its tanh; u_n rows have stride ld_u) */
static inline void NAME(gru_gates)(REAL* restrict G, const REAL* restrict u_n, const ptrdiff_t ld_u,
                                   REAL* restrict n, const ptrdiff_t H, const ptrdiff_t B)
{
    const ptrdiff_t HB = H * B;
    REAL* restrict r = G;
    REAL* restrict z = G + HB;
    const REAL* restrict m_n = G + 2 * HB;
    for (ptrdiff_t j = 0; j < H; j++)
        for (ptrdiff_t b = 0; b < B; b++) {
            const ptrdiff_t e = j * B + b;
            const REAL r_e = (REAL)0.5 + (REAL)0.5 * r[e];
            r[e] = r_e;
            z[e] = (REAL)0.5 + (REAL)0.5 * z[e];
            n[e] = r_e * m_n[e] + u_n[j * ld_u + b];
        }
}

/* GRU forward: h_t = n + z (h_{t-1} - n), both h in rows of stride ld_h */
static inline void NAME(gru_hidden)(const REAL* restrict z, const REAL* restrict n, const REAL* restrict h_prev,
                                    REAL* restrict h, const ptrdiff_t ld_h, const ptrdiff_t H, const ptrdiff_t B)
{
    for (ptrdiff_t j = 0; j < H; j++)
        for (ptrdiff_t b = 0; b < B; b++)
            h[j * ld_h + b] = n[j * B + b] + z[j * B + b] * (h_prev[j * ld_h + b] - n[j * B + b]);
}

/* GRU backward, one step, from G = [r; z; m_n], n and h_{t-1} (rows of stride ld_h):
 *   dh = dL/dh_t = dh_readout + carry
 *   da_n = dh (1 - z) (1 - n^2)      da_z = dh (h_{t-1} - n) z (1 - z)
 *   dm_n = da_n r                     da_r = da_n m_n r (1 - r)
 * [da_r; da_z; dm_n] into dm (3H, B), da_n into da_n (H, B); carry <- dh z (h_t = ... + z h_{t-1}; the
 * product W_hh^T dm is added to it next). */
static inline void NAME(gru_backward_step)(const REAL* restrict G, const REAL* restrict n,
                                           const REAL* restrict h_prev, const ptrdiff_t ld_h,
                                           const REAL* restrict dh_readout, REAL* restrict carry,
                                           REAL* restrict dm, REAL* restrict da_n, const ptrdiff_t H,
                                           const ptrdiff_t B)
{
    const ptrdiff_t HB = H * B;
    const REAL* restrict r = G;
    const REAL* restrict z = G + HB;
    const REAL* restrict m_n = G + 2 * HB;
    for (ptrdiff_t j = 0; j < H; j++)
        for (ptrdiff_t b = 0; b < B; b++) {
            const ptrdiff_t e = j * B + b;
            const REAL dh = dh_readout[e] + carry[e];
            const REAL a_n = dh * ((1 - n[e] * n[e]) * (1 - z[e]));
            da_n[e] = a_n;
            dm[e] = a_n * (((1 - r[e]) * r[e]) * m_n[e]);
            dm[HB + e] = dh * ((h_prev[j * ld_h + b] - n[e]) * ((1 - z[e]) * z[e]));
            dm[2 * HB + e] = a_n * r[e];
            carry[e] = dh * z[e];
        }
}

/* rnn, rate form, forward, after tanh (h = f(a_t)): x_{t+1} = alpha h (+ (1 - alpha) x_t) (+ n_t), operation by
 * operation as rnn.run does it in numpy (setup.py compiles without fused multiply-adds, so the two agree bit for
 * bit) */
static inline void NAME(rnn_leak)(const REAL* restrict h, const REAL* restrict x, const REAL* restrict noise,
                                  REAL* restrict x_next, const REAL alpha, const REAL leak, const ptrdiff_t n)
{
    for (ptrdiff_t e = 0; e < n; e++)
        x_next[e] = h[e] * alpha;
    if (leak != 0)
        for (ptrdiff_t e = 0; e < n; e++)
            x_next[e] = x_next[e] + x[e] * leak;
    if (noise)
        for (ptrdiff_t e = 0; e < n; e++)
            x_next[e] = x_next[e] + noise[e];
}

/* rnn, rate form with tanh, backward, one step: d = dL/dr_t = dS_t + carry; E_t = alpha (1 - h_t^2) d (the
 * factor alpha only where alpha != 1, as rnn.backward applies it); carry <- (1 - alpha) d where there is a leak
 * (the product E_t W_rec is added to it next), in rnn.backward's order of operations */
static inline void NAME(rnn_backward_step)(const REAL* restrict h, const REAL* restrict dS, REAL* restrict carry,
                                           REAL* restrict E, const REAL alpha, const REAL leak, const ptrdiff_t n)
{
    if (alpha == 1)
        for (ptrdiff_t e = 0; e < n; e++)
            E[e] = (1 - h[e] * h[e]) * (dS[e] + carry[e]);
    else
        for (ptrdiff_t e = 0; e < n; e++) {
            const REAL d = dS[e] + carry[e];
            E[e] = ((1 - h[e] * h[e]) * alpha) * d;
            carry[e] = d * leak;
        }
}

/* rows of B elements from a contiguous (rows, B) block into rows of stride ld (the (G H, T, B) matrices of
 * the weight-gradient products) */
static inline void NAME(scatter_rows)(const REAL* restrict src, REAL* restrict dst, const ptrdiff_t ld,
                                      const ptrdiff_t rows, const ptrdiff_t B)
{
    for (ptrdiff_t q = 0; q < rows; q++)
        memcpy(dst + q * ld, src + q * B, (size_t)B * sizeof(REAL));
}

#undef NAME
