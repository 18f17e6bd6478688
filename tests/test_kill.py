"""SIGKILL `neurosim compare` at random moments, then run the same command again.

What must hold after every kill: nothing that looks complete is incomplete (a directory with a manifest has every
file of a finished run, each matching its checksum, and every file under its final name is whole), and the rerun
either finishes (exit 0, a complete directory) or says in one line why it will not (exit 2: the ``--out``
directory holds an unfinished run). The command is the shipped default model, on the artificial RNN only so that
the test stays short; every file a full comparison writes goes through the same code (neurosim._files).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = ["compare", "--substrates", "ann", "--trials", "4", "--quiet"]
CORE = {"metrics.json", "report.md", "report.html", "outputs.png"}  # every compare writes at least these


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["NEUROSIM_MODELS"] = os.path.join(ROOT, "models")
    return env


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "neurosim.cli", *COMMAND, *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _whole(path: str) -> bool:
    """A file under its final name is never half-written."""
    with open(path, "rb") as fh:
        data = fh.read()
    name = os.path.basename(path)
    if name.endswith(".json"):
        json.loads(data)
        return True
    if name.endswith(".png"):
        return data.startswith(b"\x89PNG") and data.endswith(b"IEND\xaeB`\x82")
    if name.endswith(".html"):
        return data.rstrip().endswith(b"</html>")
    if name.endswith(".md"):
        return data.startswith(b"# ") and data.endswith(b"\n")
    return ".part-" in name  # a temporary file of an interrupted write: allowed, it is not a final name


def _check_directory(path: str, expected: set | None = None) -> str:
    """'complete', 'incomplete' or 'empty'; fails when anything looks complete but is not: a manifest must list
    ``expected`` (the files of a finished run; at least CORE), each matching its checksum."""
    files = sorted(os.listdir(path))
    for f in files:
        assert _whole(os.path.join(path, f)), f"{path}/{f} is not whole"
    if "manifest.json" not in files:
        return "incomplete" if files else "empty"
    with open(os.path.join(path, "manifest.json")) as fh:
        listed = json.load(fh)["files"]
    assert CORE <= set(listed) and (expected is None or set(listed) == expected), \
        f"{path}: the manifest lists {sorted(listed)}"
    for name, entry in listed.items():
        with open(os.path.join(path, name), "rb") as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == entry["sha256"], f"{path}/{name} differs"
    assert not [f for f in files if ".part-" in f], f"{path}: a complete run with unfinished writes"
    return "complete"


def _run_dirs(cwd: str) -> list[str]:
    runs = os.path.join(cwd, "runs")
    return sorted(os.path.join(runs, d) for d in os.listdir(runs)) if os.path.isdir(runs) else []


@pytest.mark.slow
def test_kill_compare_at_random_moments_then_rerun(tmp_path):
    rng = np.random.default_rng(13)
    # a complete run first: how long one takes here, and what a finished directory holds
    start = time.perf_counter()
    done = _start(["--out", str(tmp_path / "reference")], tmp_path)
    out, err = done.communicate(timeout=600)
    duration = time.perf_counter() - start
    assert done.returncode == 0, err
    assert _check_directory(str(tmp_path / "reference")) == "complete"
    expected = set(os.listdir(tmp_path / "reference")) - {"manifest.json"}  # what a finished run holds

    outcomes = []
    for k in range(10):
        mode = "default" if k % 2 == 0 else "--out"
        cwd = tmp_path / f"case{k}"
        cwd.mkdir()
        args = [] if mode == "default" else ["--out", "result"]
        moment = float(rng.uniform(0.0, duration))
        proc = _start(args, cwd)
        time.sleep(moment)
        finished_first = proc.poll() is not None
        if not finished_first:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        dirs = _run_dirs(cwd) if mode == "default" else [str(cwd / "result")] * os.path.isdir(cwd / "result")
        states = [_check_directory(d, expected) for d in dirs]
        state = states[0] if states else "absent"

        rerun = subprocess.run([sys.executable, "-m", "neurosim.cli", *COMMAND, *args], cwd=cwd, env=_env(),
                               capture_output=True, text=True, timeout=600)
        if mode == "default" or state in ("absent", "empty"):
            assert rerun.returncode == 0, rerun.stderr
            if state == "incomplete":
                assert "holds an unfinished run" in rerun.stdout and "left as it is" in rerun.stdout, rerun.stdout
            written = _run_dirs(cwd)[-1] if mode == "default" else str(cwd / "result")
            assert _check_directory(written, expected) == "complete"
            verdict = "rerun finished"
        else:
            lines = rerun.stderr.splitlines()
            assert rerun.returncode == 2 and len(lines) == 1, rerun.stderr
            want = "holds an unfinished run" if state == "incomplete" else "holds a finished run"
            assert want in lines[0], lines[0]
            verdict = "rerun refused: " + ("unfinished" if state == "incomplete" else "finished") + " run named"
        outcomes.append((mode, round(moment, 2), "finished before the kill" if finished_first else state, verdict))
    print(f"\na complete run took {duration:.1f} s; kills (mode, seconds, state left, rerun):")
    for row in outcomes:
        print("  ", row)
    assert len(outcomes) == 10
