"""Run a sweep: jobs -> an executor -> one result file per job -> the consolidated table.

The output directory holds::

    manifest.json        the sweep, its jobs (id, seed, parameters) and their status, rewritten at start and end
    jobs/<id>.json       one record per finished job (status "ok" with rows, or "error" with error + traceback)
    results.csv          the consolidated table: one line per row of each job, in sweep order
    results.jsonl        one JSON line per job (rows, status, timings, worker)
    summary.png          the [plot] metric against a parameter, mean and spread over seeds (if [plot] is given)

Nothing lost, nothing recomputed: a record is written under a temporary name in ``jobs/``, flushed and fsync'ed,
then renamed onto ``jobs/<id>.json`` (``os.replace`` is atomic on POSIX); the directory is fsync'ed at most every
half second and at the end (the rename alone protects against a killed process, the fsyncs against a power cut).
Records are written by a few threads of this process, so that fsyncs overlap (about 9 ms each on this machine's
disk) while the next results arrive. So a file under a final name is always complete, a kill at any moment loses at most the jobs that were running, and a rerun
skips every job whose record exists (it reads and checks each one: a file that does not parse, or belongs to
another id, is recomputed; leftover temporary files are removed). A job that raises is recorded with its error and
traceback and the sweep goes on; a rerun skips it too unless ``retry_failed``. Only this process writes into the
directory (the workers return their records), and a lock file refuses a second concurrent run on it.

Job ids are hashes of the resolved configs (:mod:`.jobs`), so results of several versions of a sweep can share one
directory: the table lists the jobs of the current sweep only, reusing every record it finds.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime
import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import executors
from . import results as results_mod
from .jobs import Job, execute
from .spec import Sweep, load_sweep

__all__ = ["run", "SweepRun", "write_atomic", "read_record", "JOBS_DIR"]

JOBS_DIR = "jobs"
TMP_SUFFIX = ".tmp"
WRITER_THREADS = 4  # concurrent record writes, so that their fsyncs overlap
DIRECTORY_SYNC_SECONDS = 0.5


@dataclass
class SweepRun:
    """What :func:`run` did: the jobs, their records (id -> record), counts and the files written."""

    sweep: Sweep
    out: str
    jobs: list
    records: dict
    counts: dict = field(default_factory=dict)
    table: list = field(default_factory=list)
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def failed(self) -> list:
        return [j for j in self.jobs if self.records.get(j.id, {}).get("status") == "error"]


def fsync_directory(directory: str) -> None:
    """Make the renames in ``directory`` durable (a power cut after this keeps them)."""
    dfd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_atomic(path: str, text: str, *, sync_directory: bool = True) -> None:
    """Write ``text`` to ``path`` so that ``path`` is either absent/old or complete: temporary file in the same
    directory, flush + fsync, ``os.replace``, then (``sync_directory``) fsync of the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if sync_directory:
        fsync_directory(directory)


def read_record(path: str, job_id: str) -> dict | None:
    """The finished record at ``path``, or None if it is missing, unreadable or not this job's."""
    try:
        with open(path) as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("id") != job_id or record.get("status") not in ("ok", "error"):
        return None
    return record


@contextmanager
def _lock(out: str):
    path = os.path.join(out, ".lock")
    fh = open(path, "w")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the kernel if this process dies
        except BlockingIOError:
            raise RuntimeError(f"sweep output {out}: another sweep is running on this directory (lock {path}); "
                               "wait for it or choose another --out") from None
        yield
    finally:
        fh.close()


def _scan(jobs: list[Job], jobs_dir: str, retry_failed: bool, say) -> tuple[dict, list]:
    """(records of the finished jobs, the jobs still to run); removes leftover temporary files."""
    for name in os.listdir(jobs_dir):
        if name.startswith(".") and name.endswith(TMP_SUFFIX):
            os.unlink(os.path.join(jobs_dir, name))  # a write that a kill interrupted: never a finished job
    records, todo = {}, []
    for job in jobs:
        path = os.path.join(jobs_dir, f"{job.id}.json")
        record = read_record(path, job.id)
        if record is None and os.path.exists(path):
            say(f"sweep: {path} is not a complete record of job {job.id}: running the job again")
        if record is None or (retry_failed and record["status"] == "error"):
            todo.append(job)
        else:
            records[job.id] = record
    return records, todo


def _manifest(sweep: Sweep, jobs: list[Job], records: dict, extra: dict) -> str:
    from .. import __version__

    status = {"ok": 0, "error": 0, "pending": 0}
    for job in jobs:
        status[records.get(job.id, {}).get("status", "pending")] += 1
    return json.dumps({
        "sweep": sweep.name, "source": sweep.source, "kind": sweep.kind, "target": sweep.target,
        "parameters": list(sweep.parameters), "seeds": list(sweep.seeds), "n_jobs": len(jobs), "status": status,
        "neurosim_version": __version__, "written": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        **extra,
        "jobs": [{"id": j.id, "seed": j.seed, "params": j.params} for j in jobs],
    }, indent=1) + "\n"


def _record(job: Job, result: dict) -> dict:
    from .. import __version__

    return {"id": job.id, "kind": job.kind, "target": job.target, "seed": job.seed, "params": job.params,
            "config": job.config, **result, "neurosim_version": __version__,
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat()}


