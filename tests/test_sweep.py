"""neurosim.sweep: spec parsing, job ids, the runner's resume/error handling, identical results on every executor,
and a real process killed with SIGKILL ten times and resumed."""

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from neurosim.sweep import SweepError, load_sweep, parse_sweep, run
from neurosim.sweep.jobs import canonical_json
from neurosim.sweep.results import read_csv
from neurosim.sweep.runner import read_record, write_atomic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOY = "neurosim.sweep.toy:job"


def toy_sweep(grid=None, seeds=2, config=None, **extra):
    raw = {"sweep": {"name": "t", "function": TOY, "seeds": seeds}, "grid": grid or {"g": [0.5, 1.5], "n": [4, 8]},
           "config": config or {"steps": 20}, **extra}
    return parse_sweep(raw, source="t.toml")


def write_toml(path, text):
    path.write_text(textwrap.dedent(text))
    return str(path)


# -- spec -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, message", [
    ({"sweep": {"function": TOY, "seeds": 1}, "grid": {"g": [1.0]}, "grdi": {}}, "unknown section(s) ['grdi']"),
    ({"sweep": {"function": TOY}, "grid": {"g": [1.0]}}, "missing the key 'seeds'"),
    ({"sweep": {"function": TOY, "experiment": "x", "seeds": 1}, "grid": {"g": [1.0]}}, "exactly one of the keys"),
    ({"sweep": {"function": TOY, "seeds": 0}, "grid": {"g": [1.0]}}, "seeds: expected an integer n > 0"),
    ({"sweep": {"function": TOY, "seeds": [1, 1]}, "grid": {"g": [1.0]}}, "distinct seeds"),
    ({"sweep": {"function": TOY, "seeds": 1}}, "exactly one of the tables [grid], [zip] or [[list]]"),
    ({"sweep": {"function": TOY, "seeds": 1}, "grid": {"g": 1.0}}, "[grid] g: expected a list of values"),
    ({"sweep": {"function": TOY, "seeds": 1}, "zip": {"g": [1.0, 2.0], "n": [4]}}, "lists of one length"),
    ({"sweep": {"function": TOY, "seeds": 1}, "grid": {"gain": [1.0]}}, "unknown config key(s) ['gain']"),
    ({"sweep": {"function": TOY, "seeds": 1, "sedes": 2}, "grid": {"g": [1.0]}}, "unknown key(s) ['sedes']"),
    ({"sweep": {"function": "neurosim.sweep.toy:nope", "seeds": 1}, "grid": {"g": [1.0]}}, "cannot import"),
    ({"sweep": {"function": TOY, "seeds": 1}, "grid": {"g": [1.0]}, "plot": {"x": "g"}},
     "[plot] is missing the key 'metric'"),
    ({"sweep": {"function": TOY, "seeds": 1}, "list": [{"g": 1.0}, {"g": 1.0}]}, "a point is listed twice"),
])
def test_spec_errors_name_the_key(raw, message):
    with pytest.raises(SweepError) as err:
        parse_sweep(raw, source="bad.toml")
    assert message in str(err.value) and str(err.value).startswith("bad.toml")


def test_model_spec_errors_name_the_point(tmp_path):
    sweep = write_toml(tmp_path / "s.toml", f"""
        [sweep]
        model = "{ROOT}/models/flip_flop.toml"
        seeds = 1
        [grid]
        "network.n_rec" = [8, -3]
    """)
    with pytest.raises(SweepError, match=r"point 1 \{'network.n_rec': -3\}.*n_rec: expected a value > 0"):
        load_sweep(sweep)
    (tmp_path / "t.toml").write_text((tmp_path / "s.toml").read_text().replace('"network.n_rec" = [8, -3]',
                                                                               '"training.seed" = [1]'))
    with pytest.raises(SweepError, match="set by \\[sweep\\] seeds"):
        load_sweep(tmp_path / "t.toml")


def test_grid_zip_list_expand_in_order():
    grid = toy_sweep({"g": [0.5, 1.5], "n": [4, 8, 16]}, seeds=[3, 7])
    jobs = grid.jobs()
    assert len(jobs) == 2 * 3 * 2
    assert [(j.params["g"], j.params["n"], j.seed) for j in jobs[:4]] == [(0.5, 4, 3), (0.5, 4, 7), (0.5, 8, 3),
                                                                        (0.5, 8, 7)]
    zipped = parse_sweep({"sweep": {"function": TOY, "seeds": 1}, "zip": {"g": [0.5, 1.5], "n": [4, 8]}})
    assert [j.params for j in zipped.jobs()] == [{"g": 0.5, "n": 4}, {"g": 1.5, "n": 8}]
    listed = parse_sweep({"sweep": {"function": TOY, "seeds": 1}, "list": [{"g": 2.0}, {"n": 4, "g": 1.0}]})
    assert [j.config["g"] for j in listed.jobs()] == [2.0, 1.0] and listed.parameters == ("g", "n")


