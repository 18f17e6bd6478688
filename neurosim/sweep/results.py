"""The consolidated results of a sweep: a CSV table, one JSON line per job, and a summary figure.

``results.csv`` has one line per row of each job, in sweep order (points x seeds, seeds fastest): the columns
``job`` (its id), ``seed``, the swept parameters, ``status``, then the rows' own columns in the order they first
appear, and ``error`` when a job failed. Floats are written with ``repr``, so they read back to the same bits, and
nothing that differs between runs (timings, hosts) is in it: the same sweep gives the same file, however it ran.

``results.jsonl`` has one line per job: id, seed, parameters, status, rows, error, timings and worker.

``summary.png`` (when the sweep has ``[plot]``): ``metric`` against the parameter ``x``, mean over seeds with the
seeds' range as a band, one line per value of ``hue`` (:func:`neurosim.plots.sweep_summary`); ``where``
keeps only the rows whose columns equal the given values (e.g. ``where = {substrate = "ann"}``).
"""

from __future__ import annotations

import csv
import io
import json
import os

__all__ = ["table", "write", "to_csv", "read_csv", "summary"]


def table(jobs, records: dict) -> list[dict]:
    """One dict per row of each job, in sweep order; a job without a record appears once as "pending"."""
    rows = []
    for job in jobs:
        record = records.get(job.id)
        status = "pending" if record is None else record["status"]
        head = {"job": job.id, "seed": job.seed, **job.params, "status": status}
        if record is not None and record["status"] == "error":
            rows.append({**head, "error": record["error"]})
            continue
        for row in (record or {}).get("rows") or [{}]:
            rows.append({**head, **{k: v for k, v in row.items() if k not in head}})
    return rows


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def to_csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for row in rows for k in row if k != "error"))
    if any("error" in row for row in rows):
        columns.append("error")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def read_csv(path: str) -> list[dict]:
    """The rows of a results.csv, values as strings (empty cells as "")."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _jsonl(jobs, records: dict) -> str:
    lines = []
    for job in jobs:
        r = records.get(job.id) or {"status": "pending"}
        lines.append(json.dumps({"job": job.id, "index": job.index, "seed": job.seed, "params": job.params,
                                 "status": r["status"], "rows": r.get("rows", []), "error": r.get("error"),
                                 "timings": r.get("timings", {}), "worker": r.get("worker")}))
    return "\n".join(lines) + "\n"


def summary(rows: list[dict], plot: dict, ax=None):
    """The [plot] figure from the table's rows (see the module docstring); returns the Axes."""
    from .. import plots

    where = plot.get("where", {})
    kept = [r for r in rows if r.get("status") == "ok" and all(r.get(k) == v for k, v in where.items())]
    ax = plots.sweep_summary(kept, x=plot["x"], metric=plot["metric"], hue=plot.get("hue"), ax=ax)
    if where:
        ax.set_title(", ".join(f"{k} = {v}" for k, v in where.items()), fontsize=9)
    return ax


def write(sweep, jobs, records: dict, out: str) -> tuple[list, dict]:
    """Write results.csv, results.jsonl and (with [plot]) summary.png; return (rows, paths)."""
    from .. import plots
    from .runner import write_atomic

    rows = table(jobs, records)
    paths = {"csv": os.path.join(out, "results.csv"), "jsonl": os.path.join(out, "results.jsonl")}
    write_atomic(paths["csv"], to_csv(rows))
    write_atomic(paths["jsonl"], _jsonl(jobs, records))
    x, metric = sweep.plot.get("x"), sweep.plot.get("metric")
    if sweep.plot and any(r.get("status") == "ok" and x in r and metric in r for r in rows):
        paths["figure"] = plots.save(summary(rows, sweep.plot), os.path.join(out, "summary.png"))
    return rows, paths
