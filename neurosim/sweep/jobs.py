"""Jobs: a pure function of a fully resolved config and a seed, named by the hash of that config.

A job's config is *fully resolved*: a model job carries the whole parsed model spec (every default filled in,
``training.seed`` set to the job's seed) and the compare options; a function job carries the function's defaults
merged with the sweep's ``[config]`` and the point. Its id is the first 16 hex digits of the SHA-256 of the
canonical JSON (sorted keys, no spaces) of ``{kind, target, config, seed}``, so

- the same point and seed always get the same id, on any machine, in any sweep that contains them, and
- a changed grid reuses every job it still contains (their result files are found by id) and runs only the new.

:func:`execute` runs one job and never raises: an exception becomes a record with ``status = "error"``, the error
and its traceback. It is the one function the executors call, in whichever process or machine they run it.

What a job returns (its *rows*): a list of dicts of scalars (a dict is one row). A model job returns one row per
substrate (``neurosim.compare``: the task's metrics, deviations from the ANN, alignment); an experiment job the rows
of ``neurosim.experiments.get(name).run(config, seed)``; a function job whatever ``f(config, seed)`` returns.
Timings are not part of the rows (they differ between runs): they go to the record's ``timings``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import numbers
import os
import socket
import time
import traceback
from dataclasses import dataclass

__all__ = ["Job", "expand", "job_id", "canonical_json", "execute", "resolve_function", "prepare_worker"]

MODEL_SECTIONS = ("task", "network", "training", "spiking")
TIMING_COLUMNS = ("build_s", "run_s")  # compare's per-substrate timings: kept out of the rows


@dataclass(frozen=True)
class Job:
    """One job: ``execute(kind, target, config, seed)``; ``params`` are the swept values (for the table)."""

    id: str
    kind: str
    target: str
    config: dict
    seed: int
    params: dict
    index: int  # position in the sweep (points x seeds, seeds fastest)

    def payload(self) -> tuple:
        return self.kind, self.target, self.config, self.seed


def canonical_json(obj) -> str:
    """JSON with sorted keys and no whitespace: one text per value, the input of :func:`job_id`."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def job_id(kind: str, target: str, config: dict, seed: int) -> str:
    """The job's name; a model job's shipped weights count by their hash, not by where they are."""
    if isinstance(config.get("weights"), dict):
        config = {**config, "weights": {k: v for k, v in config["weights"].items() if k != "path"}}
    text = canonical_json({"kind": kind, "target": target, "config": config, "seed": seed})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _set(config: dict, path: str, value, where: str):
    keys = path.split(".")
    node = config
    for k in keys[:-1]:
        child = node.setdefault(k, {})
        if not isinstance(child, dict):
            raise ValueError(f"{where}: parameter {path!r}: {k!r} is a value ({child!r}), not a table")
        node = child
    node[keys[-1]] = value