def test_job_id_is_the_hash_of_the_resolved_config_and_survives_a_changed_grid():
    small = toy_sweep({"g": [0.5, 1.5]})
    large = toy_sweep({"g": [0.5, 1.0, 1.5], "steps": [20]})
    job = small.jobs()[0]
    assert job.config == {"n": 16, "g": 0.5, "steps": 20, "fail": False}  # defaults filled in: fully resolved
    text = json.dumps({"config": job.config, "kind": "function", "seed": 0, "target": TOY}, sort_keys=True,
                      separators=(",", ":"))
    assert job.id == hashlib.sha256(text.encode()).hexdigest()[:16]
    assert canonical_json(job.config) == '{"fail":false,"g":0.5,"n":16,"steps":20}'
    shared = {j.id for j in small.jobs()} & {j.id for j in large.jobs()}
    assert len(shared) == len(small.jobs()) == 4 and len(large.jobs()) == 6
    assert toy_sweep({"g": [0.5]}, config={"steps": 21}).jobs()[0].id != job.id


# -- runner ---------------------------------------------------------------------------------------------------

def test_atomic_write_and_record_check(tmp_path):
    path = str(tmp_path / "abc.json")
    write_atomic(path, json.dumps({"id": "abc", "status": "ok"}))
    assert read_record(path, "abc") == {"id": "abc", "status": "ok"} and os.listdir(tmp_path) == ["abc.json"]
    assert read_record(path, "other") is None
    (tmp_path / "abc.json").write_text('{"id": "abc", "stat')  # a torn file is never taken for a finished job
    assert read_record(path, "abc") is None


