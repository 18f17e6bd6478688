"""Speed of neurosim.analysis.dynamics against plain peers, measured side by side (issue 11's speed goals).

    python benchmarks/dynamics.py            # both benchmarks, 3 rounds
    python benchmarks/dynamics.py --rounds 1

1. Fixed points of the shipped 64-unit flip-flop network (models/flip_flop), FixedPointFinder's defaults (1024
   initial states from 64 trials' trajectories plus noise 0.5). neurosim: ``find_fixed_points`` (one joint
   L-BFGS over all states with the analytic gradient, then batched Newton). Peer: the textbook loop, one
   ``scipy.optimize.minimize`` (L-BFGS-B, the same analytic gradient and tolerances) per initial state, timed on
   ``--peer-inits`` states and scaled to 1024. Goal: neurosim under 30 s.
2. The largest Lyapunov exponent of an N = 500 random network (g = 2) over 200 tau in the continuous-time limit
   (Euler at sim_dt = dt / 2, 4000 steps). neurosim: ``lyapunov_qr`` (tangent vectors through the Jacobian-vector
   product, J never formed). Peer: the textbook Benettin loop that forms J (N x N) every step and
   re-orthonormalises by ``np.linalg.qr``, timed on 10% of the steps and scaled. Goal: neurosim under 30 s.

The two sides alternate over ``--rounds`` rounds; the table gives the median of each time and of the per-round
ratio. One BLAS thread (set before numpy is imported). ``os.getloadavg()`` is printed: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import neurosim as ns  # noqa: E402
from neurosim.analysis import dynamics as dyn  # noqa: E402

MODEL = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "models", "flip_flop")


def _fixed_point_case():
    net = ns.load(MODEL)
    trials = ns.tasks.make("flip_flop", dt=net.dt).sample(64, rng=1)
    return net, dyn.trajectory(net, trials.inputs)


def ours_fixed_points(net, states):
    start, cpu = time.perf_counter(), time.process_time()
    fps = dyn.find_fixed_points(net, states, rng=0)
    return (time.perf_counter() - start, time.process_time() - cpu,
            f"{len(fps.select('stable'))} stable, {len(fps.select('saddle'))} saddles")


def peer_fixed_points(net, states, n_inits):
    from scipy.optimize import minimize

    rng = np.random.default_rng(0)
    X0 = states.reshape(-1, states.shape[-1])[rng.integers(0, states.shape[0] * states.shape[1], n_inits)]
    X0 = X0 + dyn.INIT_NOISE * rng.standard_normal(X0.shape)

    def fun(x):
        r = dyn.step(net, x)[0] - x
        return 0.5 * float(r @ r), dyn.vjp(net, x, None, r[None])[0] - r

    start = time.perf_counter()
    for x0 in X0:
        minimize(fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 0.0, "gtol": 1e-14})
    return (time.perf_counter() - start) * dyn.N_INITS / n_inits


def ours_lyapunov(net, duration, sim_dt):
    start, cpu = time.perf_counter(), time.process_time()
    L = dyn.lyapunov_qr(net, duration, sim_dt=sim_dt, rng=0)
    return time.perf_counter() - start, time.process_time() - cpu, f"{L.per_tau[0, 0]:+.3f} / tau"


def peer_lyapunov(net, duration, sim_dt, fraction=0.1):
    fine = net.replace(dt=sim_dt)
    n = int(round(duration / sim_dt * fraction))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, net.n_rec))
    Q = np.linalg.qr(rng.standard_normal((net.n_rec, 1)))[0]
    start = time.perf_counter()
    total = 0.0
    for _ in range(n):
        J = dyn.jacobian(fine, x)[0]  # (N, N), formed every step
        x = dyn.step(fine, x)
        Q, R = np.linalg.qr(J @ Q)
        total += np.log(abs(R[0, 0]))
    return (time.perf_counter() - start) / fraction


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--peer-inits", type=int, default=64)
    args = p.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}")
    net, states = _fixed_point_case()
    chaos = ns.RateNetwork.random(1, 500, 1, tau=0.1, dt=0.01, g=2.0, rng=0)
    duration, sim_dt = 200 * chaos.tau, chaos.dt / 2
    results = {"fixed points (64 units, 1024 inits)": [], "Lyapunov (N = 500, 200 tau)": []}
    for r in range(args.rounds):
        if r % 2 == 0:
            t_ours, c_ours, note = ours_fixed_points(net, states)
            t_peer = peer_fixed_points(net, states, args.peer_inits)
        else:
            t_peer = peer_fixed_points(net, states, args.peer_inits)
            t_ours, c_ours, note = ours_fixed_points(net, states)
        results["fixed points (64 units, 1024 inits)"].append((t_ours, t_peer, note, c_ours))
        if r % 2 == 0:
            l_ours, lc_ours, lnote = ours_lyapunov(chaos, duration, sim_dt)
            l_peer = peer_lyapunov(chaos, duration, sim_dt)
        else:
            l_peer = peer_lyapunov(chaos, duration, sim_dt)
            l_ours, lc_ours, lnote = ours_lyapunov(chaos, duration, sim_dt)
        results["Lyapunov (N = 500, 200 tau)"].append((l_ours, l_peer, lnote, lc_ours))
        print(f"round {r + 1}: fixed points {t_ours:.2f} s vs {t_peer:.2f} s; Lyapunov {l_ours:.2f} s vs "
              f"{l_peer:.2f} s; load {os.getloadavg()[0]:.1f}", flush=True)
    print("\n| benchmark | neurosim wall (s) | neurosim CPU (s) | textbook peer wall (s) | peer / neurosim | goal | "
          "result |")
    print("|---|---|---|---|---|---|---|")
    for name, rows in results.items():
        ours = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[3] for r in rows)
        peer = statistics.median(r[1] for r in rows)
        ratio = statistics.median(r[1] / r[0] for r in rows)
        print(f"| {name} | {ours:.2f} | {cpu:.2f} | {peer:.2f} | {ratio:.1f}x | < 30 s | "
              f"{'met' if ours < 30 else 'NOT met'} (wall); {rows[-1][2]} |")
    print(f"\nload average at end: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
