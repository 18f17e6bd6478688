"""neurosim.analysis.dynamics against references: finite differences, ann.forward, closed forms, mean field."""

import numpy as np
import pytest

import neurosim as ns
from neurosim.analysis import dynamics as dyn


def _nets():
    rng = np.random.default_rng(0)
    return {
        "rate": ns.RateNetwork.random(3, 7, 2, form="rate", tau=0.1, dt=0.03, g=1.3, rng=1).replace(b=rng.normal(size=7)),
        "current": ns.RateNetwork.random(3, 7, 2, form="current", tau=0.1, dt=0.03, g=1.3, activation="sigmoid", rng=1),
        "elman": ns.RateNetwork.random(3, 6, 2, tau=0.01, dt=0.01, g=1.5, activation="softplus", rng=3),
        "gru": ns.GatedNetwork.random(3, 5, 2, cell="gru", init="pytorch", rng=2),
        "lstm": ns.GatedNetwork.random(3, 5, 2, cell="lstm", init="pytorch", rng=2),
    }


NETS = _nets()


@pytest.mark.parametrize("name", sorted(NETS))
def test_jacobian_matches_finite_differences(name):
    net, rng = NETS[name], np.random.default_rng(1)
    n = dyn.state_size(net)
    x, u = rng.normal(size=(4, n)), rng.normal(size=3)
    J = dyn.jacobian(net, x, u)  # (4, n, n)
    eps = 1e-6
    J_fd = np.stack([(dyn.step(net, x + eps * e, u) - dyn.step(net, x - eps * e, u)) / (2 * eps) for e in np.eye(n)],
                    axis=2)
    np.testing.assert_allclose(J, J_fd, atol=1e-8)
    V, W = rng.normal(size=(4, n, 3)), rng.normal(size=(4, n))
    np.testing.assert_allclose(dyn.jvp(net, x, u, V), J @ V, atol=1e-12)
    np.testing.assert_allclose(dyn.vjp(net, x, u, W), np.einsum("bij,bi->bj", J, W), atol=1e-12)


@pytest.mark.parametrize("name", sorted(NETS))
def test_step_is_the_ann_step(name):
    net = NETS[name]
    u = np.random.default_rng(2).normal(size=(3, 9, 3))
    states, outputs = ns.ann.forward(net, u)
    x = dyn.trajectory(net, u)  # (3, 9, n)
    np.testing.assert_allclose(x[..., :net.n_rec], states, atol=1e-13)
    np.testing.assert_allclose(dyn.readout(net, x.reshape(-1, x.shape[-1])), outputs.reshape(-1, net.n_out),
                               atol=1e-13)


def test_errors_name_the_field():
    net = NETS["lstm"]
    with pytest.raises(ValueError, match=r"x: expected shape \(any, 10\)"):
        dyn.step(net, np.zeros(5))
    with pytest.raises(ValueError, match="u: expected shape"):
        dyn.step(net, np.zeros(10), np.zeros(2))
    with pytest.raises(ValueError, match="gated LSTM"):
        dyn.lyapunov_qr(net, 1.0, sim_dt=net.dt / 2)
    with pytest.raises(TypeError, match="expected a neurosim network"):
        dyn.state_size(object())


def test_qr_exponents_of_a_linear_map_are_log_eigenvalue_moduli():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 6))
    W = (A + A.T) / 4  # symmetric: the exponents are log |(1 - a) + a mu| exactly
    net = ns.RateNetwork(W_in=np.zeros((6, 1)), W_rec=W, b=np.zeros(6), W_out=np.zeros((1, 6)), b_out=np.zeros(1),
                         tau=0.1, dt=0.05, activation="linear")
    L = dyn.lyapunov_qr(net, 40.0, transient=5.0, k=3, x0=rng.normal(size=6), rng=0)
    expect = np.sort(np.log(np.abs(0.5 + 0.5 * np.linalg.eigvalsh(W))))[::-1][:3]
    np.testing.assert_allclose(L.per_step[0], expect, atol=1e-3)
    np.testing.assert_allclose(L.per_tau, L.exponents * 0.1)


def test_qr_and_twin_agree_on_a_chaotic_network():
    net = ns.RateNetwork.random(1, 150, 1, tau=0.1, dt=0.01, g=3.0, rng=0)
    qr = dyn.lyapunov_qr(net, 10.0, transient=2.0, rng=0)
    twin = dyn.lyapunov_twin(net, 10.0, transient=2.0, renorm=0.05, rng=0)
    assert qr.per_tau[0, 0] > 0.1  # chaotic (at g = 3 about 0.2 / tau; at N = 100, g = 2 finite size can stop it)
    assert abs(twin.largest - qr.largest) < 0.01 * abs(qr.largest)


def test_continuous_limit_below_one_is_g_minus_one():
    # the zero state of tau dr/dt = -r + tanh(g W r): exponent = spectral abscissa of -I + g W, per tau
    net = ns.RateNetwork.random(1, 200, 1, tau=0.1, dt=0.01, g=0.5, rng=4)
    L = dyn.lyapunov_qr(net, 10.0, transient=5.0, sim_dt=0.0025, rng=0)
    abscissa = np.max(np.linalg.eigvals(net.W_rec).real) - 1.0
    assert abs(L.per_tau[0, 0] - abscissa) < 0.02
    assert dyn.mean_field_continuous(0.5) == -0.5