def test_failed_jobs_are_recorded_and_retried_and_a_changed_grid_reuses_jobs(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("NEUROSIM_SWEEP_TOY_LOG", str(log))
    out = str(tmp_path / "out")
    first = run(toy_sweep({"g": [0.5, 1.5], "fail": [False, True]}), out=out, executor="serial", progress=False)
    assert first.counts == {"jobs": 8, "reused": 0, "ran": 8, "not_run": 0, "failed": 4}
    bad = first.failed[0]
    record = json.load(open(os.path.join(out, "jobs", f"{bad.id}.json")))
    assert record["status"] == "error" and "toy job asked to fail" in record["error"]
    assert "RuntimeError" in record["traceback"] and "toy.py" in record["traceback"]
    table = read_csv(first.paths["csv"])
    assert [r["status"] for r in table].count("error") == 4 and table[0]["spectral_radius"] != ""
    assert len(log.read_text().splitlines()) == 8

    again = run(toy_sweep({"g": [0.5, 1.5], "fail": [False, True]}), out=out, executor="serial", progress=False)
    assert again.counts["ran"] == 0 and len(log.read_text().splitlines()) == 8  # nothing recomputed
    retry = run(toy_sweep({"g": [0.5, 1.5], "fail": [False, True]}), out=out, executor="serial", progress=False,
                retry_failed=True)
    assert retry.counts["ran"] == 4 and retry.counts["reused"] == 4 and len(log.read_text().splitlines()) == 12

    grown = run(toy_sweep({"g": [0.5, 1.0, 1.5]}), out=out, executor="serial", progress=False)
    assert grown.counts == {"jobs": 6, "reused": 4, "ran": 2, "not_run": 0, "failed": 0}
    assert [line.split()[1] for line in log.read_text().splitlines()[12:]] == ["1.0", "1.0"]


def test_a_torn_record_and_a_leftover_temporary_file_are_recomputed(tmp_path):
    out = str(tmp_path / "out")
    sweep = toy_sweep({"g": [0.5, 1.5]}, seeds=1)
    reference = run(sweep, out=out, executor="serial", progress=False)
    torn = reference.jobs[1]
    path = os.path.join(out, "jobs", f"{torn.id}.json")
    text = open(path).read()
    open(path, "w").write(text[: len(text) // 2])
    stray = os.path.join(out, "jobs", f".{torn.id}.json.999.tmp")
    open(stray, "w").write(text[:10])
    messages = []
    again = run(sweep, out=out, executor="serial", progress=False, say=messages.append)
    assert again.counts["ran"] == 1 and again.counts["reused"] == 1 and not os.path.exists(stray)
    assert torn.id in messages[0] and "not a complete record" in messages[0]
    assert again.records[torn.id]["rows"] == reference.records[torn.id]["rows"]


def _tiny_model_sweep(tmp_path):
    return write_toml(tmp_path / "model_sweep.toml", f"""
        [sweep]
        model = "{ROOT}/models/flip_flop.toml"
        seeds = 2
        [compare]
        substrates = ["ann"]
        trials = 4
        [grid]
        "network.n_rec" = [6]
        "training.steps" = [3]
        "training.batch_size" = [4]
        "training.validation" = [0]
        "network.g" = [0.9, 1.2]
        [plot]
        x = "network.g"
        metric = "mse"
    """)


def _csv_bytes(res):
    return open(res.paths["csv"], "rb").read()


@pytest.mark.dask
def test_the_local_cluster_gives_a_job_to_whichever_worker_is_free():
    """8 jobs in flight at once, as the runner sends them, to one worker that takes 1 s a job and one that takes
    1.6 s: as in a process pool, the fast one must run 5 (makespan 5 s). Dask's default worker saturation (1.1)
    can assign them 4 and 4 on arrival (6.4 s; not every time: its work stealing sometimes rebalances them), so
    the scheduler's setting is checked too, and that the workers have no memory budget."""
    pytest.importorskip("distributed")
    from distributed import default_client

    from neurosim.sweep.dask_executor import dask_executor

    def paced(i):  # a local function: cloudpickle sends it to the workers by value
        import time

        from distributed import get_worker

        name = get_worker().name
        time.sleep(1.0 if name == 0 else 1.6)
        return name

    with dask_executor(n_workers=2) as (ex, n):
        assert n == 2
        client = default_client()
        assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.WORKER_SATURATION) == 1.0
        # no memory budget, so no memory checks every 100 ms in the workers
        assert [w["memory_limit"] for w in client.scheduler_info()["workers"].values()] == [0, 0]
        names = [f.result() for f in [ex.submit(paced, i) for i in range(8)]]
    assert names.count(0) == 5, names


@pytest.mark.dask
def test_serial_pool_and_dask_give_identical_tables(tmp_path):
    pytest.importorskip("distributed")
    from neurosim.sweep.executors import executor

    toy = toy_sweep({"g": [0.5, 1.0, 1.5, 2.0], "n": [8, 32]}, seeds=3, config={"steps": 200})
    model = load_sweep(_tiny_model_sweep(tmp_path))
    sweeps = {"toy": toy, "model": model}
    runs = {name: {"serial": run(sweep, out=str(tmp_path / f"{name}-serial"), executor="serial", progress=False)}
            for name, sweep in sweeps.items()}
    for kind in ("process", "dask"):  # one pool, one LocalCluster of 2 processes, for both sweeps
        with executor(kind, workers=2) as (ex, n):
            for name, sweep in sweeps.items():
                runs[name][kind] = run(sweep, out=str(tmp_path / f"{name}-{kind}"), executor=ex, workers=n,
                                       progress=False)
    for name, by_kind in runs.items():
        serial = by_kind["serial"]
        assert serial.counts["failed"] == 0, [serial.records[j.id]["error"] for j in serial.failed]
        assert _csv_bytes(serial) == _csv_bytes(by_kind["process"]) == _csv_bytes(by_kind["dask"])
    for kind in ("process", "dask"):
        pids = {r["worker"]["pid"] for by_kind in runs.values() for r in by_kind[kind].records.values()}
        assert os.getpid() not in pids and len(pids) == 2, (kind, pids)  # really ran in two other processes
    rows = read_csv(runs["model"]["serial"].paths["csv"])
    assert {r["substrate"] for r in rows} == {"ann"} and all(float(r["mse"]) > 0 for r in rows)
    assert len({r["mse"] for r in rows}) == 4 and os.path.exists(runs["model"]["serial"].paths["figure"])


def test_cli_sweep_runs_and_resumes(tmp_path):
    sweep = write_toml(tmp_path / "s.toml", f"""
        [sweep]
        function = "{TOY}"
        seeds = 2
        [grid]
        g = [0.5, 1.5]
    """)
    cmd = [sys.executable, "-m", "neurosim.cli", "sweep", sweep, "--out", str(tmp_path / "o"), "--quiet"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    first = subprocess.run(cmd + ["--workers", "0"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr
    assert "4 jobs, 0 already done, 4 run now, 0 failed" in first.stdout
    second = subprocess.run(cmd + ["--workers", "2"], capture_output=True, text=True, env=env)
    assert "4 jobs, 4 already done, 0 run now" in second.stdout
    bad = subprocess.run(cmd[:4] + [str(tmp_path / "missing.toml")], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "does not exist" in bad.stderr


# -- SIGKILL at ten random moments ------------------------------------------------------------------------------

def _finished(out, jobs):
    """Ids of the jobs with a complete record; every file under a final name must be one."""
    jobs_dir = os.path.join(out, "jobs")
    if not os.path.isdir(jobs_dir):
        return set()
    names = [n for n in os.listdir(jobs_dir) if not n.startswith(".")]
    by_id = {j.id: j for j in jobs}
    for name in names:
        assert read_record(os.path.join(jobs_dir, name), name[:-5]) is not None, f"torn file {name}"
    return {n[:-5] for n in names if n[:-5] in by_id}


def test_sigkill_at_ten_random_moments_loses_and_recomputes_nothing(tmp_path):
    """Each of ten runs is killed (the runner and its workers, SIGKILL) at a random moment once it has started
    1 to 4 jobs (so the kills land mid-sweep whatever the machine's load), then an eleventh run completes."""
    sweep_path = write_toml(tmp_path / "kill.toml", f"""
        [sweep]
        function = "{TOY}"
        seeds = 6
        [config]
        steps = 2000
        [grid]
        g = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5]
        n = [8, 16]
    """)
    sweep = load_sweep(sweep_path)
    jobs = sweep.jobs()
    key = {(str(j.seed), repr(float(j.params["g"])), str(j.params["n"])): j.id for j in jobs}
    out, log = str(tmp_path / "out"), tmp_path / "calls.log"
    env = {**os.environ, "PYTHONPATH": ROOT, "NEUROSIM_SWEEP_TOY_LOG": str(log)}
    rng = np.random.default_rng(12)
    recomputed, seen_lines, progress = [], 0, []

    def lines():
        return log.read_text().split("\n")[:-1] if log.exists() else []  # the last element: "" or a torn line

    for k in range(11):
        before = _finished(out, jobs)
        cmd = [sys.executable, "-m", "neurosim.cli", "sweep", sweep_path, "--out", out, "--quiet",
               "--workers", "2" if k % 2 else "0"]
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if k < 10:
            wait_for, deadline = seen_lines + int(rng.integers(1, 5)), time.monotonic() + 120
            while len(lines()) < wait_for and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            time.sleep(rng.uniform(0.0, 0.05))
            os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, like an OOM kill of the job
        _, err = proc.communicate(timeout=300)
        if k == 10:
            assert proc.returncode == 0, err.decode()
        ran = [key[tuple(line.split())] for line in lines()[seen_lines:]]
        seen_lines += len(ran)
        recomputed += [i for i in ran if i in before]
        progress.append(len(_finished(out, jobs)))

    assert recomputed == [], progress  # zero finished jobs recomputed
    assert progress[-1] == len(jobs)  # zero jobs lost
    assert 0 < progress[9] < len(jobs), f"the kills did not land mid-sweep: finished jobs after each run {progress}"
    reference = run(sweep, out=str(tmp_path / "reference"), executor="serial", progress=False)
    assert open(os.path.join(out, "results.csv"), "rb").read() == _csv_bytes(reference)


@pytest.mark.parametrize("path", sorted(os.path.join(ROOT, "sweeps", f) for f in os.listdir(os.path.join(ROOT, "sweeps"))
                                        if f.endswith(".toml")))
def test_shipped_sweeps_parse(path):
    try:
        sweep = load_sweep(path)
    except SweepError as err:
        if "unknown experiment" in str(err):
            pytest.skip(f"{os.path.basename(path)}: its experiment is not registered on this branch ({err})")
        raise
    assert len(sweep.jobs()) >= 18 and sweep.plot["metric"]


@pytest.mark.slow
@pytest.mark.brian2
@pytest.mark.dask
def test_workers_compile_brian2_code_into_one_fresh_cache(tmp_path, monkeypatch):
    """Two worker processes start on an empty Cython cache and compile the same modules at once (Brian2 locks each
    module): both finish, and the table equals the serial run's (in this process, on the now warm cache) and a
    Dask LocalCluster's (whose jobs run in worker threads: Brian2 must have been imported in the main thread)."""
    cache = tmp_path / "brian-cache"
    monkeypatch.setenv("NEUROSIM_BRIAN_CACHE", str(cache))  # inherited by the spawned workers
    sweep = parse_sweep({"sweep": {"function": "neurosim.sweep.toy:rate_job", "seeds": 2}, "grid": {"g": [0.8, 1.5]}},
                        source="rate.toml")
    pool = run(sweep, out=str(tmp_path / "pool"), executor="process", workers=2, progress=False)
    assert pool.counts["failed"] == 0, [pool.records[j.id]["error"] for j in pool.failed]
    assert len({r["worker"]["pid"] for r in pool.records.values()}) == 2 and any(cache.rglob("*.so"))
    serial = run(sweep, out=str(tmp_path / "serial"), executor="serial", progress=False)
    assert _csv_bytes(pool) == _csv_bytes(serial)
    if importlib.util.find_spec("distributed") is not None:
        dask = run(sweep, out=str(tmp_path / "dask"), executor="dask", workers=2, progress=False)
        assert dask.counts["failed"] == 0, [dask.records[j.id]["error"] for j in dask.failed]
        assert _csv_bytes(dask) == _csv_bytes(serial)
    assert all(float(r["max_state_diff"]) < 1e-10 for r in read_csv(pool.paths["csv"]))


def test_experiment_sweeps_resolve_against_the_experiment_config_and_run_it(tmp_path, monkeypatch):
    from neurosim.experiments import base

    def echo(config, seed):
        return [{"value": config["a"] * 10 + seed, "quick": config["b"]}]

    exp = base.Experiment(name="sweep_echo", claim="c", citation="", description="", config={"seeds": 3, "a": 1,
                          "b": "full"}, quick={"b": "quick"}, run=echo, check=None, figures=None)
    monkeypatch.setitem(base._REGISTRY, "sweep_echo", exp)  # removed again after the test
    raw = {"sweep": {"experiment": "sweep_echo", "seeds": 2, "quick": True}, "grid": {"a": [1, 2]}}
    sweep = parse_sweep(raw, source="e.toml")
    assert sweep.jobs()[0].config == {"a": 1, "b": "quick"}  # the experiment's quick config; its seeds dropped
    res = run(sweep, out=str(tmp_path / "e"), executor="serial", progress=False)
    assert [r["value"] for r in res.table] == [10, 11, 20, 21] and {r["quick"] for r in res.table} == {"quick"}
    with pytest.raises(SweepError, match=r"unknown config keys \['c'\]"):
        parse_sweep({**raw, "grid": {"c": [1]}}, source="e.toml")
    with pytest.raises(SweepError, match="'seeds' is set by \\[sweep\\] seeds"):
        parse_sweep({**raw, "config": {"seeds": 4}}, source="e.toml")


@pytest.mark.brian2
def test_brian2_imports_in_a_worker_thread_once_allowed_and_nothing_else_changes():
    """Dask runs jobs in threads; Brian2's import installs a SIGINT handler, which Python allows only in the main
    thread. In a fresh interpreter: the import fails in a thread without the allowance, succeeds with it, and any
    other caller of signal.signal off the main thread still gets Python's ValueError."""
    code = textwrap.dedent("""
        import signal, sys, threading
        from neurosim.brian.devices import allow_import_off_main_thread
        def attempt(out):
            try:
                import brian2
                out.append("imported " + brian2.__version__)
            except ValueError as err:
                out.append("ValueError " + str(err))
        if sys.argv[1] == "allowed":
            allow_import_off_main_thread()
        out = []
        t = threading.Thread(target=attempt, args=(out,)); t.start(); t.join()
        def other(out):
            try:
                signal.signal(signal.SIGUSR1, signal.SIG_DFL)
                out.append("other installed")
            except ValueError:
                out.append("other refused")
        t = threading.Thread(target=other, args=(out,)); t.start(); t.join()
        print(";".join(out))
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    said = {mode: subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, env=env,
                                 timeout=300).stdout.strip() for mode in ("plain", "allowed")}
    assert said["plain"].startswith("ValueError") and "main thread" in said["plain"], said
    assert said["allowed"].startswith("imported ") and said["allowed"].endswith("other refused"), said


def test_summary_band_is_the_seeds_range_and_the_line_their_mean():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurosim import plots

    rows = [{"delay": d, "r2": v, "seed": s} for d, vals in ((0.5, [0.9, 0.99, 1.0]), (1.0, [0.2, 0.4, 0.9]))
            for s, v in enumerate(vals)]
    ax = plots.sweep_summary(rows, x="delay", metric="r2")
    (band,) = ax.collections
    ys = band.get_paths()[0].vertices[:, 1]
    # mean + sd of [0.9, 0.99, 1.0] is 1.004, above any R^2: the band must stop at the highest seed
    assert np.isclose(ys.max(), 1.0) and np.isclose(ys.min(), 0.2)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [np.mean([0.9, 0.99, 1.0]), 0.5])
    plt.close(ax.figure)
