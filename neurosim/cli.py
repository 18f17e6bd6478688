"""The ``neurosim`` command: list tasks, train a model spec, simulate it on a substrate, compare substrates."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def _out_dir(path: str | None, force: bool, default: str | None = None) -> str:
    """Create the output directory; never mix new results with old ones.

    An explicit ``--out`` that holds files is refused unless ``--force``. Without ``--out`` the ``default``
    directory is used, or ``default-2``, ``default-3``, ... when it already holds results, so that running
    the same command twice keeps both runs.
    """
    if path is None:
        path, n = default, 1
        while os.path.isdir(path) and os.listdir(path) and not force:
            n += 1
            path = f"{default}-{n}"
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
        "validation": history.val_metrics[-1] if history.val_metrics else None,
        "train_seconds": seconds, "steps_run": len(history.loss), "stopped": history.stopped,
        "final_train_loss": history.loss[-1] if history.loss else None, "history": history.to_dict(),
    })
    plots.save(plots.loss_curve(history), os.path.join(out, "loss.png"))
    plots.save(plots.outputs_vs_targets(test, outputs, labels="ann"), os.path.join(out, "outputs.png"))
    print(f"done in {seconds:.1f} s ({history.stopped}); held-out trials: "
          + ", ".join(f"{k} = {v:.4g}" for k, v in scores.items() if np.isscalar(v)))
    if history.val_metrics:
        print(f"validation ({history.val_step[-1]} steps): "
              + ", ".join(f"{k} = {v:.4g}" for k, v in history.val_metrics[-1].items() if np.isscalar(v)))
    print(f"wrote {out}/model.json, model.npz, metrics.json, loss.png, outputs.png")
    return 0


# -- neurosim simulate ---------------------------------------------------------------------------------------

def _model_and_task(path: str, task_name: str | None):
    """(net, task, name) from a model spec (its weights beside it) or from saved weights (+ --task)."""
    from . import load, tasks
    from .spec import load_spec

    if path.endswith(".toml"):
        spec = load_spec(path)
        base = spec.weights_path
        if not os.path.exists(base + ".json"):
            raise FileNotFoundError(f"simulate {path}: no trained weights at {base}.json/.npz; train them first "
                                    f"(neurosim train {path} --out DIR) and copy DIR/model.* to {base}.*, or pass "
                                    "the weights path DIR/model with --task")
        task = spec.make_task() if task_name is None else tasks.make(task_name, dt=spec.make_task().dt)
        return load(base), task, spec.name
    net = load(path)
    if task_name is not None:
        return net, tasks.make(task_name, dt=net.dt), os.path.basename(path.removesuffix(".json"))
    metrics = os.path.join(os.path.dirname(os.path.abspath(path)), "metrics.json")
    if not os.path.exists(metrics):
        raise ValueError(f"simulate {path}: which task? pass --task NAME (known: {', '.join(tasks.names())}); "
                         "weights written by `neurosim train` carry it in metrics.json beside them")
    with open(metrics) as fh:
        saved = json.load(fh)["spec"]  # ModelSpec.to_dict(), written by `neurosim train`
    task = dict(saved["task"])
    return net, tasks.make(task.pop("name"), **task), saved.get("name", "model")


def cmd_simulate(args) -> int:
    from . import plots
    from .simulate import CompilerError, simulate

    net, task, name = _model_and_task(args.model, args.task)
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"simulate-{name}-{args.substrate}"))
    trials = task.sample(args.trials, rng=args.seed)
    options = dict(device=args.device, target=args.target, coupling=args.coupling, noise_mode=args.noise_mode,
                   rng=args.seed)
    if args.sim_dt is not None:
        options["sim_dt"] = net.dt / args.sim_dt
    ann = simulate(net, trials, "ann", noise_mode=args.noise_mode, rng=args.seed)
    run_net, calibration = _spiking_network(net, task, args) if args.substrate == "spiking" else (net, None)
    try:
        res = simulate(run_net, trials, args.substrate, **options)
    except CompilerError as err:
        print(f"neurosim simulate: error: {err} (on the command line: --target numpy)", file=sys.stderr)
        return 2
    diff = ann.max_abs_diff(res)
    scores = {"ann": task.score(ann.outputs, trials), args.substrate: task.score(res.outputs, trials)}
    how = ", ".join(f"{k} {res.metadata[k]}" for k in ("device", "target", "coupling", "substeps")
                    if k in res.metadata)
    print(f"{name}: task {task.name}, {trials.n_trials} trials of {trials.n_steps} steps; "
          f"substrate {args.substrate} ({how})")
    for label, sc in scores.items():
        print(f"  score {label:<8} " + ", ".join(f"{k} = {v:.6g}" for k, v in sc.items() if np.isscalar(v)))
    print(f"  max |outputs_ann - outputs_{args.substrate}| = {diff['outputs']:.3e}; "
          f"max |states difference| = {diff['states']:.3e}")
    print(f"  {args.substrate}: build {res.build_time:.2f} s, run {res.run_time:.3f} s; ann run {ann.run_time:.3f} s")
    fig_path = plots.save(plots.substrate_overlay(ann, res, trials), os.path.join(out, "overlay.png"))
    _json(os.path.join(out, "metrics.json"), {
        "model": name, "task": task.name, "trials": trials.n_trials, "seed": args.seed, "substrate": args.substrate,
        "scores": scores, "max_abs_diff": diff, "metadata": res.metadata,
        "build_time": res.build_time, "run_time": res.run_time, "ann_run_time": ann.run_time,
        **({} if calibration is None else {"lambda_calibration": {
            "lam": calibration.lam, "metric": calibration.metric, "lambdas": calibration.lambdas,
            "scores": calibration.scores, "rate_score": calibration.rate_score}}),
    })
    print(f"wrote {fig_path} and {os.path.join(out, 'metrics.json')}")
    if args.substrate == "spiking":
        _spiking_figures(res, ann, trials, run_net, calibration, out)
    return 0


def _spiking_network(net, task, args):
    """``--substrate spiking``: the converted network at ``--lam``, else the spec's [spiking] lam, else at a lambda
    calibrated on validation trials (the spec's [spiking] lambdas and calibration_trials, or the defaults)."""
    from .calibration import DEFAULT_LAMBDAS, calibrate_lambda
    from .spec import load_spec
    from .spiking import to_spiking

    convert, calib = load_spec(args.model).spiking_settings() if args.model.endswith(".toml") else ({}, {})
    if args.lam is not None:
        convert["lam"] = args.lam
    if "lam" in convert:
        return to_spiking(net, **convert), None
    n_cal = calib.get("calibration_trials", 32)
    print(f"calibrating lambda on {n_cal} validation trials (no --lam given) ...", flush=True)
    cal = calibrate_lambda(net, task, calib.get("lambdas") or DEFAULT_LAMBDAS, n_trials=n_cal, device=args.device,
                           target=args.target, rng=args.seed + 1, **convert)
    print(f"  lambda = {cal.lam:g} Hz ({cal.metric} {dict(zip(cal.lambdas.tolist(), cal.scores.round(3).tolist()))})")
    return cal.network, cal


def _spiking_figures(res, ann, trials, snet, calibration, out: str) -> None:
    """raster.png (trial 0), outputs.png (rate and spiking outputs against the targets), lambda.png."""
    from . import plots

    rates = res.extras["firing_rates"]
    print(f"  spiking: lambda = {snet.lam:g} Hz, firing rates {rates.mean():.1f} Hz mean, "
          f"{np.median(rates):.1f} Hz median, {np.mean(rates == 0):.0%} silent")
    paths = [plots.save(plots.raster(res.extras["spike_times"][0], res.extras["spike_indices"][0], snet.n_rec,
                                     dale=snet.dale), os.path.join(out, "raster.png")),
             plots.save(plots.outputs_vs_targets(trials, {"rate (ann)": ann.outputs, "spiking": res.outputs}),
                        os.path.join(out, "outputs.png"))]
    if calibration is not None:
        paths.append(plots.save(plots.lambda_curve(calibration), os.path.join(out, "lambda.png")))
    print("wrote " + ", ".join(paths))


# -- neurosim compare ----------------------------------------------------------------------------------------

DEFAULT_MODEL = "perceptual_decision"


def default_spec_path() -> str:
    """The shipped default model spec: ``$NEUROSIM_MODELS/perceptual_decision.toml``, else the repository's
    ``models/`` beside the package."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    models = os.environ.get("NEUROSIM_MODELS") or os.path.join(here, "models")
    return os.path.join(models, f"{DEFAULT_MODEL}.toml")


def cmd_compare(args) -> int:
    from .compare import compare
    from .report import table, write_report
    from .spec import load_spec

    spec = load_spec(args.spec or default_spec_path())
    substrates = tuple(s.strip() for s in args.substrates.split(",") if s.strip())
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"compare-{spec.name}"))
    say = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, flush=True))
    start = time.perf_counter()
    cmp = compare(spec, substrates=substrates, device=args.device, n_trials=args.trials, seed=args.seed,
                  retrain=args.retrain, calibrate=args.calibrate, out=out, progress=not args.quiet, say=say)
    write_report(cmp, out)
    print(f"\n{spec.name}: task {cmp.task.name}, {cmp.trials.n_trials} held-out trials "
          f"({time.perf_counter() - start:.1f} s in all)\n")
    print(table(cmp.rows))
    for name, why in cmp.skipped.items():
        print(f"\n{name} did not run: {why}.")
    for name, note in cmp.notes.items():
        print(f"\n{name}: {note}.")
    print(f"\nwrote {out}/report.md, report.html, metrics.json and figures")
    return 0


# -- neurosim experiment -------------------------------------------------------------------------------------

def cmd_experiment(args) -> int:
    from . import experiments

    if args.name is None and not args.list:
        raise ValueError("which experiment? pass NAME or --list")
    if args.list:
        for name in experiments.names():
            print(f"{name:<22}  {experiments.get(name).claim}")
        return 0
    exp = experiments.get(args.name)  # an unknown name lists the known ones before any directory is made
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"experiment-{exp.name}"))
    print(f"{exp.name}: {exp.claim}", flush=True)
    rep = experiments.run_experiment(exp.name, quick=args.quick, seeds=args.seeds, out=out, progress=not args.quiet)
    print(f"\nverdict: {rep.verdict.status} ({rep.run_time:.1f} s, {len(rep.seeds)} seeds)\n{rep.verdict.summary}")
    print("\n".join("  " + c.line() for c in rep.verdict.checks))
    print(f"wrote {out}/report.md, report.html, results.json and {len(rep.figures)} figures")
    return 0


# -- the parser ------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    from . import __version__, substrates

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

    p = sub.add_parser("simulate", help="run a trained network on a Brian2 substrate and compare it with the ANN",
                       description="Run a network on a substrate (default: Brian2 rate neurons) and on the ANN, on "
                                   "the same trials; print both task scores and their largest deviation, and write "
                                   "a figure overlaying the two (a few units, the outputs, the difference).")
    p.add_argument("model", metavar="WEIGHTS_OR_SPEC",
                   help="a model spec (models/NAME.toml, weights beside it) or saved weights (DIR/model)")
    p.add_argument("--substrate", default="rate", choices=substrates.names(),
                   help="substrate to compare with the ANN (default: rate)")
    p.add_argument("--task", help="task name, when WEIGHTS_OR_SPEC is bare weights without metrics.json")
    p.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"), help="Brian2 device")
    p.add_argument("--target", default="cython", choices=("cython", "numpy"), help="runtime code generation")
    p.add_argument("--coupling", default=None, choices=("matmul", "synapses"),
                   help="recurrent coupling (default: the fastest for the device)")
    p.add_argument("--sim-dt", type=int, default=None, metavar="K", help="simulate with sim_dt = net.dt / K")
    p.add_argument("--noise-mode", default="matched", choices=("matched", "native"),
                   help="noise when the network has sigma > 0: the same realization, or Brian2's own")
    p.add_argument("--trials", type=int, default=8, help="number of trials (default 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the trials and the noise")
    p.add_argument("--lam", type=float, default=None, metavar="HZ",
                   help="spiking: the rate-to-spike scaling lambda in Hz (default: the spec's, else calibrated)")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: runs/simulate-NAME-SUBSTRATE, numbered if it exists)")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("compare", help="run a model as an ANN, a Brian2 rate network and a Brian2 spiking network",
                       description="Run one model on every substrate that applies "
                                   f"({', '.join(substrates.names())}) on the same "
                                   "held-out trials; print a table and write report.md, report.html, metrics.json "
                                   "and figures. Without SPEC.toml it runs the shipped default model "
                                   f"(models/{DEFAULT_MODEL}.toml).")
    p.add_argument("spec", nargs="?", metavar="SPEC.toml", help="model spec (default: the shipped default model)")
    p.add_argument("--out", metavar="DIR",
                   help="output directory (default: runs/compare-NAME, numbered if it exists)")
    every = ",".join(substrates.names())
    p.add_argument("--substrates", default=every, help=f"comma-separated (default: {every})")
    p.add_argument("--device", default="runtime", choices=("runtime", "cpp_standalone"), help="Brian2 device")
    p.add_argument("--trials", type=int, default=16, help="number of held-out trials (default 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of the trials and the noise")
    p.add_argument("--retrain", action="store_true", help="train the model even if its weights are shipped")
    p.add_argument("--calibrate", action="store_true",
                   help="calibrate the spiking scaling lambda even if the spec gives one")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    p.add_argument("--quiet", action="store_true", help="print only the table")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("experiment", help="run a textbook claim as an experiment and report its verdict",
                       description="Run a registered experiment over seeds; write results.json, figures, report.md "
                                   "and report.html opening with the claim and the verdict.")
    p.add_argument("name", nargs="?", metavar="NAME", help="experiment name (see --list)")
    p.add_argument("--list", action="store_true", help="list the experiments and their claims")
    p.add_argument("--quick", action="store_true", help="small budgets (under a minute); the verdict is indicative")
    p.add_argument("--seeds", type=int, default=None, metavar="K", help="seeds 0..K-1 (default: the experiment's)")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/experiment-NAME, numbered)")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_experiment)
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
