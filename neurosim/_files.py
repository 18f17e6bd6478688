"""Files that are either whole or absent, and run directories that say whether they are finished.

Every file neurosim writes goes through :func:`atomic`: the bytes go to ``NAME.part-PID`` beside the target and
are renamed onto ``NAME`` only once they are complete (``os.replace`` is atomic on one file system), so a killed
command leaves either the old file, the new one, or a ``.part-`` file, never half a file under the real name.

A run directory (``neurosim train/simulate/compare/experiment --out DIR``) is finished when it holds
:data:`MANIFEST`, written last: the name, size and SHA-256 of every other file in it and its subdirectories.
:func:`run_state` reads a directory back as "absent", "empty", "complete" (the manifest matches every file) or
"incomplete" (files but no valid manifest: an interrupted run, or one still being written), with a one-line
description of what it found.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os

__all__ = ["atomic", "write_text", "write_json", "MANIFEST", "write_manifest", "run_state", "remove_manifest"]

MANIFEST = "manifest.json"
PART = ".part-"


@contextlib.contextmanager
def atomic(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block ends without an error.

    On an error the temporary file is removed and the target is left as it was.
    """
    path = os.fspath(path)
    tmp = f"{path}{PART}{os.getpid()}"
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the bytes reach the disk before the name does
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text: str) -> str:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic(path) as tmp, open(tmp, "w") as fh:
        fh.write(text)
    return os.fspath(path)


def write_json(path, data) -> str:
    """Write ``data`` as indented JSON (arrays as lists, other objects as strings) atomically; return the path."""
    import numpy as np

    text = json.dumps(data, indent=2, default=lambda o: o.tolist() if isinstance(o, np.ndarray) else str(o))
    return write_text(path, text + "\n")


def _digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(directory: str) -> list[str]:
    """Every file under ``directory`` but the manifest, as paths relative to it ("seeds/seed-0.json")."""
    found = []
    for root, _, names in os.walk(directory):
        rel = os.path.relpath(root, directory)
        found += [n if rel == "." else os.path.join(rel, n) for n in names]
    return sorted(f for f in found if f != MANIFEST)


def _partial(name: str) -> bool:
    """A temporary file of a write that did not finish (ours: NAME.part-PID; NAME.tmp elsewhere)."""
    return PART in name or name.endswith(".tmp")


def write_manifest(directory, command: str = "") -> str:
    """Mark ``directory`` complete: write :data:`MANIFEST` (every file's size and SHA-256) last, atomically.

    Refuses (ValueError) when a ``.part-`` file is present: a write did not finish.
    """
    directory = os.fspath(directory)
    files = _files(directory)
    partial = [f for f in files if _partial(f)]
    if partial:
        raise ValueError(f"{directory}: unfinished writes {partial}; the run is not complete")
    entries = {f: {"size": os.path.getsize(os.path.join(directory, f)), "sha256": _digest(os.path.join(directory, f))}
               for f in files}
    return write_json(os.path.join(directory, MANIFEST), {"format": "neurosim.run", "command": command,
                                                          "files": entries})


def remove_manifest(directory) -> None:
    """Mark ``directory`` as not complete (before files in it are overwritten)."""
    path = os.path.join(os.fspath(directory), MANIFEST)
    if os.path.exists(path):
        os.remove(path)


def run_state(directory) -> tuple[str, str]:
    """``(state, description)`` of a run directory: "absent", "empty", "complete" or "incomplete"."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        return "absent", f"{directory} does not exist"
    files = _files(directory)
    manifest = os.path.join(directory, MANIFEST)
    if not files and not os.path.exists(manifest):
        return "empty", f"{directory} holds no files"
    if not os.path.exists(manifest):
        return "incomplete", (f"{directory} holds an unfinished run: {len(files)} file(s) ({', '.join(files[:6])}"
                              f"{', ...' if len(files) > 6 else ''}) but no {MANIFEST}, which a finished run "
                              "writes last; it was interrupted or is still running")
    try:
        with open(manifest) as fh:
            listed = json.load(fh)["files"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        return "incomplete", f"{directory}: {MANIFEST} cannot be read ({type(err).__name__}: {err})"
    for name, entry in listed.items():
        path = os.path.join(directory, name)
        if not os.path.isfile(path) or os.path.getsize(path) != entry.get("size") or _digest(path) != entry.get(
                "sha256"):
            return "incomplete", f"{directory}: {name} is missing or differs from {MANIFEST}"
    extra = sorted(set(files) - set(listed))
    if extra:
        return "incomplete", f"{directory}: files {extra} are not in {MANIFEST} (written after the run finished)"
    return "complete", f"{directory} holds a finished run ({len(listed)} files in {MANIFEST})"
