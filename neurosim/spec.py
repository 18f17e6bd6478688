"""Model specs: TOML files that say which task, which network and how to train it.

A spec has the tables ``[task]`` (``name`` and the task's own settings), ``[network]``, ``[training]`` and,
optionally, ``[spiking]`` (conversion settings). Every key is checked here, so a typo or a wrong type fails
with a message naming the key and the allowed values, before any work starts. The weights of
``models/NAME.toml`` live beside it as ``models/NAME.json`` + ``models/NAME.npz``.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import tomllib
from dataclasses import dataclass, field

from . import activations, tasks
from .network import RateNetwork

__all__ = ["ModelSpec", "load_spec", "parse_spec", "SpecError"]


class SpecError(ValueError):
    """A model spec is malformed; the message names the key, the expected and the received value."""


@dataclass(frozen=True)
class Key:
    """One allowed key: its type(s), an optional check, and a default (``REQUIRED`` if none)."""

    types: tuple
    default: object = None
    choices: tuple | None = None
    low: float | None = None  # exclusive lower bound unless low_ok
    high: float | None = None  # inclusive upper bound
    low_ok: bool = False
    required: bool = False


NUM, INT, STR, BOOL = (numbers.Real,), (numbers.Integral,), (str,), (bool,)

SCHEMA = {
    "network": {
        "cell": Key(STR, "rnn", choices=("rnn", "lstm", "gru")),
        "n_rec": Key(INT, required=True, low=0),
        "form": Key(STR, "rate", choices=RateNetwork.FORMS),
        "activation": Key(STR, "tanh", choices=tuple(activations.ACTIVATIONS)),
        "output_activation": Key(STR, "identity", choices=activations.OUTPUT_ACTIVATIONS),
        "tau": Key(NUM, 0.1, low=0),
        "g": Key(NUM, 1.5, low=0, low_ok=True),
        "p": Key(NUM, 1.0, low=0, high=1),
        "dale": Key(NUM, None, low=0, high=1),
        "sigma": Key(NUM, 0.0, low=0, low_ok=True),
        "spectral_radius": Key(NUM, None, low=0),
        "input_scale": Key(NUM, 1.0, low=0, low_ok=True),
        "dtype": Key(STR, "float64", choices=("float32", "float64")),
    },
    "training": {
        "rule": Key(STR, "bptt", choices=("bptt", "force")),  # force: neurosim.learning.force.train
        "steps": Key(INT, 1000, low=0),
        "optimizer": Key(STR, "adam", choices=("adam", "sgd")),
        "lr": Key(NUM, 1e-3, low=0),
        "batch_size": Key(INT, 32, low=0),
        "clip": Key(NUM, 1.0, low=0),
        "momentum": Key(NUM, 0.9, low=0, low_ok=True, high=1),
        "loss": Key(STR, None, choices=("mse", "ce")),
        "l2": Key(NUM, 0.0, low=0, low_ok=True),
        "l2_rate": Key(NUM, 0.0, low=0, low_ok=True),
        "dropout": Key(NUM, 0.0, low=0, low_ok=True, high=0.99),
        "train_trials": Key(INT, 0, low=0, low_ok=True),
        "validation": Key(NUM, 0, low=0, low_ok=True),
        "eval_every": Key(INT, 50, low=0),
        "patience": Key(INT, None, low=0),
        "seed": Key(INT, 0, low=0, low_ok=True),
        "test_trials": Key(INT, 200, low=0),
        # rule = "force" only: RLS's P(0) = I / rls_alpha, an update every update_every steps, the RLS step kind
        "rls_alpha": Key(NUM, 1.0, low=0),
        "update_every": Key(INT, 2, low=0),
        "rls_step": Key(STR, "normalised", choices=("normalised", "unnormalised")),
    },
}
GATED_NETWORK_KEYS = ("cell", "n_rec", "output_activation", "dtype")
CALIBRATION_KEYS = ("lambdas", "calibration_trials")  # [spiking] keys that configure the lambda calibration


def _spiking_schema() -> dict:
    """[spiking]: the keyword arguments of :func:`neurosim.to_spiking`, plus the calibration settings."""
    import inspect

    from .spiking import SYNAPSES, to_spiking

    schema = {}
    for name, p in inspect.signature(to_spiking).parameters.items():
        if p.kind is not p.KEYWORD_ONLY or name == "warn":
            continue
        schema[name] = Key(STR, p.default, choices=SYNAPSES) if name == "synapse" else Key(NUM, p.default)
    schema["lam"] = Key(NUM, None, low=0)
    schema["lambdas"] = Key((list,), None)
    schema["calibration_trials"] = Key(INT, 32, low=0)
    return schema
SECTIONS = ("task", "network", "training", "spiking")


def _check_value(where: str, value, key: Key):
    if isinstance(value, bool) and key.types is not BOOL:  # bools are ints in Python: reject them here
        raise SpecError(f"{where}: expected {_type_name(key)}, got the boolean {value!r}")
    if not isinstance(value, key.types):
        raise SpecError(f"{where}: expected {_type_name(key)}, got {type(value).__name__} {value!r}")
    if key.choices is not None and value not in key.choices:
        raise SpecError(f"{where}: expected one of {list(key.choices)}, got {value!r}")
    if key.low is not None and (value < key.low or (value == key.low and not key.low_ok)):
        raise SpecError(f"{where}: expected a value {'>=' if key.low_ok else '>'} {key.low}, got {value!r}")
    if key.high is not None and value > key.high:
        raise SpecError(f"{where}: expected a value <= {key.high}, got {value!r}")
    return value


def _type_name(key: Key) -> str:
    return {NUM: "a number", INT: "an integer", STR: "a string", BOOL: "true or false"}.get(key.types, "a value")


def _section(spec: dict, name: str, source: str, allowed: tuple | None = None, schema: dict | None = None,
             defaults: bool = True) -> dict:
    """Check table ``name`` against its schema; fill in defaults (unless ``defaults=False``)."""
    table = spec.get(name, {})
    if not isinstance(table, dict):
        raise SpecError(f"{source}: [{name}] must be a table, got {type(table).__name__}")
    schema = schema or SCHEMA[name]
    allowed = allowed or tuple(schema)
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SpecError(f"{source}: unknown key(s) {unknown} in [{name}]; allowed keys: {list(allowed)}")
    out = {}
    for k in allowed:
        key = schema[k]
        if k in table:
            out[k] = _check_value(f"{source}: [{name}] {k}", table[k], key)
        elif key.required:
            raise SpecError(f"{source}: [{name}] is missing the required key {k!r}")
        elif defaults:
            out[k] = key.default
    return out


@dataclass(frozen=True)
class ModelSpec:
    """A parsed, validated model spec."""

    name: str
    task: dict
    network: dict
    training: dict
    spiking: dict = field(default_factory=dict)
    path: str | None = None

    @property
    def weights_path(self) -> str | None:
        """Where the trained weights live: the spec's path without ``.toml``."""
        return None if self.path is None else os.path.splitext(self.path)[0]

    def make_task(self) -> tasks.Task:
        params = {k: v for k, v in self.task.items() if k != "name"}
        return tasks.make(self.task["name"], **params)

    def make_network(self, task: tasks.Task | None = None):
        """A freshly initialised network sized for the task, seeded from ``training.seed``."""
        import numpy as np

        task = task or self.make_task()
        net = self.network
        seed = self.training["seed"]
        dtype = getattr(np, net["dtype"])
        if net["cell"] != "rnn":
            from .ann.gated import GatedNetwork

            return GatedNetwork.random(task.n_in, net["n_rec"], task.n_out, cell=net["cell"], dt=task.dt,
                                       output_activation=net["output_activation"], dtype=dtype, rng=seed)
        kw = {k: net[k] for k in ("form", "activation", "output_activation", "tau", "g", "p", "dale", "sigma",
                                  "spectral_radius", "input_scale")}
        return RateNetwork.random(task.n_in, net["n_rec"], task.n_out, dt=task.dt, dtype=dtype, rng=seed, **kw)

    def check_weights(self, net, source: str = "weights") -> None:
        """Refuse weights that are not this spec's network: another class or cell, size, activation, form,
        readout, time constant, noise, dtype, Dale's law or connectivity, or sizes and step that do not fit
        the task. ValueError naming every mismatch, both values and the fix (retrain the spec)."""
        task = self.make_task()
        want = self.network
        cell = getattr(net, "cell", None)
        if not hasattr(net, "n_rec") or cell not in ("rnn", "lstm", "gru"):
            raise TypeError(f"{source}: expected a RateNetwork or GatedNetwork for spec {self.name!r}, got "
                            f"{type(net).__name__}")
        found = {"cell": cell, "n_rec": net.n_rec, "output_activation": net.output_activation,
                 "dtype": str(net.dtype), "n_in (task)": net.n_in, "n_out (task)": net.n_out, "dt (task)": net.dt}
        expected = {"cell": want["cell"], "n_rec": want["n_rec"], "output_activation": want["output_activation"],
                    "dtype": want["dtype"], "n_in (task)": task.n_in, "n_out (task)": task.n_out,
                    "dt (task)": task.dt}
        if cell == "rnn" and want["cell"] == "rnn":
            found.update(activation=net.activation, form=net.form, tau=net.tau, sigma=net.sigma,
                         dale="yes" if net.dale is not None else "no", mask="yes" if net.mask is not None else "no")
            expected.update(activation=want["activation"], form=want["form"], tau=float(want["tau"]),
                            sigma=float(want["sigma"]), dale="yes" if want["dale"] is not None else "no",
                            # FORCE's fold fills W_rec: its trained network has no mask whatever p was
                            mask="yes" if want["p"] < 1 and self.training["rule"] != "force" else "no")
        wrong = [f"{k} {found[k]!r} (spec: {expected[k]!r})" for k in expected
                 if not (found[k] == expected[k] or isinstance(found[k], float)
                         and abs(found[k] - expected[k]) <= 1e-12 * abs(expected[k]))]
        if wrong:
            raise ValueError(f"{source}: the weights do not match the spec {self.path or self.name}: "
                             + "; ".join(wrong) + f"; retrain them (neurosim train {self.path or 'SPEC.toml'} "
                             "--out DIR) or use the spec they were trained from")

    def train_kwargs(self) -> dict:
        """Keyword arguments for :func:`neurosim.train` (the data choice is made by the caller)."""
        t = self.training
        kw = {k: t[k] for k in ("steps", "optimizer", "lr", "batch_size", "clip", "momentum", "loss", "l2",
                                "l2_rate", "dropout", "eval_every", "patience")}
        kw["rng"] = t["seed"]
        return kw

    def spiking_settings(self) -> tuple[dict, dict]:
        """``[spiking]`` split into :func:`neurosim.to_spiking` arguments and calibration settings."""
        convert = {k: v for k, v in self.spiking.items() if k not in CALIBRATION_KEYS}
        calibrate = {k: v for k, v in self.spiking.items() if k in CALIBRATION_KEYS}
        return convert, calibrate

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("path")
        return d


