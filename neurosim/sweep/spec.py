"""Sweep specs: SWEEP.toml files that map a model spec, an experiment or a function over parameters and seeds.

A sweep file has a ``[sweep]`` table that says *what* runs, one table that says *over what* (``[grid]``,
``[zip]`` or ``[[list]]``), and optional ``[compare]`` (model sweeps), ``[config]`` (the base config of an
experiment or function sweep) and ``[plot]`` (the summary figure)::

    [sweep]
    name = "memory_vs_delay"                   # optional; default: the file name
    model = "../models/delayed_recall.toml"    # exactly one of: model (train + compare a model spec),
    # experiment = "transition_to_chaos"       #   experiment (neurosim.experiments registry; quick = true
    #                                          #   starts from its quick config), function
    # function = "neurosim.sweep.toy:job"      #   ("module:callable", called as f(config, seed) -> rows)
    seeds = 3                                  # an integer n (seeds 0..n-1) or a list of integers

    [compare]                                  # model sweeps: the options of neurosim.compare.compare
    substrates = ["ann"]                       # any of "ann", "rate", "spiking"
    trials = 64                                # held-out trials per job (drawn from the job's seed)
    train = true                               # train each job's network (seed = the job's seed); false:
                                               #   use the weights shipped beside the spec (their hash is in
                                               #   every job id) and sweep only task.* / spiking.* keys

    [grid]                                     # the Cartesian product, in the order written
    "task.delay" = [0.2, 0.5, 1.0]             # model sweeps: SECTION.KEY of the model spec
    "network.cell" = ["rnn", "lstm", "gru"]

    # [zip]: lists of one length, taken element by element;  [[list]]: one table per point

    [plot]
    x = "task.delay"                           # a swept parameter or a column of the rows
    metric = "r2"                              # a column of the job's rows
    hue = "network.cell"                       # optional: one line per value (a parameter or a row column)

Parameters are dotted paths into the config (``"task.delay"``, quoted or as TOML dotted keys). Every key of every
table is checked, and every point is resolved (model sweeps: parsed as a full model spec) before any job runs, so a
typo fails at once with a message naming the file, the key, the point and the allowed values.
"""

from __future__ import annotations

import copy
import itertools
import numbers
import os
import tomllib
from dataclasses import dataclass, field

__all__ = ["Sweep", "SweepError", "load_sweep", "parse_sweep", "KINDS", "COMPARE_DEFAULTS"]

KINDS = ("model", "experiment", "function")
OVER = ("grid", "zip", "list")
SECTIONS = ("sweep", "compare", "config", "plot") + OVER
SWEEP_KEYS = ("name", "seeds", "description", "quick") + KINDS
PLOT_KEYS = ("x", "metric", "hue", "where")
COMPARE_DEFAULTS = {"substrates": ["ann"], "trials": 32, "device": "runtime", "calibrate": False, "train": True}


class SweepError(ValueError):
    """A sweep spec is malformed; the message names the file, the key, the expected and the received value."""


@dataclass(frozen=True)
class Sweep:
    """A parsed sweep: what runs (``kind``, ``target``), the base config, the points and the seeds.

    ``points`` are dicts of parameter path -> value, in sweep order; ``base`` is the config every point starts
    from (model sweeps: the raw model spec as TOML gives it, plus ``[compare]``).
    """

    name: str
    kind: str
    target: str
    base: dict
    points: tuple
    seeds: tuple
    parameters: tuple
    plot: dict = field(default_factory=dict)
    source: str = "sweep"
    directory: str = "."
    quick: bool = False  # experiment sweeps: start from the experiment's quick config

    def jobs(self):
        """The jobs of this sweep, points x seeds (:func:`neurosim.sweep.jobs.expand`)."""
        from .jobs import expand

        return expand(self)


def _fail(source: str, message: str):
    raise SweepError(f"{source}: {message}")


def _flatten(table: dict, source: str, where: str, prefix: str = "") -> dict:
    """``{"task": {"delay": [...]}}`` -> ``{"task.delay": [...]}``; leaves must be lists."""
    out = {}
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, source, where, path + "."))
        elif isinstance(value, list):
            if not value:
                _fail(source, f"[{where}] {path}: expected a non-empty list of values, got []")
            out[path] = value
        else:
            _fail(source, f"[{where}] {path}: expected a list of values, got {type(value).__name__} {value!r} "
                          f"(write {path} = [{value!r}] for a single value)")
    return out