def test_mean_field_continuous_above_one_is_chaotic_with_a_quadratic_onset():
    """Dynamic mean-field theory above g = 1: positive, increasing, converged in its grid, and vanishing as
    (g - 1)^2 at the transition (a linear onset would make lambda / (g - 1)^2 blow up as g -> 1, a cubic one
    would make it vanish)."""
    gains = [1.05, 1.1, 1.2, 1.5, 2.0, 3.0]
    lam = [dyn.mean_field_continuous(g) for g in gains]
    assert all(0 < a < b for a, b in zip(lam, lam[1:]))
    scaled = [x / (g - 1) ** 2 for g, x in zip(gains[:3], lam[:3])]
    assert all(0.2 < c < 0.6 for c in scaled) and scaled[0] > scaled[2]
    fine = dyn.mean_field_continuous(2.0, horizon=120.0, n_grid=12001)
    assert abs(fine - lam[4]) < 1e-6
    # Delta0 solves Delta0^2 / 2 = g^2 Var[log cosh h], h ~ N(0, Delta0): checked by Monte Carlo, not quadrature
    for g in (1.5, 2.0, 3.0):
        d0 = dyn.chaotic_variance(g)
        h = np.sqrt(d0) * np.random.default_rng(0).standard_normal(2_000_000)
        assert abs(d0**2 / 2 - g * g * np.var(np.log(np.cosh(h)))) < 0.01 * d0**2
    with pytest.raises(ValueError, match="expected g > 1"):
        dyn.chaotic_variance(0.9)


@pytest.mark.slow
def test_mean_field_continuous_matches_large_networks():
    """QR exponents of N = 1000 networks (two seeds, 100 tau) within 15% of the mean field at g = 2 and 3
    (measured here: 0.102, 0.114 against 0.112; 0.246, 0.216 against 0.234)."""
    for g in (2.0, 3.0):
        vals = []
        for seed in (0, 1):
            net = ns.RateNetwork.random(1, 1000, 1, tau=0.1, dt=0.01, g=g, form="rate", rng=seed)
            net = net.replace(x0=np.random.default_rng([seed, 7]).standard_normal(1000))
            vals.append(dyn.lyapunov_qr(net, 10.0, transient=2.0, sim_dt=0.01, rng=seed).per_tau[0, 0])
        mf = dyn.mean_field_continuous(g)
        assert abs(np.mean(vals) - mf) < 0.15 * mf, (g, vals, mf)


def test_mean_field_discrete():
    delta, lam = dyn.mean_field_discrete(0.8)  # below 1 the only solution is Delta = 0, where f' = 1
    assert delta < 1e-12 and abs(lam - np.log(0.8)) < 1e-9
    delta, lam = dyn.mean_field_discrete(3.0)
    z = np.random.default_rng(5).standard_normal(400_000)
    assert abs(delta - 9.0 * np.mean(np.tanh(np.sqrt(delta) * z) ** 2)) < 0.05  # self-consistent
    net = ns.RateNetwork.random(1, 500, 1, tau=0.01, dt=0.01, g=3.0, rng=0)
    L = dyn.lyapunov_qr(net, 15.0, transient=1.0, rng=0)
    assert abs(L.per_step[0, 0] - lam) < 0.05 * lam


def test_substrate_twin_runs_on_the_ann_equal_the_twin_map():
    net = ns.RateNetwork.random(1, 60, 1, tau=0.1, dt=0.01, g=3.0, rng=1)
    net = net.replace(x0=np.random.default_rng(0).normal(size=60))
    sub = dyn.lyapunov_substrate(net, 3.0, substrate="ann", transient=1.0, renorm=0.1, delta0=1e-8, rng=0)
    twin = dyn.lyapunov_twin(net, 3.0, transient=1.0, renorm=0.1, delta0=1e-8, x0=net.x0, rng=0)
    assert sub.largest > 0
    # the same map and perturbation; ann.rnn.run blocks its products for speed, so the two trajectories agree to
    # round-off only, which the chaos (exponent ~0.3 per step) amplifies to ~1e-6 over the run
    assert abs(sub.largest - twin.largest) < 1e-4 * twin.largest


def _bistable_grid(alpha):
    """r -> (1 - a) r + a tanh(ln3 r) per unit: fixed points 0 and +-1/2 exactly (tanh(ln3 / 2) = 1/2)."""
    w = np.log(3.0)
    return ns.RateNetwork(W_in=np.zeros((2, 1)), W_rec=w * np.eye(2), b=np.zeros(2), W_out=np.eye(2),
                          b_out=np.zeros(2), tau=0.1, dt=0.1 * alpha, activation="tanh")


