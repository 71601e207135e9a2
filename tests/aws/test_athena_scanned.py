"""Athena's DataScannedInBytes: the bytes under the tables read, kept per folder until it changes."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

from zfish.aws.athena import Athena


def _age(*paths: Path) -> None:
    past = time.time() - 60
    for path in paths:
        os.utime(path, (past, past))


def test_scanned_bytes_follow_objects_that_arrive_and_skip_hudi_metadata(tmp_path: Path) -> None:
    table = tmp_path / "observations"
    day = table / "day=2025-04-01"
    day.mkdir(parents=True)
    (day / "a.json").write_bytes(b"x" * 100)
    (table / ".hoodie").mkdir()
    (table / ".hoodie" / "commit").write_bytes(b"m" * 1000)
    _age(table, day)
    athena = SimpleNamespace(_scan_cache={})
    assert Athena._scanned(athena, (table,)) == 100  # type: ignore[arg-type]
    assert str(day) in athena._scan_cache  # an old folder is cached ...
    (day / "b.json").write_bytes(b"y" * 23)  # ... until an object arrives in it
    assert Athena._scanned(athena, (table,)) == 123  # type: ignore[arg-type]
    new_day = table / "day=2025-04-02"
    new_day.mkdir()
    (new_day / "c.json").write_bytes(b"z" * 7)
    assert Athena._scanned(athena, (table,)) == 130  # type: ignore[arg-type]
    assert str(new_day) not in athena._scan_cache  # changed just now: not cached yet
    (day / "a.json").unlink()
    assert Athena._scanned(athena, (table, tmp_path / "gone")) == 30  # type: ignore[arg-type]
