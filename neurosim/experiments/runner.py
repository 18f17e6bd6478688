"""Run a registered experiment over seeds, judge it, draw its figures, and write its report.

``run_experiment(name, quick=..., seeds=K, out=DIR)`` resolves the config (full, or quick overrides, then
``config_overrides``), runs ``exp.run(config, seed)`` for seeds 0 .. K-1 (each row gets its ``"seed"``), hands all
rows to ``exp.check`` and ``exp.figures``, and, when ``out`` is given, writes

- ``results.json``: name, claim, config, seeds, run time, verdict (with every check) and all rows;
- ``seeds/seed-K.json``: each seed's rows as soon as they are done (a run started again with the same config
  reuses them, whatever the number of seeds, so a killed run resumes);
- one PNG per figure;
- ``report.md`` and ``report.html``: the claim, the verdict and one paragraph on what was measured first, then the
  checks, the results over seeds (mean and spread per setting), the figures and the config.
"""

from __future__ import annotations

import dataclasses
import html
import json
import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .._files import write_text
from . import base

__all__ = ["Report", "run_experiment", "summarize"]


@dataclass
class Report:
    """What one run of an experiment produced; ``figures`` maps figure names to the PNG paths written (empty when
    no ``out`` was given); ``run_time`` in seconds (the runs, the check and the figures)."""

    name: str
    claim: str
    config: dict
    seeds: list[int]
    rows: list[dict]
    verdict: base.Verdict
    figures: dict
    run_time: float
    out: str | None = None
    quick: bool = False

    def to_dict(self) -> dict:
        return {"name": self.name, "claim": self.claim, "config": self.config, "seeds": self.seeds,
                "run_time": self.run_time, "quick": self.quick, "verdict": dataclasses.asdict(self.verdict),
                "rows": self.rows}


def run_experiment(name: str, *, quick: bool = False, seeds: int | None = None, out: str | None = None,
                   progress: bool = True, config_overrides: dict | None = None) -> Report:
    """Run experiment ``name`` over ``seeds`` seeds (default: its config's ``"seeds"``) and return its Report;
    with ``out`` (a directory, created if missing) write results.json, the figures, report.md and report.html."""
    from tqdm import tqdm

    exp = base.get(name)
    config = exp.resolve(quick, config_overrides)
    if seeds is not None:
        if not isinstance(seeds, (int, np.integer)) or isinstance(seeds, bool) or seeds < 1:
            raise ValueError(f"run_experiment {name}: seeds must be a positive int, got {seeds!r}")
        config["seeds"] = int(seeds)
    seed_list = list(range(config["seeds"]))
    start = time.perf_counter()
    rows = []
    for seed in tqdm(seed_list, desc=name, unit="seed", disable=not progress, leave=False):
        rows += _seed_rows(exp, config, seed, out)
    verdict = exp.check(rows, config)
    if not isinstance(verdict, base.Verdict):
        raise TypeError(f"experiment {name}: check returned {type(verdict).__name__}, expected a Verdict")
    figures = exp.figures(rows, config)
    run_time = time.perf_counter() - start
    paths = {}
    if out is not None:
        os.makedirs(out, exist_ok=True)
        paths = {fname: _save_figure(fig, os.path.join(out, f"{fname}.png")) for fname, fig in figures.items()}
    else:
        for fig in figures.values():
            _close(fig)
    report = Report(exp.name, exp.claim, config, seed_list, rows, verdict, paths, run_time, out, quick)
    if out is not None:
        _write(report, exp, out)
    return report


def _seed_rows(exp, config: dict, seed: int, out: str | None) -> list[dict]:
    """One seed's rows. With ``out``, each seed's rows are kept in ``out/seeds/seed-K.json`` (written under a
    temporary name, then renamed) and reused when the file holds the same config but for the number of seeds: a
    killed run loses only the seed it was running, and running it again (with any --seeds) resumes."""
    path = None if out is None else os.path.join(out, "seeds", f"seed-{seed}.json")
    key = json.loads(json.dumps(_plain({k: v for k, v in config.items() if k != "seeds"})))  # as read back
    if path is not None and os.path.exists(path):
        with open(path) as fh:
            saved = json.load(fh)
        if saved.get("config") == key:
            return saved["rows"]
    rows = [{**_plain(row), "seed": seed} for row in exp.run(config, seed)]
    if path is not None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w") as fh:
            json.dump({"config": key, "rows": rows}, fh)  # NaN and Infinity read back as floats
        os.replace(path + ".tmp", path)
    return rows


# -- results over seeds --------------------------------------------------------------------------------------