@pytest.mark.parametrize("alpha", [1.0, 0.2])
def test_fixed_points_of_a_2d_system_in_closed_form(alpha):
    net = _bistable_grid(alpha)
    states = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    fps = dyn.find_fixed_points(net, states, n_inits=256, rng=0)
    fixed = fps.select()
    assert len(fixed) == 9
    expect = np.array([(a, b) for a in (-0.5, 0, 0.5) for b in (-0.5, 0, 0.5)])
    for x in expect:
        d = np.linalg.norm(fps.xstar[fixed] - x, axis=1)
        i = fixed[np.argmin(d)]
        assert d.min() < 1e-6
        n_zero = int(np.sum(x == 0))  # f'(0) ln 3 = 1.10 > 1 unstable, f'(1/2) ln 3 = 0.82 < 1 stable
        assert fps.n_unstable[i] == n_zero
        assert fps.kind[i] == {0: "stable", 1: "saddle", 2: "unstable"}[n_zero]
        mu = (1 - alpha) + alpha * np.where(x == 0, np.log(3), 0.75 * np.log(3))  # the Jacobian is diagonal
        np.testing.assert_allclose(np.sort(np.abs(fps.eigenvalues[i])), np.sort(mu), atol=1e-8)
    graph = dyn.saddle_graph(net, fps)  # each saddle joins the two stable corners on its side
    assert len(graph) == 4
    for s, a, b in graph:
        assert a >= 0 and b >= 0 and np.sum(np.abs(fps.xstar[a] - fps.xstar[b]) > 0.5) == 1


def test_search_between_stable_finds_the_saddles_that_trajectories_miss():
    net = _bistable_grid(1.0)
    corners = np.array([(a, b) for a in (-0.5, 0.5) for b in (-0.5, 0.5)])
    near = np.repeat(corners, 20, axis=0) + 0.01 * np.random.default_rng(0).standard_normal((80, 2))
    first = dyn.find_fixed_points(net, near, n_inits=64, init_noise=0.01, rng=0)
    assert len(first.select()) == 4 and len(first.select("stable")) == 4  # started at the attractors: no saddle
    both = dyn.search_between_stable(net, first, per_pair=4, rng=1)
    fixed = both.select()
    assert len(fixed) == 9 and both.info["between_stable"]["pairs"] == 6
    expect = np.array([(a, b) for a in (-0.5, 0, 0.5) for b in (-0.5, 0, 0.5)])
    for x in expect:
        d = np.linalg.norm(both.xstar[fixed] - x, axis=1)
        assert d.min() < 1e-6 and both.n_unstable[fixed[np.argmin(d)]] == int(np.sum(x == 0))
    assert len(dyn.saddle_graph(net, both)) == 4
    single = dyn.FixedPoints(*(getattr(first, k)[:1] for k in ("xstar", "q", "eigenvalues", "n_unstable", "kind",
                                                               "outputs")), first.u, first.tol_q)
    assert dyn.search_between_stable(net, single) is single  # one attractor: no pair to search between


def test_find_fixed_points_defaults_are_fixed_point_finders():
    assert (dyn.TOL_Q, dyn.N_INITS, dyn.INIT_NOISE, dyn.TOL_UNIQUE, dyn.OUTLIER_DISTANCE_SCALE) == \
        (1e-12, 1024, 0.5, 1e-3, 10.0)


@pytest.mark.brian2
def test_ann_fixed_points_hold_in_the_brian2_rate_equations(cache):
    net = _bistable_grid(0.5)
    fps = dyn.find_fixed_points(net, np.random.default_rng(0).uniform(-1, 1, (100, 2)), n_inits=64, rng=0)
    fixed = fps.select()
    fps_fixed = dyn.FixedPoints(*(getattr(fps, k)[fixed] for k in ("xstar", "q", "eigenvalues", "n_unstable",
                                                                   "kind", "outputs")), fps.u, fps.tol_q)
    res = dyn.fixed_point_residual(net, fps_fixed, substrate="rate", n_steps=3, cache_dir=cache)
    assert np.all(res < np.maximum(1e-6 * np.linalg.norm(fps_fixed.xstar, axis=1), 1e-12))
    moved = net.replace(x0=np.array([0.3, -0.2]))  # a non-fixed point does move: the check can fail
    not_fixed = dyn.FixedPoints(moved.x0[None], np.ones(1), np.zeros((1, 2)), np.zeros(1, int), np.array(["slow"]),
                                np.zeros((1, 2)), fps.u, fps.tol_q)
    assert dyn.fixed_point_residual(net, not_fixed, substrate="rate", cache_dir=cache)[0] > 1e-3


@pytest.mark.slow
@pytest.mark.brian2
def test_brian2_twin_exponent_matches_numpy(cache):
    net = ns.RateNetwork.random(1, 60, 1, tau=0.1, dt=0.01, g=3.0, rng=2)
    net = net.replace(x0=np.random.default_rng(1).normal(size=60))
    kw = dict(transient=1.0, renorm=0.2, delta0=1e-7, rng=0)
    brian = dyn.lyapunov_substrate(net, 4.0, substrate="rate", cache_dir=cache, **kw)
    ann = dyn.lyapunov_substrate(net, 4.0, substrate="ann", **kw)
    assert ann.largest > 0
    assert abs(brian.largest - ann.largest) < 0.1 * ann.largest
