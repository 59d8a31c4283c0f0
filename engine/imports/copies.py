"""How an import's copies land in a project without ever leaving a visible half: each file is
written under a temporary name (engine.project.recovery.TEMP_PREFIX) and given its final name
only just before its row is committed (`place`); a write that fails deletes its temporary file.
A disk reserve (`reserve`) keeps room for the last commit when the copies fill the disk.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from engine.project.recovery import TEMP_PREFIX, temp_name

RESERVE_BYTES = 1 << 20  # disk held back during an import for its last commit


class Copies:
    """The temporary and final copies of one import into the project folder `root`."""

    def __init__(self, root: Path):
        self.root = root
        self.taken = {
            sub: {n.lower() for n in os.listdir(root / sub)} for sub in ("images", "masks")
        }
        self._n = 0
        self._reserved: Path | None = None

    def write_temp(self, folder: str, ext: str, write) -> Path:
        """A new temporary file in `folder` (images, masks) filled by `write(f)`; deleted
        again when writing fails, so no empty or partial copy stays."""
        self._n += 1
        path = self.root / folder / temp_name(ext, self._n)
        try:
            with open(path, "xb") as f:
                write(f)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def unique(self, folder: str, name: str) -> str:
        """`name`, or name_2, name_3, ... when taken in `folder` (case-insensitively)."""
        taken = self.taken[folder]
        stem, ext = os.path.splitext(name)
        cand, n = name, 1
        while cand.lower() in taken:
            n += 1
            cand = f"{stem}_{n}{ext}"
        taken.add(cand.lower())
        return cand

    def place(self, tmp: Path, folder: str, name: str) -> str:
        """Give a temporary copy its final name (the original one, a suffix on a clash) without
        ever replacing a file: a hard link where the disk allows, else a checked rename."""
        if name.startswith(TEMP_PREFIX):
            name = "_" + name
        while True:
            cand = self.unique(folder, name)
            final = self.root / folder / cand
            try:
                os.link(tmp, final)
            except FileExistsError:
                continue  # made by someone else since we listed the folder: next suffix
            except OSError:
                if final.exists():
                    continue
                os.rename(tmp, final)
                return cand
            tmp.unlink()
            return cand

    def reserve(self) -> None:
        """Hold back up to RESERVE_BYTES of disk (a temporary file) so that, when the copies
        fill the disk, the rows of what was copied can still be committed."""
        self._reserved = self.root / "images" / temp_name(".reserve", 0)
        try:
            with open(self._reserved, "wb") as f:
                try:
                    os.posix_fallocate(f.fileno(), 0, RESERVE_BYTES)
                except (AttributeError, OSError):
                    f.write(bytes(RESERVE_BYTES))  # as much as fits: a partial reserve helps too
        except OSError:
            pass

    def release(self) -> None:
        """Give the reserve back to the disk."""
        if self._reserved is not None:
            with contextlib.suppress(OSError):
                self._reserved.unlink(missing_ok=True)
            self._reserved = None