def _is_scalar_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def summarize(rows: list[dict], keys=(), columns=()) -> list[dict]:
    """Mean and spread over seeds: one dict per setting (the distinct values of ``keys``; empty: every str, int
    and bool field but ``seed``), with ``n`` (rows averaged) and, for each scalar float field (or ``columns``),
    ``field`` (mean over the finite values) and ``field_sd`` (their standard deviation, ddof 0)."""
    if not rows:
        return []
    if not keys:
        keys = [k for k, v in rows[0].items()
                if k != "seed" and (isinstance(v, (str, bool, int, np.integer)) or v is None)]
    keys = list(keys)
    if not columns:
        columns = [k for k in dict.fromkeys(k for r in rows for k in r)
                   if k not in keys and k != "seed" and any(isinstance(r.get(k), (float, np.floating)) for r in rows)]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(_hashable(r.get(k)) for k in keys), []).append(r)
    summary = []
    for key, members in groups.items():
        entry = dict(zip(keys, key))
        entry["n"] = len(members)
        for col in columns:
            vals = np.array([m[col] for m in members if _is_scalar_number(m.get(col))], dtype=float)
            vals = vals[np.isfinite(vals)]
            entry[col] = float(vals.mean()) if vals.size else float("nan")
            entry[f"{col}_sd"] = float(vals.std()) if vals.size else float("nan")
        summary.append(entry)
    return summary


def _hashable(v):
    return tuple(v) if isinstance(v, list) else v


# -- writing ---------------------------------------------------------------------------------------------------

def _plain(obj):
    """Rows as plain JSON types: numpy scalars and arrays to Python, non-finite floats to None in JSON only."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _close(fig) -> None:
    import matplotlib.pyplot as plt

    plt.close(fig if hasattr(fig, "savefig") else np.ravel(fig)[0].figure)


def _save_figure(fig, path: str) -> str:
    """Save a Figure (or an Axes / array of Axes) as PNG and close it."""
    from .. import plots

    return plots.save(fig.axes if hasattr(fig, "savefig") else fig, path)


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def _tables(report: Report, exp: base.Experiment):
    """(header, body) of the checks table and of the results-over-seeds table."""
    checks = [["check", "measured", "goal", "passed", "source"],
              [[c.name, _fmt(float(c.measured)), c.threshold, "yes" if c.passed else "no", c.source]
               for c in report.verdict.checks]]
    summary = summarize(report.rows, exp.keys, exp.columns)
    if not summary:
        return checks, None
    keys = [k for k in summary[0] if k != "n" and not k.endswith("_sd") and f"{k}_sd" not in summary[0]]
    cols = [k for k in summary[0] if f"{k}_sd" in summary[0]]
    spread = lambda s, c: _fmt(s[c]) + ("" if s["n"] < 2 else f" ± {_fmt(s[c + '_sd'])}")  # noqa: E731
    body = [[_fmt(s[k]) for k in keys] + [str(s["n"])] + [spread(s, c) for c in cols] for s in summary]
    return checks, [keys + ["seeds"] + cols, body]


def _write(report: Report, exp: base.Experiment, out: str) -> None:
    write_text(os.path.join(out, "results.json"), json.dumps(_json_safe(_plain(report.to_dict())), indent=1) + "\n")
    v = report.verdict
    checks, summary = _tables(report, exp)
    title = f"neurosim experiment {exp.name}"
    run = f"{len(report.seeds)} seed(s), {'quick' if report.quick else 'full'} mode; run time {report.run_time:.1f} s."
    md_table = lambda h, b: ["| " + " | ".join(h) + " |", "|" + "---|" * len(h)] + [  # noqa: E731
        "| " + " | ".join(r) + " |" for r in b]
    md = [f"# {title}", "", f"**Claim.** {exp.claim} ({exp.citation})", "",
          f"**Verdict: {v.status}.** {v.summary}", "", f"**What was measured.** {exp.description}", "", run, "",
          "## Checks", ""] + md_table(*checks)
    if summary:
        md += ["", "## Results over seeds (mean ± standard deviation)", ""] + md_table(*summary)
    for fname, path in report.figures.items():
        md += ["", f"![{fname}]({os.path.basename(path)})"]
    md += ["", "## Config", "", "```json", json.dumps(_json_safe(_plain(report.config)), indent=1), "```"]
    write_text(os.path.join(out, "report.md"), "\n".join(md) + "\n")
    esc = html.escape
    html_table = lambda h, b: ("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in h) + "</tr>" + "".join(  # noqa
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in b) + "</table>")
    colour = {"supported": "#1a7f37", "partly": "#9a6700", "not supported": "#cf222e"}[v.status]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}</style></head><body>"
            f"<h1>{esc(title)}</h1><p><b>Claim.</b> {esc(exp.claim)} ({esc(exp.citation)})</p>"
            f"<p><b style='color:{colour}'>Verdict: {esc(v.status)}.</b> {esc(v.summary)}</p>"
            f"<p><b>What was measured.</b> {esc(exp.description)}</p><p>{esc(run)}</p>"
            f"<h2>Checks</h2>{html_table(*checks)}"
            + (f"<h2>Results over seeds (mean ± standard deviation)</h2>{html_table(*summary)}" if summary else "")
            + "".join(f'<figure><img src="{esc(os.path.basename(p))}" alt="{esc(f)}"></figure>'
                      for f, p in report.figures.items())
            + f"<h2>Config</h2><pre>{esc(json.dumps(_json_safe(_plain(report.config)), indent=1))}</pre>"
            "</body></html>\n")
    write_text(os.path.join(out, "report.html"), page)  # each file whole or absent (neurosim._files)
