"""The ``neurosim`` command: list tasks, train a model spec, simulate it on a substrate, compare substrates."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def _out_dir(path: str, force: bool) -> str:
    """Create DIR; refuse to mix new results with old ones unless ``--force``."""
    if os.path.isdir(path) and os.listdir(path) and not force:
        raise ValueError(f"--out {path}: the directory exists and is not empty; choose another directory or pass "
                         "--force to overwrite its files")
    os.makedirs(path, exist_ok=True)
    return path


def _json(path: str, data: dict) -> None:
    with open(path, "w") as fh:
        json.dump(data, fh, indent=2, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o))
        fh.write("\n")


# -- neurosim tasks ------------------------------------------------------------------------------------------

def cmd_tasks(args) -> int:
    from . import tasks

    descriptions = tasks.describe()
    width = max(map(len, descriptions), default=0)
    for name, text in descriptions.items():
        print(f"{name:<{width}}  {text}")
    return 0


# -- neurosim train ------------------------------------------------------------------------------------------

def cmd_train(args) -> int:
    from . import ann, plots
    from .spec import fit, load_spec

    spec = load_spec(args.spec)
    out = _out_dir(args.out, args.force)
    print(f"training {spec.name}: task {spec.task['name']}, {spec.network['cell']} with {spec.network['n_rec']} "
          f"units, {args.steps or spec.training['steps']} steps")
    start = time.perf_counter()
    net, history, task = fit(spec, steps=args.steps, progress=not args.quiet)
    seconds = time.perf_counter() - start
    net.save(os.path.join(out, "model"))
    test = task.sample(spec.training["test_trials"], rng=spec.training["seed"] + 10_000)
    _, outputs = ann.forward(net, test.inputs, rng=spec.training["seed"] + 20_000)
    scores = task.score(outputs, test)
    _json(os.path.join(out, "metrics.json"), {
        "model": spec.name, "spec": spec.to_dict(), "test_trials": test.n_trials, "test": scores,
        "train_seconds": seconds, "steps_run": len(history.loss), "stopped": history.stopped,
        "final_train_loss": history.loss[-1] if history.loss else None, "history": history.to_dict(),
    })
    plots.save(plots.loss_curve(history), os.path.join(out, "loss.png"))
    plots.save(plots.outputs_vs_targets(test, outputs, labels="ann"), os.path.join(out, "outputs.png"))
    print(f"done in {seconds:.1f} s ({history.stopped}); held-out trials: "
          + ", ".join(f"{k} = {v:.4g}" for k, v in scores.items() if np.isscalar(v)))
    print(f"wrote {out}/model.json, model.npz, metrics.json, loss.png, outputs.png")
    return 0


# -- the parser ------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="neurosim",
        description="Compare artificial RNNs, Brian2 rate networks and Brian2 spiking networks on the same "
                    "sequence tasks.")
    parser.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("tasks", help="list the registered tasks", description="List the registered tasks.")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("train", help="train a model spec (TOML) by BPTT",
                       description="Train the network of a model spec by BPTT and write its weights, metrics.json, "
                                   "a loss curve and outputs against targets on held-out trials.")
    p.add_argument("spec", metavar="SPEC.toml", help="model spec, e.g. models/flip_flop.toml")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--steps", type=int, default=None, help="override [training] steps")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"neurosim {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
