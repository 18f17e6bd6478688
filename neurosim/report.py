"""Write a :class:`neurosim.compare.Comparison` to disk: figures (PNG), report.md, report.html, metrics.json,
and a plain-text table for the terminal."""

from __future__ import annotations

import html
import os

import numpy as np

from . import plots
from ._files import write_json, write_text

__all__ = ["table", "write_report", "reading", "psychometric_points", "COLUMNS"]

# (key in a row, column header, format)
COLUMNS = [
    ("substrate", "substrate", "{}"),
    ("accuracy", "accuracy", "{:.3f}"),
    ("accuracy_max_coherence", "acc. max coh.", "{:.3f}"),
    ("mse", "MSE", "{:.3g}"),
    ("nrmse", "NRMSE", "{:.3f}"),
    ("r2", "R^2", "{:.3f}"),
    ("max_dev_from_ann", "max |dev| vs ANN", "{:.2g}"),
    ("mean_dev_from_ann", "mean |dev| vs ANN", "{:.2g}"),
    ("cca_vs_ann", "CCA vs ANN", "{:.3f}"),
    ("procrustes_vs_ann", "Procrustes vs ANN", "{:.3f}"),
    ("mean_rate_hz", "mean rate (Hz)", "{:.1f}"),
    ("lambda_hz", "lambda (Hz)", "{:g}"),
    ("build_s", "build (s)", "{:.2f}"),
    ("run_s", "run (s)", "{:.2f}"),
]


def _cells(rows):
    cols = [c for c in COLUMNS if any(c[0] in r for r in rows)]
    body = [[fmt.format(r[key]) if key in r else "-" for key, _, fmt in cols] for r in rows]
    return [header for _, header, _ in cols], body


def table(rows) -> str:
    """The comparison table as aligned plain text."""
    header, body = _cells(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(b) for b in body])


def psychometric_points(cmp):
    """``(coherences, {substrate: accuracies}, trials per coherence)`` of a comparison on a decision task with
    coherences (the rows' ``accuracy_c<c>`` scores); None for any other task."""
    coherence = cmp.trials.info.get("coherence") if cmp.task.kind == "decision" else None
    if coherence is None:
        return None
    coh, counts = np.unique(np.asarray(coherence, dtype=float), return_counts=True)
    curves = {r["substrate"]: [r.get(f"accuracy_c{c:g}", np.nan) for c in coh] for r in cmp.rows}
    return coh.tolist(), curves, counts.tolist()


def reading(cmp) -> str:
    """One paragraph on what the table shows: each substrate's score beside the ANN's, with the sampling error of
    the trials, and how far its outputs are from the ANN's."""
    rows = {r["substrate"]: r for r in cmp.rows}
    n = cmp.trials.n_trials
    decision = cmp.task.kind == "decision"
    key, what = ("accuracy", "accuracy") if decision else ("nrmse", "NRMSE")
    text = [f"Each row ran the same {n} held-out trials."]
    if decision:
        text.append("Accuracy is the fraction of trials whose mean output over the decision period picks the "
                    "correct choice (chance is 0.5, and trials at coherence 0 are at chance by construction); "
                    "the psychometric figure breaks it down by coherence.")
        p = rows.get("ann", next(iter(rows.values()))).get("accuracy", np.nan)
        se = float(np.sqrt(p * (1 - p) / n)) if np.isfinite(p) else np.nan
        text.append(f"With {n} trials an accuracy near {p:.2f} has a standard error of about {se:.3f}, so "
                    "differences smaller than twice that are noise.")
    else:
        text.append("NRMSE is the root mean squared error over the target's standard deviation (0 is perfect, "
                    "1 is no better than the mean).")
    ann = rows.get("ann")
    for name, r in rows.items():
        if name == "ann" or ann is None or key not in r or key not in ann:
            continue
        dev = r.get("max_dev_from_ann", np.nan)
        same = dev < 1e-9
        sentence = (f"The {name} substrate scores {what} {r[key]:.3f} against the ANN's {ann[key]:.3f}"
                    + (f" ({100 * r[key] / ann[key]:.0f}% of it)" if decision and ann[key] > 0 else ""))
        mean_dev = r.get("mean_dev_from_ann", np.nan)
        sentence += (f"; its outputs equal the ANN's to round-off (largest deviation {dev:.1g}): the same "
                     "computation." if same else
                     f"; its outputs deviate from the ANN's by up to {dev:.2g} (mean {mean_dev:.2g}).")
        text.append(sentence)
    text.append("CCA and Procrustes compare the hidden trajectories with the ANN's (1: the same up to a linear map, or "
                "up to rotation, translation and scale); build and run are wall-clock seconds on this machine.")
    return " ".join(text)


