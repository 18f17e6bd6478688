"""Sussillo & Abbott (2009) on the numpy substrate over seeds: the table for the closing note.

    python benchmarks/force_seeds.py                 # 10 seeds, full size (each ~8 s of CPU; 25-50 s wall here)
    python benchmarks/force_seeds.py --quick         # 3 seeds, N = 500, half the length: a smoke run, not the
                                                     # claim (measured: N = 500 does not learn the four sines)
    python benchmarks/force_seeds.py --seeds 0 1 2 --target noisy_four_sines
    python benchmarks/force_seeds.py --figures out/  # also draw seed 0's figures into out/

An experiment in the shape of STYLE.md section 8: ``CONFIG`` (what is run), ``run(config, seed) -> row`` (one
network), ``check(rows) -> verdict`` (the claim, with the numbers that decided it). Each seed draws its own
reservoir, feedback weights and initial state; the target starts at phase 0 (as in their code) and the network
is trained for ``train`` seconds, then runs free, learning off, for ``test`` seconds.

Claims (issue 10; Sussillo & Abbott 2009, Fig. 2, trained the four-sine target in every network they show):
success (``analysis.metrics.force_success``: lag-tolerant correlation >= 0.95 and NRMSE <= 0.1 over the first
two target periods of free running) on >= 9 of 10 seeds, and median free-running MAE <= 0.05 (over the whole
test period, against the clean target).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import neurosim as ns  # noqa: E402
from neurosim.analysis import metrics  # noqa: E402
from neurosim.learning import force  # noqa: E402

CONFIG = dict(target="four_sines", n_rec=1000, p=0.1, g=1.5, tau=0.01, dt=0.001, alpha=1.0, every=2,
              train=14.4, test=14.4)  # 1440 tau each: Sussillo & Abbott's defaults
QUICK = dict(CONFIG, n_rec=500, train=7.2, test=7.2)
MIN_SUCCESSES, OF_SEEDS = 9, 10  # issue 10: success on >= 9 of 10 seeds ...
MAX_MEDIAN_MAE = 0.05  # ... and median free-running MAE <= 0.05


def run(config: dict, seed: int, *, keep: bool = False) -> dict:
    """Train and test one network; returns a row (plain numbers), plus the runs when ``keep``."""
    c = config
    n_train, n_test = int(round(c["train"] / c["dt"])), int(round(c["test"] / c["dt"]))
    task = ns.tasks.make(c["target"], dt=c["dt"], duration=(n_train + n_test) * c["dt"], random_phase=False)
    trials = task.sample(1, rng=seed)
    noisy, clean = trials.targets[0], trials.info["clean_targets"][0]  # (T, 1) each
    net, W_fb = force.reservoir(c["n_rec"], p=c["p"], g=c["g"], tau=c["tau"], dt=c["dt"], rng=seed)
    t0 = time.perf_counter()
    trained = force.run(net, W_fb, targets=noisy[:n_train], alpha=c["alpha"], every=c["every"])
    free = force.run(trained.net, W_fb, n_test, learn=False, start=n_train)
    seconds = time.perf_counter() - t0
    z, f = free.outputs, clean[n_train:]
    score = metrics.force_success(z, f, period=task.period, dt=task.dt)
    row = {"seed": seed, "corr": score["corr"], "lag_steps": score["lag"], "nrmse": score["nrmse"],
           "mae": metrics.mae(z, f), "train_mae": metrics.mae(trained.outputs, noisy[:n_train]),
           "success": score["success"], "seconds": seconds}
    if keep:
        row.update(task=task, trained=trained, free=free, targets=clean, W_fb=W_fb, initial=net)
    return row


def check(rows: list[dict]) -> dict:
    """The verdict: successes and median MAE against the issue's thresholds, with the numbers."""
    wins = sum(r["success"] for r in rows)
    med = statistics.median(r["mae"] for r in rows)
    need = int(np.ceil(MIN_SUCCESSES / OF_SEEDS * len(rows)))
    return {"successes": wins, "seeds": len(rows), "needed": need, "median_mae": med,
            "success_goal_met": wins >= need, "mae_goal_met": med <= MAX_MEDIAN_MAE}


def table(rows: list[dict]) -> str:
    lines = [f"{'seed':>4} {'corr':>7} {'lag':>5} {'NRMSE':>7} {'MAE':>7} {'train MAE':>9} {'success':>7} "
             f"{'time s':>7}"]
    for r in rows:
        lines.append(f"{r['seed']:>4} {r['corr']:>7.4f} {r['lag_steps']:>5} {r['nrmse']:>7.4f} {r['mae']:>7.4f} "
                     f"{r['train_mae']:>9.4f} {str(r['success']):>7} {r['seconds']:>7.1f}")
    return "\n".join(lines)


def figures(row: dict, out: str) -> list[str]:
    """Seed ``row``'s figures (run with keep=True) as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim import force_plots

    os.makedirs(out, exist_ok=True)
    paths = []
    fig = force_plots.force_summary(row["trained"], row["free"], row["targets"])
    paths.append(os.path.join(out, f"force_seed{row['seed']}.png"))
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    ax = force_plots.eigenvalues(row["initial"], force.fold_feedback(row["free"].net, row["W_fb"]))
    paths.append(os.path.join(out, f"force_eigenvalues_seed{row['seed']}.png"))
    ax.figure.savefig(paths[-1], dpi=120)
    plt.close(ax.figure)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="*", default=None)
    ap.add_argument("--target", default=None)
    ap.add_argument("--n-rec", type=int, default=None)
    ap.add_argument("--figures", default=None, metavar="DIR")
    args = ap.parse_args(argv)
    config = dict(QUICK if args.quick else CONFIG)
    if args.target:
        config["target"] = args.target
    if args.n_rec:
        config["n_rec"] = args.n_rec
    seeds = args.seeds if args.seeds is not None else list(range(3 if args.quick else OF_SEEDS))
    print(f"config: {config}; one BLAS thread; load {os.getloadavg()}")
    rows = []
    for seed in seeds:
        row = run(config, seed, keep=args.figures is not None and seed == seeds[0])
        if "trained" in row:
            print("figures:", ", ".join(figures(row, args.figures)))
        rows.append({k: v for k, v in row.items() if not hasattr(v, "shape") and k not in
                     ("task", "trained", "free", "initial")})
        print(table(rows).splitlines()[-1] if len(rows) > 1 else table(rows), flush=True)
    v = check(rows)
    print("\n" + table(rows))
    print(f"\nsuccess on {v['successes']} of {v['seeds']} seeds (goal >= {v['needed']}): "
          f"{'met' if v['success_goal_met'] else 'NOT met'}; median free-running MAE {v['median_mae']:.4f} "
          f"(goal <= {MAX_MEDIAN_MAE}): {'met' if v['mae_goal_met'] else 'NOT met'}; load {os.getloadavg()}")
    return rows, v


if __name__ == "__main__":
    main()
