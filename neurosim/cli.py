"""The ``neurosim`` command: list tasks, train a model spec, simulate it on a substrate, compare substrates."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np


def _out_dir(path: str | None, force: bool, default: str | None = None) -> str:
    """Create the output directory; never mix new results with old ones, never mistake an unfinished run.

    An explicit ``--out`` that holds files is refused unless ``--force``, saying whether they are a finished run
    or an interrupted one (:func:`neurosim._files.run_state`). Without ``--out`` the ``default`` directory is
    used, or ``default-2``, ``default-3``, ... when it already holds results (finished or not), so that running
    the same command twice keeps both runs; what was found is printed. With ``--force`` the directory's
    manifest is removed first: it is complete again only when this run finishes.
    """
    from ._files import remove_manifest, run_state

    if path is None:
        path, n = default, 1
        while not force and run_state(path)[0] in ("complete", "incomplete"):
            state, what = run_state(path)
            if state == "incomplete":
                print(f"note: {what}; left as it is", flush=True)
            n += 1
            path = f"{default}-{n}"
        if n > 1:
            print(f"note: this run writes {path}", flush=True)
    state, what = run_state(path)
    if state in ("complete", "incomplete") and not force:
        raise ValueError(f"--out {path}: the directory is not empty ({what}); choose another directory or pass "
                         "--force to overwrite its files")
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"--out {path}: a file of that name is in the way; expected a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"--out {path}: cannot create the directory, a part of the path is a file, not a "
                         "directory; choose another --out") from None
    except PermissionError as err:
        raise ValueError(f"--out {path}: cannot create the directory ({err.strerror}); choose another --out") from None
    remove_manifest(path)
    return path


def _finish(out: str, args) -> None:
    """Mark the run directory complete: the manifest, written last (neurosim._files)."""
    from ._files import write_manifest

    write_manifest(out, command=" ".join(["neurosim", *getattr(args, "argv", [])]))


def _json(path: str, data: dict) -> None:
    from ._files import write_json

    write_json(path, data)


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
    _finish(out, args)
    print(f"wrote {out}/model.json, model.npz, metrics.json, loss.png, outputs.png, manifest.json")
    return 0


# -- neurosim simulate ---------------------------------------------------------------------------------------

def _model_and_task(path: str, task_name: str | None):
    """(net, task, name) from a model spec (its weights beside it) or from saved weights (+ --task)."""
    from . import load, tasks
    from .spec import load_spec, parse_spec

    if path.endswith(".toml"):
        spec = load_spec(path)
        base = spec.weights_path
        if not os.path.exists(base + ".json"):
            raise FileNotFoundError(f"simulate {path}: no trained weights at {base}.json/.npz; train them first "
                                    f"(neurosim train {path} --out DIR) and copy DIR/model.* to {base}.*, or pass "
                                    "the weights path DIR/model with --task")
        task = spec.make_task() if task_name is None else tasks.make(task_name, dt=spec.make_task().dt)
        net = load(base)
        spec.check_weights(net, f"simulate {base}.json")  # weights beside a spec are that spec's network
        return net, task, spec.name
    net = load(path)
    if task_name is not None:
        return net, tasks.make(task_name, dt=net.dt), os.path.basename(path.removesuffix(".json"))
    metrics = os.path.join(os.path.dirname(os.path.abspath(path)), "metrics.json")
    if not os.path.exists(metrics):
        raise ValueError(f"simulate {path}: which task? pass --task NAME (known: {', '.join(tasks.names())}); "
                         "weights written by `neurosim train` carry it in metrics.json beside them")
    try:
        with open(metrics) as fh:
            saved = json.load(fh)["spec"]  # ModelSpec.to_dict(), written by `neurosim train`
        spec = parse_spec({k: saved[k] for k in ("task", "network", "training", "spiking") if saved.get(k)},
                          source=metrics, name=saved.get("name", "model"))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"simulate {path}: {metrics} does not hold the spec of a `neurosim train` run "
                         f"({type(err).__name__}: {err}); pass --task NAME") from None
    spec.check_weights(net, f"simulate {path}")
    return net, spec.make_task(), spec.name


def cmd_simulate(args) -> int:
    from . import plots
    from .simulate import CompilerError, simulate

    net, task, name = _model_and_task(args.model, args.task)
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"simulate-{name}-{args.substrate}"))
    trials = task.sample(args.trials, rng=args.seed)
    options = dict(device=args.device, target=args.target, coupling=args.coupling, noise_mode=args.noise_mode,
                   rng=args.seed)
    if args.sim_dt is not None:  # a whole number >= 1 (checked by the parser)
        options["sim_dt"] = net.dt / args.sim_dt
    ann = simulate(net, trials, "ann", noise_mode=args.noise_mode, rng=args.seed)
    run_net, calibration = _spiking_network(net, task, args) if args.substrate == "spiking" else (net, None)
    try:
        res = simulate(run_net, trials, args.substrate, **options)
    except CompilerError as err:
        raise ValueError(f"{err} (on the command line: --device runtime --target numpy)") from None
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
    _finish(out, args)
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
    from .report import reading, table, write_report
    from .spec import load_spec

    spec = load_spec(args.spec or default_spec_path())
    substrates = tuple(s.strip() for s in args.substrates.split(",") if s.strip())
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"compare-{spec.name}"))
    say = (lambda *a, **k: None) if args.quiet else (lambda msg: print(msg, flush=True))
    start = time.perf_counter()
    from .simulate import CompilerError

    try:
        cmp = compare(spec, substrates=substrates, device=args.device, target=args.target, n_trials=args.trials,
                      seed=args.seed, retrain=args.retrain, calibrate=args.calibrate, out=out,
                      progress=not args.quiet, say=say)
    except CompilerError as err:
        raise ValueError(f"{err} (on the command line: --device runtime --target numpy)") from None
    write_report(cmp, out)
    _finish(out, args)
    print(f"\n{spec.name}: task {cmp.task.name}, {cmp.trials.n_trials} held-out trials "
          f"({time.perf_counter() - start:.1f} s in all)\n")
    print(table(cmp.rows))
    print("\n" + reading(cmp))
    for name, why in cmp.skipped.items():
        print(f"\n{name} did not run: {why}.")
    for name, note in cmp.notes.items():
        print(f"\n{name}: {note}.")
    print(f"\nwrote {out}/report.md, report.html, metrics.json, figures and manifest.json")
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
    overrides = {}
    for item in args.set or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. --set 'lengths=[20, 100]'")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value  # a bare string
    exp.resolve(args.quick, overrides)  # an unknown key is refused before any directory is made
    out = _out_dir(args.out, args.force, default=os.path.join("runs", f"experiment-{exp.name}"))
    print(f"{exp.name}: {exp.claim}", flush=True)
    rep = experiments.run_experiment(exp.name, quick=args.quick, seeds=args.seeds, out=out, progress=not args.quiet,
                                     config_overrides=overrides)
    print(f"\nverdict: {rep.verdict.status} ({rep.run_time:.1f} s, {len(rep.seeds)} seeds)\n{rep.verdict.summary}")
    print("\n".join("  " + c.line() for c in rep.verdict.checks))
    _finish(out, args)
    print(f"wrote {out}/report.md, report.html, results.json, {len(rep.figures)} figures and manifest.json")
    return 0


# -- neurosim sweep ------------------------------------------------------------------------------------------

def cmd_sweep(args) -> int:
    from .sweep import run

    kind = "dask" if args.dask_local or args.scheduler else ("serial" if args.workers == 0 else "process")
    res = run(args.sweep, out=args.out, executor=kind, workers=args.dask_local or args.workers or None,
              scheduler=args.scheduler, retry_failed=args.retry_failed, progress=not args.quiet)
    c = res.counts
    print(f"sweep {res.sweep.name}: {c['jobs']} jobs, {c['reused']} already done, {c['ran']} run now, "
          f"{c['failed']} failed ({res.seconds:.1f} s); wrote {', '.join(res.paths.values())}")
    for job in res.failed[:5]:
        print(f"  failed {job.id} {job.params} seed {job.seed}: {res.records[job.id]['error']}")
    return 1 if res.failed else 0


# -- the parser ------------------------------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr and exit status 2 (the full usage is --help)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _count(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}, got {value}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def _rate_hz(text: str) -> float:
    """An argparse type: a positive, finite number (Hz)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number of Hz, got {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive, finite number of Hz, got {text}")
    return value


TARGET_HELP = ("Brian2 code generation (runtime device): auto (default) uses Cython when a compiler works, "
               "else numpy with one warning")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__, substrates

    parser = _Parser(
        prog="neurosim",
        description="Compare artificial RNNs, Brian2 rate networks and Brian2 spiking networks on the same "
                    "sequence tasks.")
    parser.add_argument("--version", action="version", version=f"neurosim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("tasks", help="list the registered tasks", description="List the registered tasks.")
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("train", help="train a model spec (TOML) by BPTT or FORCE",
                       description="Train the network of a model spec by BPTT (or by FORCE: [training] rule = "
                                   "\"force\") and write its weights, metrics.json, a loss curve and outputs "
                                   "against targets on held-out trials.")
    p.add_argument("spec", metavar="SPEC.toml", help="model spec, e.g. models/flip_flop.toml")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory")
    p.add_argument("--steps", type=_count(1), default=None, help="override [training] steps")
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
    p.add_argument("--target", default="auto", choices=("auto", "cython", "numpy"), help=TARGET_HELP)
    p.add_argument("--coupling", default=None, choices=("matmul", "synapses"),
                   help="recurrent coupling (default: the fastest for the device)")
    p.add_argument("--sim-dt", type=_count(1), default=None, metavar="K", help="simulate with sim_dt = net.dt / K")
    p.add_argument("--noise-mode", default="matched", choices=("matched", "native"),
                   help="noise when the network has sigma > 0: the same realization, or Brian2's own")
    p.add_argument("--trials", type=_count(1), default=8, help="number of trials (default 8)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the trials and the noise")
    p.add_argument("--lam", type=_rate_hz, default=None, metavar="HZ",
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
    p.add_argument("--target", default="auto", choices=("auto", "cython", "numpy"), help=TARGET_HELP)
    p.add_argument("--trials", type=_count(1), default=16, help="number of held-out trials (default 16)")
    p.add_argument("--seed", type=_count(0), default=0, help="seed of the trials and the noise")
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
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config entry (VALUE as JSON)")
    p.add_argument("--force", action="store_true", help="write into a non-empty output directory (resumes a run "
                                                        "with the same config)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("sweep", help="run a model, an experiment or a function over a grid of parameters x seeds",
                       description="Run every job of SWEEP.toml not finished in --out (a rerun resumes; see "
                                   "docs/sweep.md) and write results.csv, results.jsonl and summary.png.")
    p.add_argument("sweep", metavar="SWEEP.toml", help="sweep spec, e.g. sweeps/toy.toml")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: one per core; 0: run in this process)")
    where.add_argument("--dask-local", type=int, default=None, metavar="N", help="start a Dask LocalCluster of N")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask cluster: tcp://HOST:8786 or a file")
    p.add_argument("--out", metavar="DIR", help="output directory (default: runs/sweep-NAME; a rerun resumes)")
    p.add_argument("--retry-failed", action="store_true", help="run the jobs recorded as failed again")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
    return parser


def main(argv=None) -> int:
    """Run the command; an expected failure (bad input, a missing or unwritable file, no compiler) is exit
    status 2 and one line on stderr, ``neurosim COMMAND: error: ...``."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.argv = argv
    from .brian.devices import CompilerError  # brian2-free

    try:
        return args.func(args)
    except (ValueError, TypeError, OSError, ImportError, CompilerError) as err:  # ImportError: a missing extra
        message = " ".join(str(err).split())  # one line, whatever the message holds
        print(f"neurosim {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