def _flatten_point(point: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in point.items():
        if isinstance(value, dict):
            out.update(_flatten_point(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _points(raw: dict, source: str) -> tuple[tuple, tuple]:
    """The points (dicts path -> value) and the swept parameter paths, from [grid], [zip] or [[list]]."""
    given = [k for k in OVER if k in raw]
    if len(given) != 1:
        _fail(source, f"expected exactly one of the tables [grid], [zip] or [[list]] (what to sweep over), got "
                      f"{['[' + k + ']' for k in given] or 'none'}")
    over = given[0]
    table = raw[over]
    if over == "list":
        if not isinstance(table, list) or not table or not all(isinstance(p, dict) for p in table):
            _fail(source, "[[list]]: expected one or more tables, one per point ([[list]] then key = value lines)")
        points = [_flatten_point(p) for p in table]
        if any(not p for p in points):
            _fail(source, "[[list]]: a point is empty; give each [[list]] table at least one key = value")
        parameters = list(dict.fromkeys(k for p in points for k in p))
        return tuple(points), tuple(parameters)
    if not isinstance(table, dict) or not table:
        _fail(source, f"[{over}]: expected a table of parameter = [values], got {table!r}")
    lists = _flatten(table, source, over)
    if over == "zip":
        lengths = {k: len(v) for k, v in lists.items()}
        if len(set(lengths.values())) != 1:
            _fail(source, f"[zip]: expected lists of one length (taken element by element), got lengths {lengths}")
        points = [dict(zip(lists, values)) for values in zip(*lists.values())]
    else:
        points = [dict(zip(lists, values)) for values in itertools.product(*lists.values())]
    return tuple(points), tuple(lists)


def _seeds(value, source: str) -> tuple:
    if isinstance(value, bool):
        _fail(source, f"[sweep] seeds: expected an integer n > 0 or a list of integers >= 0, got {value!r}")
    if isinstance(value, numbers.Integral):
        if value <= 0:
            _fail(source, f"[sweep] seeds: expected an integer n > 0 (seeds 0..n-1), got {value}")
        return tuple(range(int(value)))
    if isinstance(value, list) and value and all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                                 and s >= 0 for s in value):
        if len(set(value)) != len(value):
            _fail(source, f"[sweep] seeds: expected distinct seeds, got {value}")
        return tuple(int(s) for s in value)
    _fail(source, f"[sweep] seeds: expected an integer n > 0 or a non-empty list of integers >= 0, got {value!r}")


def _check_keys(table, allowed, where: str, source: str) -> dict:
    if not isinstance(table, dict):
        _fail(source, f"[{where}] must be a table, got {type(table).__name__} {table!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        _fail(source, f"unknown key(s) {unknown} in [{where}]; allowed keys: {list(allowed)}")
    return table


def _compare_options(table: dict, source: str) -> dict:
    from .. import substrates

    known = substrates.names()
    _check_keys(table, tuple(COMPARE_DEFAULTS), "compare", source)
    opts = {**COMPARE_DEFAULTS, **table}
    subs = opts["substrates"]
    if not (isinstance(subs, list) and subs and all(s in known for s in subs)):
        _fail(source, f"[compare] substrates: expected a non-empty list from {known}, got {subs!r}")
    if isinstance(opts["trials"], bool) or not isinstance(opts["trials"], int) or opts["trials"] <= 0:
        _fail(source, f"[compare] trials: expected an integer > 0, got {opts['trials']!r}")
    if opts["device"] not in ("runtime", "cpp_standalone"):
        _fail(source, f"[compare] device: expected 'runtime' or 'cpp_standalone', got {opts['device']!r}")
    for key in ("calibrate", "train"):
        if not isinstance(opts[key], bool):
            _fail(source, f"[compare] {key}: expected true or false, got {opts[key]!r}")
    return opts


def _weights(path: str, source: str) -> dict:
    """The shipped weights beside a model spec: their path (without extension) and the SHA-256 of their files."""
    import hashlib

    base = os.path.splitext(os.path.abspath(path))[0]
    files = [base + ".json", base + ".npz"]
    if not all(os.path.isfile(f) for f in files):
        _fail(source, f"[compare] train = false: no shipped weights at {base}.json/.npz; train them "
                      f"(neurosim train {path} --out DIR, then copy DIR/model.* there) or set train = true")
    digest = hashlib.sha256()
    for f in files:
        with open(f, "rb") as fh:
            digest.update(fh.read())
    return {"path": base, "sha256": digest.hexdigest()}


def _model_base(value, directory: str, source: str) -> tuple[str, dict, str]:
    """(target, raw model spec, its path) from ``model = "path.toml"`` (relative to the sweep file)."""
    if not isinstance(value, str):
        _fail(source, f"[sweep] model: expected the path of a model spec (TOML), got {type(value).__name__} "
                      f"{value!r}")
    path = value if os.path.isabs(value) else os.path.normpath(os.path.join(directory, value))
    if not os.path.isfile(path):
        _fail(source, f"[sweep] model: no model spec at {path!r} (paths are relative to the sweep file)")
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            _fail(source, f"[sweep] model: {path} is not valid TOML ({err})")
    return os.path.splitext(os.path.basename(path))[0], raw, path


def parse_sweep(raw: dict, source: str = "sweep", directory: str = ".", name: str | None = None) -> Sweep:
    """Validate a sweep given as a dict (as TOML gives it); resolve every point so that errors come first."""
    if not isinstance(raw, dict):
        _fail(source, f"expected a table of sections, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SECTIONS))
    if unknown:
        _fail(source, f"unknown section(s) {unknown}; allowed sections: {list(SECTIONS)}")
    head = _check_keys(raw.get("sweep", {}), SWEEP_KEYS, "sweep", source)
    kinds = [k for k in KINDS if k in head]
    if len(kinds) != 1:
        _fail(source, f"[sweep]: expected exactly one of the keys {list(KINDS)} (what each job runs), got "
                      f"{kinds or 'none'}")
    kind = kinds[0]
    if "seeds" not in head:
        _fail(source, "[sweep] is missing the key 'seeds' (an integer n for seeds 0..n-1, or a list of seeds)")
    seeds = _seeds(head["seeds"], source)
    points, parameters = _points(raw, source)
    if kind == "model":
        if "config" in raw:
            _fail(source, "[config] is for experiment and function sweeps; a model sweep changes its model spec "
                          "through the swept SECTION.KEY parameters (or edit the spec itself)")
        target, spec, path = _model_base(head["model"], directory, source)
        base = {"spec": spec, "compare": _compare_options(raw.get("compare", {}), source)}
        if not base["compare"]["train"]:
            fixed = [p for p in parameters if p.split(".")[0] in ("network", "training")]
            if fixed:
                _fail(source, f"[compare] train = false: the shipped weights fix the network and its training, so "
                              f"{fixed} cannot be swept; sweep task.* or spiking.* keys, or set train = true")
            base["weights"] = _weights(path, source)
    else:
        if "compare" in raw:
            _fail(source, f"[compare] is for model sweeps; this is a {kind} sweep (use [config])")
        target = head[kind]
        if not isinstance(target, str) or not target:
            _fail(source, f"[sweep] {kind}: expected a name, got {target!r}")
        config = raw.get("config", {})
        if not isinstance(config, dict):
            _fail(source, f"[config] must be a table, got {type(config).__name__} {config!r}")
        base = copy.deepcopy(config)
    plot = dict(_check_keys(raw.get("plot", {}), PLOT_KEYS, "plot", source))
    for key in ("x", "metric"):
        if plot and key not in plot:
            _fail(source, f"[plot] is missing the key {key!r}; [plot] needs x (a swept parameter) and metric")
    for key in ("x", "metric", "hue"):
        if key in plot and not isinstance(plot[key], str):
            _fail(source, f"[plot] {key}: expected the name of a parameter or a column, got {plot[key]!r}")
    if "where" in plot and not isinstance(plot["where"], dict):
        _fail(source, f"[plot] where: expected a table column = value, got {plot['where']!r}")
    if "name" in head and not isinstance(head["name"], str):
        _fail(source, f"[sweep] name: expected a string, got {head['name']!r}")
    quick = head.get("quick", False)
    if not isinstance(quick, bool) or (quick and kind != "experiment"):
        _fail(source, f"[sweep] quick: expected true or false, for experiment sweeps only; got {quick!r} in a "
                      f"{kind} sweep")
    sweep = Sweep(name=name or head.get("name") or "sweep", kind=kind, target=target, base=base, points=points,
                  seeds=seeds, parameters=parameters, plot=plot, source=source, directory=directory,
                  quick=quick)
    sweep.jobs()  # resolves (and so checks) every point now, before any work starts
    return sweep


def load_sweep(path) -> Sweep:
    """Read and validate a sweep file (TOML)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"sweep {path!r} does not exist; the shipped sweeps are in sweeps/*.toml")
    with open(path, "rb") as fh:
        try:
            raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise SweepError(f"{path}: not valid TOML ({err})") from None
    stem = os.path.splitext(os.path.basename(path))[0]
    head = raw.get("sweep")
    name = head.get("name") if isinstance(head, dict) and isinstance(head.get("name"), str) else stem
    return parse_sweep(raw, source=path, directory=os.path.dirname(os.path.abspath(path)), name=name)
