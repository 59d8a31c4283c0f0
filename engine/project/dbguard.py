"""The project database connection that explains write failures: sqlite's "database or disk is
full", "disk I/O error" or "attempt to write a readonly database" become a `DbStorageError`
naming the project folder and the remedy (free disk space, make it writable). The failed
transaction is rolled back by sqlite, so every change committed before stays.

`DbStorageError` is also an `sqlite3.OperationalError`, so code that handles sqlite's own errors
(engine.project.db's read-only probe) keeps working.
"""

from __future__ import annotations

import sqlite3

from engine.errors import StorageError, storage_errno, storage_error

_STORAGE_CODES = {"ENOSPC", "EDQUOT", "EROFS", "EIO", "EACCES"}


class DbStorageError(StorageError, sqlite3.OperationalError):
    """A project database write that failed for lack of space, permission or a working disk."""


def translate(e: sqlite3.OperationalError, project_path: str) -> sqlite3.OperationalError:
    """`e` as a DbStorageError when it is a storage failure, else `e` itself."""
    if isinstance(e, DbStorageError):
        return e
    name = getattr(e, "sqlite_errorname", None) or ""
    code = storage_errno(e)
    if name.startswith("SQLITE_FULL"):
        code = "ENOSPC"
    elif name.startswith("SQLITE_IOERR"):
        code = "EIO"
    elif name.startswith("SQLITE_READONLY"):
        code = "EROFS"
    if code not in _STORAGE_CODES:
        return e
    err = storage_error(None, project_path, "saving a change to the project database", code=code)
    return DbStorageError(f"{err} Every change saved before this one is kept.")


class GuardedConnection(sqlite3.Connection):
    """sqlite3.Connection whose writes raise DbStorageError for storage failures (see above)."""

    project_path = ""

    def execute(self, *args):
        try:
            return super().execute(*args)
        except sqlite3.OperationalError as e:
            raise translate(e, self.project_path) from e

    def executemany(self, *args):
        try:
            return super().executemany(*args)
        except sqlite3.OperationalError as e:
            raise translate(e, self.project_path) from e

    def commit(self):
        try:
            return super().commit()
        except sqlite3.OperationalError as e:
            raise translate(e, self.project_path) from e

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        except sqlite3.OperationalError as e:
            raise translate(e, self.project_path) from e
