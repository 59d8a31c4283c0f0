"""The hostile-project cases of benchmarks/faults.py (issue 19). Each returns a row with
files_lost, outside_writes, orphans_left and tracebacks (all zero is the goal) and what the
user saw:

  paths        project.db rows naming ../victim/x.png and an absolute path, a run id climbing
               out: save_mask, clear_mask, thumbnails, check, train, remove, use-run
  restore      `restore` while another process has the project open
  mask size    a 50x20 mask for a 32x32 image: check and train name it
  broken files project.json, training.json, run.json, history.json, lr_find.json damaged
               (bytes, cut short, JSON of the wrong shape): info, check, export, use-run,
               train --resume, predict
  read-only    lr-find and use-run on a write-protected project (setpriv without the
               capabilities that let root write anyway)
  full disk    the finished run's model becoming the model in use (injected ENOSPC)
  kill -9      training killed while writing best.pt, export killed while writing model.onnx
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ["--arch", "mobilenet_v3_small", "--weights", "none", "--epochs", "1"]
TRAIN += ["--image-size", "32", "--batch-size", "8", "--device", "cpu"]

CHILD = r"""
import errno, os, signal, sys
from pathlib import Path
import engine.atomic as atomic
from cli.main import run
case, args = sys.argv[1], sys.argv[2:]
if case == "install-full":  # the copy of the run's best.pt to models/best.pt finds the disk full
    real = atomic.copy_file
    def copy_file(src, dest, doing=""):
        def fill(f):
            f.write(open(src, "rb").read(20000))
            raise OSError(errno.ENOSPC, "No space left on device")
        return atomic.write_file(dest, fill, doing=doing)
    atomic.copy_file = copy_file
    import engine.training.runs as runs
    runs.copy_file = copy_file
elif case == "kill-train":  # SIGKILL half-way through writing the run's best.pt
    real_path = atomic.write_path
    def write_path(path, fill, **kw):
        if Path(path).name == "best.pt":
            atomic.temp_path(Path(path)).write_bytes(b"half a model")
            os.kill(os.getpid(), signal.SIGKILL)
        return real_path(path, fill, **kw)
    atomic.write_path = write_path
elif case == "kill-export":  # SIGKILL half-way through writing the exported model
    from engine.export import backends
    def write_model(fmt, wrapped, size, path, exporter="legacy"):
        Path(path).write_bytes(b"half a model")
        os.kill(os.getpid(), signal.SIGKILL)
    backends.write_model = write_model
sys.exit(run(args))
"""

EDIT = r"""
import sys, numpy as np
from engine.project.store import Project
from engine.project.thumbnails import thumbnail
p = Project.open(sys.argv[1])
for iid in p.query():
    for fn in (lambda: p.save_mask(iid, np.zeros((32, 32), np.uint8)), lambda: p.clear_mask(iid),
               lambda: p.read_mask(iid), lambda: thumbnail(p, p.image(iid))):
        try:
            fn()
        except Exception as e:
            print(type(e).__name__, str(e)[:100])
