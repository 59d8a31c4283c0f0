"""What a killed process (kill -9, a power cut) leaves in a project, cleared on the next open,
train or export: temporary files of writes that never finished (`.best.pt.PID.tmp`,
`.model.onnx.PID.tmp`, ...: engine.atomic names them with the writer's process id) and training
runs whose run.json still says "running" though no process trains them any more. The temporary
files of a process that still runs are left alone; runs are marked "interrupted" only when no
live process holds the project's training lock (engine.project.locks). Never imports Qt or torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.atomic import discard, temp_pid, write_text
from engine.errors import StorageError
from engine.project.locks import LOCK_FILES, pid_alive, read_holder

# folders a write of the app's own files goes to (images/ is engine.project.recovery's)
SWEPT = ("", "masks", "thumbs", ".backup")
SWEPT_DEEP = ("models", "export")  # with their subfolders: runs/<id>/, export/<format>/
INTERRUPTED = "interrupted"


def stale_temps(folder: str | os.PathLike, deep: bool = False) -> list[Path]:
    """Temporary files in `folder` (and below, with `deep`) left by processes that are gone."""
    folder = Path(folder)
    found = []
    walk = os.walk(folder) if deep else [(str(folder), [], _names(folder))]
    for top, _dirs, names in walk:
        for name in names:
            pid = temp_pid(name)
            if pid is not None and not pid_alive(pid):
                found.append(Path(top) / name)
    return found


def _names(folder: Path) -> list[str]:
    try:
        return [e.name for e in os.scandir(folder) if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def sweep_temps(folder: str | os.PathLike, deep: bool = False) -> int:
    """Remove the stale temporary files of `folder` (see stale_temps); how many went."""
    gone = stale_temps(folder, deep)
    for p in gone:
        discard(p)
    return len(gone)


def training_held(project_path: Path) -> bool:
    """Whether a live process (this one too, or one on another computer) holds the training
    lock: its run is going on."""
    holder = read_holder(Path(project_path) / LOCK_FILES["training"])
    if holder is None:
        return (Path(project_path) / LOCK_FILES["training"]).exists()  # being written now
    return holder.alive() is not False


def mark_interrupted(project_path: str | os.PathLike, *, locked: bool = False) -> list[str]:
    """Runs still "running" whose process is gone become "interrupted" (resumable where a
    last.pt is kept); a sentence per run. `locked`: the caller holds the training lock, so no
    run can be going on. Nothing is changed while a process may be training."""
    path = Path(project_path)
    runs = path / "models" / "runs"
    if not runs.is_dir() or (not locked and training_held(path)):
        return []
    notes = []
    for folder in sorted(p for p in runs.iterdir() if p.is_dir()):
        run_file = folder / "run.json"
        try:
            data = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or data.get("status") != "running":
            continue
        resumable = (folder / "last.pt").is_file()
        data["status"] = INTERRUPTED
        data["error"] = "the process training it ended without finishing (killed or crashed)"
        try:
            write_text(run_file, json.dumps(data, indent=2))
        except StorageError:
            continue
        then = "continue it with train --resume" if resumable else "it kept no state to resume"
        notes.append(f"Training run {folder.name} was interrupted (its process is gone); {then}.")
    return notes


def sweep(project_path: str | os.PathLike) -> list[str]:
    """Clear what killed processes left in a writable project (temporary files, runs stuck at
    "running"); a sentence for people per thing done."""
    path = Path(project_path)
    busy = training_held(path)
    n = sum(sweep_temps(path / sub) for sub in SWEPT)
    n += sum(sweep_temps(path / s, deep=True) for s in SWEPT_DEEP if not (busy and s == "models"))
    notes = [f"Removed {n} unfinished temporary file(s) left by a killed process."] if n else []
    return notes + mark_interrupted(path)