def resolve_function(target: str):
    """The callable named ``"package.module:name"``."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"function {target!r}: expected 'package.module:callable'")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"function {target!r}: cannot import it ({err})") from None
    if not callable(fn):
        raise ValueError(f"function {target!r}: {type(fn).__name__} is not callable")
    return fn


def _experiment(name: str):
    try:
        from .. import experiments
    except ImportError as err:
        raise ValueError(f"experiment {name!r}: neurosim.experiments is not available here ({err})") from None
    return experiments.get(name)


def _resolve_model(sweep, point: dict, seed: int, where: str) -> dict:
    from ..spec import SpecError, parse_spec

    raw = copy.deepcopy(sweep.base["spec"])
    for path, value in point.items():
        section = path.split(".")[0]
        if section not in MODEL_SECTIONS or "." not in path:
            raise ValueError(f"{where}: parameter {path!r}: expected SECTION.KEY with SECTION one of "
                             f"{list(MODEL_SECTIONS)}, e.g. 'task.delay' or 'network.g'")
        if path == "training.seed":
            raise ValueError(f"{where}: parameter 'training.seed' is set by [sweep] seeds; sweep the seeds there")
        _set(raw, path, value, where)
    raw.setdefault("training", {})["seed"] = seed
    try:
        spec = parse_spec(raw, source=where, name=sweep.target)
    except SpecError as err:
        raise ValueError(str(err)) from None
    d = spec.to_dict()
    config = {"spec": {k: d[k] for k in ("name",) + MODEL_SECTIONS}, "compare": dict(sweep.base["compare"])}
    if "weights" in sweep.base:
        config["weights"] = dict(sweep.base["weights"])
    return config


def _resolve_config(sweep, point: dict, where: str) -> dict:
    """Base config + point. An experiment resolves it against its own config (its ``quick`` overrides when the
    sweep says ``quick = true``; ``seeds`` dropped: the sweep's seeds decide); a function's ``defaults`` dict, if
    it has one, fills in and checks the keys."""
    config = copy.deepcopy(sweep.base)
    for path, value in point.items():
        _set(config, path, value, where)
    if sweep.kind == "experiment":
        if "seeds" in config:
            raise ValueError(f"{where}: config key 'seeds' is set by [sweep] seeds")
        resolved = _experiment(sweep.target).resolve(quick=sweep.quick, overrides=config)
        resolved.pop("seeds", None)
        return resolved
    defaults = getattr(resolve_function(sweep.target), "defaults", None)
    if isinstance(defaults, dict):
        unknown = sorted(set(config) - set(defaults))
        if unknown:
            raise ValueError(f"{where}: unknown config key(s) {unknown} for {sweep.target}; allowed keys: "
                             f"{sorted(defaults)}")
        return {**copy.deepcopy(defaults), **config}
    return config


def expand(sweep) -> list[Job]:
    """Points x seeds -> jobs, in sweep order (seeds fastest); every config resolved (and checked) here."""
    from .spec import SweepError

    jobs, seen = [], {}
    for p, point in enumerate(sweep.points):
        for seed in sweep.seeds:
            where = f"{sweep.source}: point {p} {point}, seed {seed}"
            try:
                config = (_resolve_model(sweep, point, seed, where) if sweep.kind == "model"
                          else _resolve_config(sweep, point, where))
                jid = job_id(sweep.kind, sweep.target, config, seed)
            except (ValueError, TypeError) as err:
                raise SweepError(str(err) if str(err).startswith(where) else f"{where}: {err}") from None
            if jid in seen:
                raise SweepError(f"{where}: the same job as point {seen[jid]}: a point is listed twice")
            seen[jid] = p
            jobs.append(Job(jid, sweep.kind, sweep.target, config, seed, dict(point), len(jobs)))
    return jobs


def _plain(value):
    """numpy scalars and arrays -> Python numbers and lists, so that rows are JSON."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, bool, numbers.Number)) or value is None:
        return value
    return str(value)


def _rows(result, what: str) -> list[dict]:
    rows = [result] if isinstance(result, dict) else result
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
        raise TypeError(f"{what}: expected a dict or a list of dicts (the rows), got {type(result).__name__}")
    return [_plain(r) for r in rows]


def _run_model(config: dict, seed: int) -> tuple[list, dict]:
    from ..compare import compare
    from ..spec import parse_spec

    spec_dict = {k: ({kk: vv for kk, vv in v.items() if vv is not None} if isinstance(v, dict) else v)
                 for k, v in config["spec"].items()}  # None is "the default" in a parsed spec, absent in TOML
    name = spec_dict.pop("name")
    weights = config.get("weights")
    if weights is not None:  # the shipped weights, checked against the hash in the job's id
        _check_weights(weights)
    spec = parse_spec(spec_dict, source=f"model job {name}", name=name,
                      path=None if weights is None else weights["path"] + ".toml")  # weights_path: beside it
    opts = config["compare"]
    cmp = compare(spec, substrates=tuple(opts["substrates"]), device=opts["device"], n_trials=opts["trials"],
                  seed=seed, retrain=weights is None, calibrate=opts["calibrate"], progress=False,
                  say=lambda *a, **k: None)
    rows, timings = [], {}
    for row in cmp.rows:
        row = dict(row)
        for key in TIMING_COLUMNS:
            timings[f"{row['substrate']}_{key}"] = row.pop(key, None)
        rows.append(row)
    for name, why in cmp.skipped.items():
        rows.append({"substrate": name, "skipped": why})
    return rows, timings


def _check_weights(weights: dict) -> None:
    digest = hashlib.sha256()
    for ext in (".json", ".npz"):
        try:
            with open(weights["path"] + ext, "rb") as fh:
                digest.update(fh.read())
        except OSError as err:
            raise FileNotFoundError(f"model job: the shipped weights {weights['path']}{ext} are not readable on "
                                    f"this worker ({err}); workers need the same files at the same path") from None
    if digest.hexdigest() != weights["sha256"]:
        raise ValueError(f"model job: the weights at {weights['path']} changed since the sweep was parsed (SHA-256 "
                         f"{digest.hexdigest()[:12]}..., expected {weights['sha256'][:12]}...); parse it again")


def prepare_worker() -> None:
    """What a worker process needs before it runs jobs in threads: Brian2 importable there
    (:func:`neurosim.brian.devices.allow_import_off_main_thread`; called in the worker's main thread). Executors
    whose jobs run in the main thread need nothing."""
    from ..brian.devices import allow_import_off_main_thread

    allow_import_off_main_thread()


def execute(kind: str, target: str, config: dict, seed: int) -> dict:
    """Run one job; return its record (``status`` "ok" with ``rows``, or "error" with ``error`` and
    ``traceback``). Never raises for an error of the job itself."""
    start = time.perf_counter()
    record = {"status": "ok", "rows": [], "timings": {}, "error": None, "traceback": None,
              "worker": {"host": socket.gethostname(), "pid": os.getpid()}}
    try:
        if kind == "model":
            record["rows"], record["timings"] = _run_model(config, seed)
        elif kind == "experiment":
            record["rows"] = _rows(_experiment(target).run(copy.deepcopy(config), seed), f"experiment {target}")
        elif kind == "function":
            record["rows"] = _rows(resolve_function(target)(copy.deepcopy(config), seed), f"function {target}")
        else:
            raise ValueError(f"job kind: expected one of 'model', 'experiment', 'function', got {kind!r}")
    except Exception as err:  # recorded, not swallowed: the record carries the error and its traceback
        record.update(status="error", rows=[], error=f"{type(err).__name__}: {err}",
                      traceback=traceback.format_exc())
    record["timings"]["elapsed_s"] = time.perf_counter() - start
    return record