def parse_spec(spec: dict, source: str = "spec", name: str | None = None, path: str | None = None) -> ModelSpec:
    """Validate a spec given as a dict (as TOML gives it)."""
    if not isinstance(spec, dict):
        raise SpecError(f"{source}: expected a table of sections, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(SECTIONS))
    if unknown:
        raise SpecError(f"{source}: unknown section(s) {unknown}; allowed sections: {list(SECTIONS)}")
    for required in ("task", "network"):
        if required not in spec:
            raise SpecError(f"{source}: missing section [{required}]")
    task = spec["task"]
    if not isinstance(task, dict):
        raise SpecError(f"{source}: [task] must be a table, got {type(task).__name__}")
    if "name" not in task:
        raise SpecError(f"{source}: [task] is missing the required key 'name'; known tasks: {tasks.names()}")
    if task["name"] not in tasks.names():
        raise SpecError(f"{source}: [task] name: unknown task {task['name']!r}; known tasks: {tasks.names()}")
    raw_net = spec["network"]
    cell = raw_net.get("cell", "rnn") if isinstance(raw_net, dict) else "rnn"
    network = _section(spec, "network", source, None if cell == "rnn" else GATED_NETWORK_KEYS)
    training = _section(spec, "training", source)
    spiking = {}
    if "spiking" in spec:  # only the keys given: to_spiking and the calibration keep their own defaults
        spiking = _section(spec, "spiking", source, schema=_spiking_schema(), defaults=False)
        lambdas = spiking.get("lambdas")
        if lambdas is not None and not (lambdas and all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                                        and v > 0 for v in lambdas)):
            raise SpecError(f"{source}: [spiking] lambdas: expected a non-empty list of positive rates in Hz, "
                            f"got {lambdas!r}")
    result = ModelSpec(name=name or "model", task=dict(task), network=network, training=training,
                       spiking=dict(spiking), path=path)
    try:
        result.make_task()
    except (TypeError, ValueError) as err:
        raise SpecError(f"{source}: [task] {err}") from None
    return result