def _executor(executor, workers, scheduler):
    if isinstance(executor, cf.Executor):
        @contextmanager
        def given():
            yield executor, workers or 1
        return given()
    return executors.executor(executor, workers=workers, scheduler=scheduler)


def run(sweep, *, out: str | None = None, executor="process", workers: int | None = None,
        scheduler: str | None = None, retry_failed: bool = False, progress: bool = True, say=print) -> SweepRun:
    """Run every job of ``sweep`` (a :class:`Sweep` or the path of a SWEEP.toml) not finished in ``out``.

    executor: "process" (a local pool of ``workers`` processes, default: one per core), "serial" (in this
    process), "dask" (a LocalCluster of ``workers`` processes, or the cluster at ``scheduler``), or any
    ``concurrent.futures.Executor`` you made. out: the output directory (default ``runs/sweep-NAME``; running
    again resumes there). retry_failed: run the jobs recorded as failed again. Returns a :class:`SweepRun`;
    writes the files listed in the module docstring.
    """
    start = time.perf_counter()
    sweep = load_sweep(sweep) if isinstance(sweep, (str, os.PathLike)) else sweep
    if not isinstance(sweep, Sweep):
        raise TypeError(f"sweep: expected a Sweep or the path of a SWEEP.toml, got {type(sweep).__name__}")
    if scheduler is not None and executor == "process":
        executor = "dask"
    if not isinstance(executor, cf.Executor) and executor not in executors.EXECUTORS:
        raise ValueError(f"sweep executor: expected one of {list(executors.EXECUTORS)} or a "
                         f"concurrent.futures.Executor, got {executor!r}")
    out = out or os.path.join("runs", f"sweep-{sweep.name}")
    jobs_dir = os.path.join(out, JOBS_DIR)
    os.makedirs(jobs_dir, exist_ok=True)
    jobs = sweep.jobs()
    with _lock(out):
        records, todo = _scan(jobs, jobs_dir, retry_failed, say)
        reused = len(records) - sum(1 for j in todo if j.id in records)
        where = executor if isinstance(executor, str) else type(executor).__name__
        write_atomic(os.path.join(out, "manifest.json"), _manifest(sweep, jobs, records, {"executor": where}))
        lost = []
        if todo:
            lost = _execute(sweep, todo, records, jobs_dir, len(jobs), executor, workers, scheduler, progress)
        run_ = SweepRun(sweep, out, jobs, records, counts={
            "jobs": len(jobs), "reused": reused, "ran": len(todo) - len(lost), "not_run": len(lost),
            "failed": sum(1 for j in jobs if records.get(j.id, {}).get("status") == "error")})
        write_atomic(os.path.join(out, "manifest.json"), _manifest(sweep, jobs, records, {"executor": where}))
        run_.table, run_.paths = results_mod.write(sweep, jobs, records, out)
    run_.seconds = time.perf_counter() - start
    if lost:
        raise RuntimeError(f"sweep {sweep.name}: {len(lost)} job(s) did not run because the executor failed "
                           f"({lost[0][1]}); the {len(records)} finished jobs are saved in {out}: run the sweep "
                           "again to resume")
    return run_


def _execute(sweep, todo, records, jobs_dir, n_jobs, executor, workers, scheduler, progress) -> list:
    """Submit ``todo`` (at most a few jobs per worker in flight), write each record as it arrives; return the
    jobs the executor itself failed on (a worker that died, a cluster that went away) with the reason."""
    from tqdm.auto import tqdm

    lost, writes = [], []
    bar = tqdm(total=n_jobs, initial=n_jobs - len(todo), unit="job", desc=f"sweep {sweep.name}", disable=not progress,
               dynamic_ncols=True)
    failed = sum(1 for r in records.values() if r["status"] == "error")
    last_sync = time.monotonic()
    writer = cf.ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="neurosim-sweep-writer")
    try:
        with bar, _executor(executor, workers, scheduler) as (ex, n):
            window = 1 if isinstance(ex, executors.SerialExecutor) else 4 * n
            queue = iter(todo)
            inflight: dict = {}

            def fill():
                while len(inflight) < window:
                    job = next(queue, None)
                    if job is None:
                        return
                    inflight[ex.submit(execute, *job.payload())] = job

            fill()
            while inflight:
                done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
                for future in done:
                    job = inflight.pop(future)
                    try:
                        result = future.result()
                    except Exception as err:  # the executor failed, not the job (execute never raises)
                        lost.append((job, f"{type(err).__name__}: {err}"))
                        continue
                    record = _record(job, result)
                    writes.append(writer.submit(write_atomic, os.path.join(jobs_dir, f"{job.id}.json"),
                                                json.dumps(record, indent=1) + "\n", sync_directory=False))
                    records[job.id] = record
                    failed += record["status"] == "error"
                    bar.update(1)
                    if failed:
                        bar.set_postfix(failed=failed, refresh=False)
                if lost and "Broken" in lost[-1][1]:  # a dead pool runs nothing more: stop, keep what finished
                    for future, job in inflight.items():
                        future.cancel()
                        lost.append((job, lost[-1][1]))
                    inflight.clear()
                    break
                if time.monotonic() - last_sync > DIRECTORY_SYNC_SECONDS:
                    fsync_directory(jobs_dir)
                    last_sync = time.monotonic()
                fill()
    finally:
        writer.shutdown(wait=True)
        fsync_directory(jobs_dir)
    for w in writes:
        w.result()  # a write that failed (disk full, ...) is an error of the sweep: raise it
    return lost
