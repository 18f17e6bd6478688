"""FORCE's cost: one RLS update (neurosim, the textbook np.outer update, reservoirpy's RLS node) and
Sussillo & Abbott end to end.

    python benchmarks/force.py                  # N = 1000 and 2000, 3 rounds, then S&A end to end
    python benchmarks/force.py --quick          # fewer updates, S&A at 1/4 of the length
    python benchmarks/force.py --no-end-to-end  # the update timings only
    python benchmarks/force.py --end-to-end-only

One BLAS thread (set before numpy is imported). The three RLS implementations get the same activity vectors
r (tanh of Gaussians, as in a network) and targets, from the same P(0) = I / alpha, for the same number of
updates, one after the other in each round, rounds alternating the order; the table gives each side's median
time per update over rounds and the median of the per-round ratios, which cancels slow drifts in the load.
After each round the three W agree (the relative difference is printed: it is round-off, the same algorithm).

- neurosim: ``neurosim.learning.rls.RLS.step`` (BLAS ?symv + ?syr on one triangle of P, in place);
- textbook: ``k = P @ r; c = 1 / (1 + r @ k); P -= c * np.outer(k, k); W -= c * e * k`` (S&A's code in numpy);
- reservoirpy: ``reservoirpy.nodes.RLS(alpha, fit_bias=False).partial_fit(R, F)`` (0.4; its FORCE node in
  0.3), a benchmark peer only (``pip install reservoirpy``; skipped when it is not installed).

Goals (issue 10): one update <= 2 ms at N = 1000 and <= 15 ms at N = 2000, >= 2x faster than reservoirpy;
Sussillo & Abbott (N = 1000, 14.4 s training + 14.4 s free running, dt = 1 ms) <= 20 s end to end.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from neurosim.learning.rls import RLS  # noqa: E402

GOAL_MS = {1000: 2.0, 2000: 15.0}
GOAL_PEER_RATIO = 2.0
GOAL_END_TO_END = 20.0


def _data(n, m, seed=0):
    rng = np.random.default_rng(seed)
    R = np.tanh(rng.standard_normal((m, n)))  # (M, N) activity vectors
    F = rng.standard_normal((m, 1))  # (M, 1) targets
    return R, F


def neurosim_side(R, F, alpha):
    rls = RLS(R.shape[1], F.shape[1], alpha=alpha)
    t0 = time.perf_counter()
    for r, f in zip(R, F):
        rls.step(r, f)
    return time.perf_counter() - t0, rls.W.copy()


def textbook_side(R, F, alpha):
    n = R.shape[1]
    P = np.eye(n) / alpha
    w = np.zeros(n)
    t0 = time.perf_counter()
    for r, f in zip(R, F):
        e = w @ r - f[0]
        k = P @ r
        c = 1.0 / (1.0 + r @ k)
        P -= c * np.outer(k, k)
        w -= c * e * k
    return time.perf_counter() - t0, w[None, :]


def reservoirpy_side(R, F, alpha):
    from reservoirpy.nodes import RLS as RpyRLS

    node = RpyRLS(alpha=alpha, fit_bias=False)
    node.initialize(R[:1], F[:1])
    t0 = time.perf_counter()
    node.partial_fit(R, F)
    return time.perf_counter() - t0, np.asarray(node.Wout).T


def bench_updates(sizes, updates, rounds, alpha=1.0):
    try:
        import reservoirpy  # noqa: F401

        sides = {"neurosim": neurosim_side, "textbook": textbook_side, "reservoirpy": reservoirpy_side}
        peer_version = reservoirpy.__version__
    except ImportError:
        sides = {"neurosim": neurosim_side, "textbook": textbook_side}
        peer_version = None
        print("reservoirpy is not installed: its column is skipped (pip install reservoirpy)")
    rows = []
    for n in sizes:
        m = updates[n]
        R, F = _data(n, m)
        per = {k: [] for k in sides}
        ratios = {k: [] for k in sides if k != "neurosim"}
        worst = 0.0
        order = list(sides)
        for rnd in range(rounds):
            times, weights = {}, {}
            for name in (order if rnd % 2 == 0 else order[::-1]):
                times[name], weights[name] = sides[name](R, F, alpha)
            for name in sides:
                per[name].append(times[name] / m * 1e3)
                if name != "neurosim":
                    ratios[name].append(times[name] / times["neurosim"])
                    ref = weights["neurosim"]
                    worst = max(worst, float(np.linalg.norm(weights[name] - ref) / np.linalg.norm(ref)))
        row = {"N": n, "updates": m, "max_rel_diff_W": worst}
        for name in sides:
            row[f"{name}_ms"] = statistics.median(per[name])
        for name in ratios:
            row[f"{name}_ratio"] = statistics.median(ratios[name])
        rows.append(row)
    print(f"\nOne RLS update, ms (median over {rounds} rounds; one BLAS thread; load {os.getloadavg()})"
          + (f"; reservoirpy {peer_version}" if peer_version else ""))
    head = f"{'N':>6} {'updates':>8} {'neurosim':>9} {'textbook':>9} {'x':>6}"
    if peer_version:
        head += f" {'reservoirpy':>12} {'x':>6}"
    print(head + f" {'max rel diff W':>15}  goal")
    verdicts = []
    for row in rows:
        line = (f"{row['N']:>6} {row['updates']:>8} {row['neurosim_ms']:>9.3f} {row['textbook_ms']:>9.3f} "
                f"{row['textbook_ratio']:>6.1f}")
        if peer_version:
            line += f" {row['reservoirpy_ms']:>12.3f} {row['reservoirpy_ratio']:>6.1f}"
        goal = GOAL_MS.get(row["N"])
        ok = goal is None or row["neurosim_ms"] <= goal
        peer_ok = not peer_version or row["reservoirpy_ratio"] >= GOAL_PEER_RATIO
        verdicts.append(ok and peer_ok)
        print(line + f" {row['max_rel_diff_W']:>15.1e}  <= {goal} ms: {'met' if ok else 'NOT met'}"
              + (f"; >= {GOAL_PEER_RATIO}x reservoirpy: {'met' if peer_ok else 'NOT met'}" if peer_version else ""))
    return rows, all(verdicts)


def bench_end_to_end(scale=1.0, seed=0):
    """Sussillo & Abbott at N = 1000: 14.4 s of training then 14.4 s free running (scaled by ``scale``)."""
    import neurosim as ns
    from neurosim.analysis import metrics
    from neurosim.learning import force

    n = int(round(14400 * scale))
    task = ns.tasks.make("four_sines", dt=0.001, duration=2 * n * 0.001, random_phase=False)
    f = task.sample(1, rng=seed).targets[0]  # (2n, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    net, W_fb = force.reservoir(1000, rng=seed)
    train = force.run(net, W_fb, targets=f[:n])
    t1 = time.perf_counter()
    test = force.run(train.net, W_fb, n_steps=n, learn=False)
    t2, c2 = time.perf_counter(), time.process_time()
    total = t2 - t0
    score = metrics.force_success(test.outputs[:, 0], f[n:, 0], period=task.period, dt=task.dt)
    print(f"\nSussillo & Abbott end to end, N = 1000, {n} + {n} steps of 1 ms (seed {seed}; load {os.getloadavg()}):"
          f" training {t1 - t0:.2f} s, free running {t2 - t1:.2f} s, total {total:.2f} s wall, {c2 - c0:.2f} s CPU; "
          f"free-running MAE {metrics.mae(test.outputs[:, 0], f[n:, 0]):.4f}, success {score['success']}")
    if scale == 1.0:
        print(f"  goal <= {GOAL_END_TO_END} s (wall): {'met' if total <= GOAL_END_TO_END else 'NOT met'} "
              "(CPU time is what one free core would take: compare it when the machine is loaded)")
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-end-to-end", action="store_true")
    ap.add_argument("--end-to-end-only", action="store_true")
    args = ap.parse_args(argv)
    updates = {1000: 100, 2000: 40} if args.quick else {1000: 300, 2000: 100}
    if not args.end_to_end_only:
        bench_updates((1000, 2000), updates, args.rounds)
    if not args.no_end_to_end:
        bench_end_to_end(0.25 if args.quick else 1.0)


if __name__ == "__main__":
    main()
