"""A fresh, empty MLflow SQLite store per test, copied from one migrated once per session.

Creating a store runs MLflow's schema migrations (many seconds on a small machine); copying
a migrated empty file is instant. Tests point ``MLFLOW_TRACKING_URI`` at the copy.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

_template: Path | None = None


def _migrated_template() -> Path:
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="lab-store-template-"))
        uri = f"sqlite:///{folder}/mlflow.db"
        previous = os.environ.get("MLFLOW_TRACKING_URI")
        os.environ["MLFLOW_TRACKING_URI"] = uri
        try:
            from lab import tracking

            tracking.client().search_experiments()
            # The store is in write-ahead-log mode: fold the log into the file before it is copied.
            with sqlite3.connect(folder / "mlflow.db") as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            if previous is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = previous
        _template = folder / "mlflow.db"
    return _template


def fresh_store(folder: Path, monkeypatch) -> str:
    """Point MLFLOW_TRACKING_URI at a new empty store in ``folder``; returns the URI."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template(), folder / "mlflow.db")
    uri = f"sqlite:///{folder}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    return uri
