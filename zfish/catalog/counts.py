"""Row counts of the catalogued tables, as Athena's ``count(*)`` answers them, asked only for what changed.

``zfish simulate`` shows the seed's three counts after every evening. Asking
DuckDB for them reads every JSON file of the catalogued partitions and the
whole Hudi snapshot each time (measured: 0.7 s an evening at the seed's size,
growing with the season). A :class:`Counter` kept across the evenings of a
range remembers each partition's count with a fingerprint of its files (names,
sizes, modification times) and asks the catalog only about partitions that are
new or changed; the Hudi table is counted again only when its latest base files
changed. The answers are those of the full queries: each count still comes from
a ``count(*)`` query through :func:`zfish.catalog.query.run_query`.
"""

from __future__ import annotations

import os
from pathlib import Path

from zfish.catalog import glue
from zfish.catalog.query import run_query
from zfish.exceptions import ZfishError
from zfish.settings import DATABASE, LakeLayout

TABLES = ("observations", "outcomes", "joined_fish_data")
Fingerprint = tuple[tuple[str, int, int], ...]


def _fingerprint(folder: Path, suffix: str) -> Fingerprint:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return ()
    out = []
    for entry in entries:
        if entry.name.endswith(suffix) and entry.is_file():
            st = entry.stat()
            out.append((entry.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


class Counter:
    """Counts of the seed's three tables; reuse one across evenings to skip unchanged parts."""

    def __init__(self, layout: LakeLayout):
        self.layout = layout
        self._partitions: dict[str, dict[str, tuple[Fingerprint, int]]] = {}
        self._hudi: tuple[tuple[str, ...], int] | None = None
        self.queries = 0  # count queries asked, for tests and --verbose

    def counts(self) -> dict[str, int]:
        tables = glue.load_tables(self.layout)
        out: dict[str, int] = {}
        for name in TABLES:
            entry = tables.get(name)
            if entry is None:  # a table not catalogued yet has no count to show
                continue
            try:
                if entry.kind == glue.KIND_JSON:
                    out[f"{DATABASE}.{name}"] = self._json_count(entry)
                else:
                    out[f"{DATABASE}.{name}"] = self._hudi_count(entry)
            except ZfishError:
                continue
        return out

    def _ask(self, sql: str) -> list[dict[str, object]]:
        self.queries += 1
        rows: list[dict[str, object]] = run_query(self.layout, sql).table.to_pylist()
        return rows

    def _json_count(self, entry: glue.TableEntry) -> int:
        known = self._partitions.setdefault(entry.name, {})
        prints = {
            value: _fingerprint(entry.partition_path(self.layout, value), ".json")
            for value in entry.partitions
        }
        for gone in set(known) - set(prints):
            del known[gone]
        stale = sorted(v for v, fp in prints.items() if v not in known or known[v][0] != fp)
        if stale:
            key = glue.ident(entry.partition_keys[0])
            values = ", ".join(glue.literal(v) for v in stale)
            rows = self._ask(
                f"SELECT {key} AS p, count(*) AS n FROM {glue.ident(DATABASE)}."
                f"{glue.ident(entry.name)} WHERE {key} IN ({values}) GROUP BY {key}"
            )
            found = {str(r["p"]): int(str(r["n"])) for r in rows}
            for value in stale:
                known[value] = (prints[value], found.get(value, 0))
        return sum(count for _fp, count in known.values())

    def _hudi_count(self, entry: glue.TableEntry) -> int:
        from zfish import fishtable

        try:
            files: tuple[str, ...] | None = tuple(
                fishtable.latest_base_files(entry.path(self.layout))
            )
        except Exception:  # hudi-rs could not list it: ask without remembering
            files = None
        if files is None or self._hudi is None or self._hudi[0] != files:
            rows = self._ask(
                f"SELECT count(*) AS n FROM {glue.ident(DATABASE)}.{glue.ident(entry.name)}"
            )
            count = int(str(rows[0]["n"]))
            self._hudi = None if files is None else (files, count)
            return count
        return self._hudi[1]
