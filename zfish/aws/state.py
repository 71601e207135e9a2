"""The endpoint's own records (crawlers, jobs, runs, queries) as JSON files beside the lake's S3 state.

They live in ``<lake>/.zfish-s3/<service>/``, written atomically (temp file,
then rename), so a restarted ``zfish serve`` knows its crawlers and jobs
again. The catalog itself is zfish's (``zfish crawl`` and the API see one).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from zfish.aws.s3store import STATE_DIR
from zfish.fsutil import atomic_write_bytes


class Records:
    """One JSON document of named records, loaded once and saved on every change."""

    def __init__(self, lake_root: Path, service: str, name: str) -> None:
        self.path = lake_root / STATE_DIR / service / f"{name}.json"
        self.lock = threading.RLock()
        try:
            self.items: dict[str, dict[str, Any]] = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            self.items = {}

    def save(self) -> None:
        with self.lock:
            data = json.dumps(self.items, indent=1, sort_keys=True, default=str).encode()
            atomic_write_bytes(self.path, data)