def _figures(cmp, out: str) -> list[tuple[str, str]]:
    """Draw every figure that applies; returns (file name, caption) pairs."""
    figs = []
    res, trials = cmp.results, cmp.trials
    outputs = {name: r.outputs for name, r in res.items()}
    plots.save(plots.outputs_vs_targets(trials, outputs, n_trials=3), os.path.join(out, "outputs.png"))
    figs.append(("outputs.png", "Inputs (grey), then the outputs of each substrate against the targets (dashed) on example trials; where two substrates agree to round-off, their lines coincide."))
    if "ann" in res and "rate" in res:
        plots.save(plots.substrate_overlay(res["ann"], res["rate"], trials), os.path.join(out, "traces.png"))
        figs.append(("traces.png", "The ANN (solid) and the Brian2 rate network (dashed): units, outputs, and "
                                   "their absolute difference."))
    if "spiking" in res:
        spk = res["spiking"]
        ax = plots.raster(spk.extras["spike_times"][0], spk.extras["spike_indices"][0], spk.states.shape[-1],
                          dale=getattr(cmp.net, "dale", None))
        ax.set_title("spiking network, trial 0", fontsize=9)
        plots.save(ax, os.path.join(out, "raster.png"))
        figs.append(("raster.png", "Spike raster of the LIF network on trial 0."))
    points = psychometric_points(cmp)
    if points is not None:
        coh, curves, counts = points
        ax = plots.psychometric(coh, curves, counts=counts)
        ax.set_title(f"psychometric curves, {cmp.trials.n_trials} trials", fontsize=9)
        plots.save(ax, os.path.join(out, "psychometric.png"))
        figs.append(("psychometric.png", "Accuracy against coherence on every substrate (error bars: binomial "
                                         "standard errors over the trials at each coherence; dashed: chance)."))
    if cmp.calibration is not None:
        plots.save(plots.lambda_curve(cmp.calibration), os.path.join(out, "lambda.png"))
        figs.append(("lambda.png", "Task score of the spiking network against the scaling lambda."))
    if cmp.projections:
        rows = {r["substrate"]: r for r in cmp.rows}
        scores = {n: f"CCA {rows[n]['cca_vs_ann']:.2f}, Procrustes {rows[n]['procrustes_vs_ann']:.2f}"
                  for n in cmp.projections if "cca_vs_ann" in rows[n]}
        plots.save(plots.trajectories(cmp.projections, scores=scores), os.path.join(out, "trajectories.png"))
        figs.append(("trajectories.png", "Hidden trajectories on the ANN's first two principal components "
                                         "(one shared basis); alignment with the ANN in the titles."))
    return figs


def write_report(cmp, out: str) -> dict:
    """Write figures, report.md, report.html and metrics.json into ``out``; returns the metrics dict.

    Each file is written under a temporary name and renamed (:mod:`neurosim._files`); the caller marks the
    directory complete (its manifest) once everything it writes is there."""
    os.makedirs(out, exist_ok=True)
    figs = _figures(cmp, out)
    metrics = cmp.to_dict()
    write_json(os.path.join(out, "metrics.json"), metrics)
    header, body = _cells(cmp.rows)
    title = f"neurosim compare: {cmp.spec.name} on {cmp.task.name}"
    intro = (f"{cmp.trials.n_trials} held-out trials; weights: {cmp.weights or 'trained in this run'}. "
             "Deviations and alignment are measured against the artificial RNN (ann) on the same trials.")
    md = [f"# {title}", "", intro, "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(row) + " |" for row in body]
    md += ["", reading(cmp)]
    for name, why in cmp.skipped.items():
        md += ["", f"**{name}** did not run: {why}."]
    for name, note in cmp.notes.items():
        md += ["", f"**{name}**: {note}."]
    for fname, caption in figs:
        md += ["", f"![{caption}]({fname})", "", f"*{caption}*"]
    write_text(os.path.join(out, "report.md"), "\n".join(md) + "\n")
    esc = html.escape
    rows_html = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in body)
    skipped = "".join(f"<p><b>{esc(n)}</b> did not run: {esc(w)}.</p>" for n, w in cmp.skipped.items())
    skipped += "".join(f"<p><b>{esc(n)}</b>: {esc(w)}.</p>" for n, w in cmp.notes.items())
    fig_html = "".join(f'<figure><img src="{esc(f)}" alt="{esc(c)}"><figcaption>{esc(c)}</figcaption></figure>'
                       for f, c in figs)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>"
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}img{max-width:100%}"
            "figcaption{font-style:italic;font-size:90%}</style></head><body>"
            f"<h1>{esc(title)}</h1><p>{esc(intro)}</p><table><tr>"
            + "".join(f"<th>{esc(h)}</th>" for h in header) + f"</tr>{rows_html}</table><p>{esc(reading(cmp))}</p>"
            f"{skipped}{fig_html}"
            "</body></html>\n")
    write_text(os.path.join(out, "report.html"), page)
    return metrics