def load_spec(path) -> ModelSpec:
    """Read and validate a TOML model spec."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"spec {path!r} does not exist; the shipped specs are in models/*.toml")
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path}: not valid TOML ({err})") from None
    name = os.path.splitext(os.path.basename(path))[0]
    return parse_spec(raw, source=path, name=name, path=path)


def fit(spec: ModelSpec, *, steps: int | None = None, progress: bool = True):
    """Train the spec's network on its task as the spec says; returns ``(net, history, task)``.

    ``training.rule = "force"`` trains the readout by FORCE (:func:`neurosim.learning.force.train`: ``steps`` RLS
    updates along one trajectory) and returns the folded plain RateNetwork; the rest of this docstring is BPTT's.

    ``training.train_trials > 0`` trains on a fixed set of that many trials with a ``validation`` fraction held
    out (the Keras way); otherwise each step draws fresh trials and ``validation`` is a number of held-out trials.
    """
    from .learning import train

    task = spec.make_task()
    net = spec.make_network(task)
    kw = spec.train_kwargs()
    if steps is not None:
        kw["steps"] = steps
    t = spec.training
    if t["rule"] == "force":  # one trajectory of steps * update_every steps; returns the folded network
        from .learning import force

        net, history, _ = force.train(net, task, steps=kw["steps"], alpha=t["rls_alpha"], every=t["update_every"],
                                      step=t["rls_step"], progress=progress, rng=t["seed"])
        return net, history, task
    if t["train_trials"]:
        data = task.sample(t["train_trials"], rng=t["seed"] + 1)
        validation = float(t["validation"])
        if not 0 <= validation < 1:
            raise SpecError(f"{spec.path or spec.name}: [training] validation: with train_trials > 0 it is a "
                            f"fraction in [0, 1) of the trials, got {validation}")
        net, history = train(net, data, validation=validation, task=task, progress=progress, **kw)
    else:
        validation = t["validation"]
        if validation != int(validation):
            raise SpecError(f"{spec.path or spec.name}: [training] validation: without train_trials it is a "
                            f"number of held-out trials, got {validation}")
        net, history = train(net, task, validation=int(validation), progress=progress, **kw)
    return net, history, task