p.remove_images(p.query()[:1])
p.close()
"""

HOLD = r"""
import sys
from engine.project.store import Project
p = Project.open(sys.argv[1])
print("open", flush=True)
sys.stdin.readline()
p.set_labels(p.query()[:1], [p.class_names()[0]])
print("labelled", flush=True)
sys.stdin.readline()
p.close()
"""


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def edit(project: Path) -> subprocess.CompletedProcess:
    """The mask and thumbnail calls of EDIT on `project`, in a child process."""
    return subprocess.run([sys.executable, "-c", EDIT, str(project)], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def cli(*args, child: str = "", prefix=()) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", CHILD, child] if child else [sys.executable, str(ROOT / "main.py")]
    return subprocess.run(
        [*prefix, *cmd, *map(str, args)], cwd=ROOT, env=_env(), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip


def traceback(proc: subprocess.CompletedProcess) -> int:
    return int("Traceback" in proc.stderr or proc.returncode not in (0, 1))


def last_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln.strip() for ln in proc.stderr.replace("\r", "\n").splitlines() if ln.strip()]
    return lines[-1][:240] if lines else ""


def snapshot(folder: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """Path -> content hash of every file under `folder`, except under `skip` (the projects)."""
    out = {}
    skipped = {s.resolve() for s in skip}
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if (Path(top) / d).resolve() not in skipped]
        for f in files:
            p = Path(top) / f
            out[str(p)] = hashlib.sha1(p.read_bytes()).hexdigest() if p.is_file() else "?"
    return out


def outside_changes(before: dict, after: dict) -> tuple[int, int]:
    """(files written or created, files lost) outside the project."""
    written = sum(1 for k, v in after.items() if before.get(k) != v)
    return written, sum(1 for k in before if k not in after)


def temps(project: Path) -> int:
    return sum(1 for p in project.rglob("*.tmp")) if project.exists() else 0


def trained(work: Path, small: Path) -> Path:
    """A project of `small` images with one finished run (made once, copied per case)."""
    base = work / "trained"
    if not base.exists():
        cli("new", base, "--from", small)
        proc = cli("train", base, *TRAIN)
        assert proc.returncode == 0, proc.stderr[-500:]
    return base


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".open"))
    return dest


def _rows(project: Path, sql: str, args=()) -> None:
    db = sqlite3.connect(project / "project.db")
    with db:
        db.execute(sql, args)
    db.close()


def case_paths(work: Path, small: Path) -> dict:
    import numpy as np
    from PIL import Image

    area = work / "paths"
    victim = area / "victim"
    victim.mkdir(parents=True)
    for name in ("x.png", "y.png"):
        Image.fromarray(np.full((32, 32), 9, np.uint8)).save(victim / name)
    other = area / "other" / "models" / "runs" / "ID"
    shutil.copytree(next((trained(work, small) / "models" / "runs").iterdir()), other)
    seg = area / "seg"
    imgs, masks = area / "src" / "images", area / "src" / "masks"
    imgs.mkdir(parents=True), masks.mkdir(parents=True)
    for i in range(12):
        Image.fromarray(np.full((32, 32, 3), 20 * i, np.uint8)).save(imgs / f"i{i}.png")
        m = np.zeros((32, 32), np.uint8)
        m[: 2 + i] = 1
        Image.fromarray(m).save(masks / f"i{i}.png")
    cli("new", seg, "--task", "segmentation", "--from", imgs, "--masks", masks)
    cls = _copy(trained(work, small), area / "cls")
    _rows(seg, "UPDATE images SET mask=? WHERE id=1", ("../victim/x.png",))
    _rows(seg, "UPDATE images SET mask=? WHERE id=2", (str(victim / "y.png"),))
    _rows(seg, "UPDATE images SET file=? WHERE id=3", ("/etc/hostname",))
    _rows(cls, "UPDATE images SET file=? WHERE id=1", (str(victim / "x.png"),))
    _rows(cls, "UPDATE images SET sha1=? WHERE id=2", ("../../escaped",))
    before = snapshot(area, (seg, cls))
    procs = [
        edit(seg),
        cli("check", seg),
        cli("train", seg, "--arch", "lraspp_mobilenet_v3_large", *TRAIN[2:]),
        cli("check", cls),
        cli("train", cls, *TRAIN),
        cli("use-run", cls, "../../other/models/runs/ID", "--device", "cpu"),
        cli("use-run", cls, str(other), "--device", "cpu"),
        edit(cls),
    ]
    written, lost = outside_changes(before, snapshot(area, (seg, cls)))
    written += int((area / "escaped_128.jpg").exists() or (work / "escaped_128.jpg").exists())
    refused = sum(
        "outside" in p.stdout + p.stderr or "refused" in p.stdout + p.stderr for p in procs
    )
    return {
        "case": "paths out of the project (rows, run id)",
        "refused_commands": f"{refused} of {len(procs)}",
        "message": next((last_line(p) for p in procs[2:] if "refused" in p.stderr), ""),
        "outside_writes": written,
        "files_lost": lost,
        "orphans_left": temps(seg) + temps(cls),
        "tracebacks": sum(traceback(p) for p in procs),
    }


def case_restore(work: Path, small: Path) -> dict:
    project = _copy(trained(work, small), work / "restore" / "p")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(project)], cwd=ROOT, env=_env(),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    holder.stdout.readline()
    damaged = (project / "project.db").read_bytes()
    (project / "project.db").write_bytes(damaged[:4096] + b"\x00" * 8192 + damaged[12288:])
    proc = cli("restore", project)
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.stdout.readline()
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(timeout=60)
    lost = len(list(project.glob("project.db.damaged-*")))  # a swap under the holder
    return {
        "case": "restore while the project is open elsewhere",
        "refused": proc.returncode == 1 and "open in another" in proc.stderr,
        "message": last_line(proc),
        "outside_writes": 0,
        "files_lost": lost,
        "orphans_left": temps(project),
        "tracebacks": traceback(proc),
    }


def case_mask_size(work: Path) -> dict:
    import numpy as np
    from PIL import Image

    src = work / "masksize" / "src"
    (src / "images").mkdir(parents=True), (src / "masks").mkdir()
    for i in range(6):
        Image.fromarray(np.full((32, 32, 3), 30 * i, np.uint8)).save(src / "images" / f"i{i}.png")
        m = np.zeros((32, 32), np.uint8)
        m[:10] = 1
        Image.fromarray(m).save(src / "masks" / f"i{i}.png")
    project = work / "masksize" / "p"
    cli(
        "new", project, "--task", "segmentation", "--from", src / "images", "--masks", src / "masks"
    )
    wrong = next((project / "masks").iterdir())
    Image.fromarray(np.zeros((20, 50), np.uint8)).save(wrong)
    Image.fromarray(np.zeros((20, 50), np.uint8)).save(src / "masks" / "i0.png")
    again = work / "masksize" / "q"
    procs = [cli("new", again, "--task", "segmentation", "--from", src / "images", "--masks",
                 src / "masks"), cli("check", project),
             cli("train", project, "--arch", "lraspp_mobilenet_v3_large", *TRAIN[2:])]  # fmt: skip
    named = [("50x20" in p.stdout or "50 × 20" in p.stdout + p.stderr) for p in procs]
    return {
        "case": "mask of the wrong size (50x20 for 32x32)",
        "named_by": [n for n, ok in zip(("import", "check", "train"), named, strict=True) if ok],
        "message": last_line(procs[2]),
        "outside_writes": 0,
        "files_lost": 0,
        "orphans_left": temps(project),
        "tracebacks": sum(traceback(p) for p in procs),
    }


BAD = {
    "bytes": b"\x00\xff\xfe",
    "cut short": b'{"format": "topdown-project", "task": ',
    "list": b"[1, 2]",
    "wrong types": json.dumps(
        {
            "format": "topdown-project",
            "schema_version": "2",
            "task": ["x"],
            "status": 5,
            "epochs": "x",
            "config": [],
            "metrics": 3,
            "lrs": {},
            "key": 1,
        }
    ).encode(),  # fmt: skip
    "newer": json.dumps(
        {"format": "topdown-project", "schema_version": 99, "task": "classification"}
    ).encode(),  # fmt: skip
}


def case_broken_files(work: Path, small: Path) -> dict:
    base = trained(work, small)
    run_id = next((base / "models" / "runs").iterdir()).name
    files = {"project.json": "project.json", "training.json": "training.json",
             "run.json": f"models/runs/{run_id}/run.json",
             "history.json": f"models/runs/{run_id}/history.json",
             "lr_find.json": "models/lr_find.json"}  # fmt: skip
    tracebacks, runs, examples = 0, 0, {}
    image = next((base / "images").rglob("*.png"))
    lr = ("lr-find", "--image-size", "32", "--arch", "mobilenet_v3_small", "--weights", "none")
    commands = {  # the commands that read each file
        "project.json": [("info",), ("check",), ("export", "--format", "torchscript",
                         "--max-images", "2"), ("use-run", run_id), ("train", "--resume"),
                         ("predict", image)],
        "training.json": [("check",), ("train", "--resume")],
        "run.json": [("info",), ("use-run", run_id), ("train", "--resume")],
        "history.json": [("use-run", run_id)],
        "lr_find.json": [lr],
    }  # fmt: skip
    for fname, rel in files.items():
        for bname, data in BAD.items():
            if bname == "newer" and fname != "project.json":
                continue
            p = _copy(base, work / "broken" / f"{fname}-{bname.replace(' ', '_')}")
            (p / rel).write_bytes(data)
            for cmd in commands[fname]:
                args = [cmd[0], p, *cmd[1:]]
                args += ["--device", "cpu"] if cmd[0] in ("use-run", "lr-find") else []
                proc = cli(*args)
                runs += 1
                tracebacks += traceback(proc)
                if traceback(proc):
                    examples[f"{fname} {bname} {cmd[0]}"] = last_line(proc)
                elif proc.returncode and fname not in examples:
                    examples[fname] = f"{cmd[0]}: {last_line(proc)}"
            shutil.rmtree(p)
    return {
        "case": "broken or newer project files, under the commands that read them",
        "commands_run": runs,
        "messages": examples,
        "outside_writes": 0,
        "files_lost": 0,
        "orphans_left": 0,
        "tracebacks": tracebacks,
    }


def case_read_only(work: Path, small: Path) -> dict:
    p = _copy(trained(work, small), work / "ro" / "p")
    run_id = next((p / "models" / "runs").iterdir()).name
    subprocess.run(["chmod", "-R", "a-w", str(p)], check=True)
    drop = ["setpriv", "--bounding-set",
            "-dac_override,-dac_read_search,-fowner,-linux_immutable", "--inh-caps",
            "-dac_override,-dac_read_search,-fowner,-linux_immutable"]  # fmt: skip
    if os.geteuid() != 0:
        drop = []
    before = snapshot(p)
    try:
        rows = []
        for args in (("lr-find", p, "--image-size", "32", "--arch", "mobilenet_v3_small",
                      "--weights", "none", "--device", "cpu"),
                     ("use-run", p, run_id, "--device", "cpu"), ("check", p)):  # fmt: skip
            t0 = time.perf_counter()
            proc = cli(*args, prefix=drop)
            rows.append((args[0], proc, time.perf_counter() - t0))
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(p)], check=True)
    return {
        "case": "read-only project: lr-find, use-run, check",
        "refused_at_once": {a: round(s, 1) for a, proc, s in rows if "read-only" in proc.stderr},
        "message": last_line(rows[0][1]),
        "outside_writes": 0,
        "project_writes": outside_changes(before, snapshot(p))[0],
        "files_lost": outside_changes(before, snapshot(p))[1],
        "orphans_left": temps(p),
        "tracebacks": sum(traceback(proc) for _, proc, _ in rows),
    }


def case_full_install(work: Path, small: Path) -> dict:
    p = work / "full-install" / "p"
    cli("new", p, "--from", small)
    proc = cli("train", p, *TRAIN, child="install-full")
    run = next((p / "models" / "runs").iterdir())
    status = json.loads((run / "run.json").read_text())["status"]
    return {
        "case": "disk full: the finished run becomes the model in use (injected)",
        "message": last_line(proc),
        "failed_cleanly": proc.returncode == 1 and "free disk space" in proc.stderr,
        "run_status": status,
        "outside_writes": 0,
        "files_lost": int(status == "running"),
        "orphans_left": temps(p),
        "tracebacks": traceback(proc),
    }


def case_kills(work: Path, small: Path) -> list[dict]:
    rows = []
    p = work / "kill-train" / "p"
    cli("new", p, "--from", small)
    killed = cli("train", p, *TRAIN, child="kill-train")
    left = temps(p)
    opened = cli("info", p)
    run = next((p / "models" / "runs").iterdir())
    status = json.loads((run / "run.json").read_text())["status"]
    again = cli("train", p, *TRAIN)
    rows.append({
        "case": "kill -9 while training writes best.pt",
        "killed": killed.returncode == -9, "temps_after_kill": left, "run_status": status,
        "notes_on_open": [ln for ln in opened.stderr.splitlines() if ln.startswith("note:")],
        "outside_writes": 0, "files_lost": int(again.returncode != 0),
        "orphans_left": temps(p) + int(status == "running"),
        "tracebacks": traceback(opened) + traceback(again),
    })  # fmt: skip
    base = trained(work, small)
    out = work / "kill-export" / "out"
    killed = cli("export", base, "--format", "torchscript", "--out", out, child="kill-export")
    left = temps(out)
    again = cli("export", base, "--format", "torchscript", "--out", out, "--max-images", "2")
    rows.append({
        "case": "kill -9 while export writes the model",
        "killed": killed.returncode == -9, "temps_after_kill": left,
        "outside_writes": 0, "files_lost": int(again.returncode != 0),
        "orphans_left": temps(out), "tracebacks": traceback(again),
    })  # fmt: skip
    return rows


def hostile(work: Path, small: Path, counts: dict) -> list[dict]:
    """Every case above; adds its figures to `counts`; each row goes to stderr when done."""
    cases = [
        lambda: [case_paths(work, small)],
        lambda: [case_restore(work, small)],
        lambda: [case_mask_size(work)],
        lambda: [case_read_only(work, small)],
        lambda: [case_full_install(work, small)],
        lambda: case_kills(work, small),
        lambda: [case_broken_files(work, small)],
    ]
    rows = []
    for case in cases:
        for row in case():
            for k in ("files_lost", "outside_writes", "orphans_left", "tracebacks"):
                counts[k] = counts.get(k, 0) + row[k]
            counts["runs"] += 1
            print(json.dumps(row, ensure_ascii=False), file=sys.stderr, flush=True)
            rows.append(row)
    return rows
