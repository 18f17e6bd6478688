"""Training-step time of every shipped model, for two checkouts of neurosim side by side.

    python benchmarks/train_step.py --other /path/to/another/checkout [--steps 40] [--rounds 3]

Each BPTT model spec in the models/ of both checkouts (each checkout's own file of that name) is trained for ``--steps`` steps with its own [training] settings (``ns.train`` through
``spec.fit``'s arguments: batch size, optimizer, clip, dropout; no validation), in a fresh process per checkout and
round, one BLAS thread, alternating the two checkouts so that both see the same machine load. Prints the median
milliseconds per step of each checkout and their ratio (this checkout over the other; below 1 is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WORKER = r"""
import json, sys, time, warnings
import numpy as np
import neurosim as ns
from neurosim.spec import load_spec
names, steps = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for name in names:
    spec = load_spec(f"models/{name}.toml")  # each checkout's own spec (their keys may differ)
    if spec.training.get("rule", "bptt") != "bptt":
        continue  # FORCE specs do not take BPTT steps
    task = spec.make_task()
    net = spec.make_network(task)
    kw = spec.train_kwargs()
    for key in ("rule", "rls_alpha", "update_every", "rls_step"):
        kw.pop(key, None)
    kw.pop("steps", None)
    kw.pop("validation", None)
    kw.pop("patience", None)
    ns.train(net, task, steps=2, progress=False, **kw)  # warm-up: imports, buffers
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ns.train(net, task, steps=steps, progress=False, **kw)
    out[spec.name] = (time.perf_counter() - start) / steps * 1e3
print(json.dumps(out))
"""


def run(tree: str, specs: list[str], steps: int) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(specs), str(steps)], env=env, cwd=tree,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--other", required=True, help="another neurosim checkout (e.g. a git worktree of main~N)")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"this": HERE, "other": os.path.abspath(args.other)}
    specs = sorted(set.intersection(*({f.removesuffix(".toml") for f in os.listdir(os.path.join(t, "models"))
                                       if f.endswith(".toml")} for t in trees.values())))  # in both checkouts
    times = {k: [] for k in trees}
    for r in range(args.rounds):
        for label in (("this", "other") if r % 2 == 0 else ("other", "this")):
            times[label].append(run(trees[label], specs, args.steps))
    print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.steps} steps; ms per step "
          "(median over rounds)")
    print(f"{'model':<22} {'this':>9} {'other':>9} {'this/other':>11}")
    for name in times["this"][0]:
        med = {k: sorted(t[name] for t in v)[len(v) // 2] for k, v in times.items()}
        print(f"{name:<22} {med['this']:>9.2f} {med['other']:>9.2f} {med['this'] / med['other']:>11.2f}")


if __name__ == "__main__":
    main()
