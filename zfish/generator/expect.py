"""``zfish expect``: what a correct pipeline must produce on an evening of a (faulty) study.

Computed in plain Python from the study's own files and manifest (what the
generator wrote, scenarios included), never by running zfish's pipeline, so it
can be the oracle of any ETL. The evening of day D is what ``zfish simulate
--day D`` runs: every ``day=`` partition strictly before D is delivered (the
seed's ``upload_to_s3.sh`` END_DATE rule, also ``zfish upload --until`` and
``zfish feed``), then crawled, then joined with end date D 18:00.

What it says:

* ``catalog``: per table, the partitions registered and ``count(*)``. A
  partition holding an observation file that is not JSON (truncated, empty) is
  refused whole by the upload (``jq -c .`` fails on it), so it is neither
  catalogued nor read; it is listed under ``refused``. A UTF-8 BOM is dropped,
  as jq drops it; only ``*.json`` files hold records.
* ``joined``: the rows of ``joined_fish_data``: their count, distinct fish,
  positives, and ``checksum``, defined so that you can compute it on your own
  output: for every row, the JSON array (``json.dumps(values,
  separators=(",", ":"))``) of its 13 data columns in table order
  ``image_id, fish_id, timestamp, age_days, treatment, gene_a, gene_b, gene_c,
  length_mm, sex, condition_developed, outcome_day, day``, with ``timestamp``
  as UTC ``YYYY-MM-DDTHH:MM:SSZ``, ``age_days`` a JSON integer, ``length_mm`` a
  JSON number (Python's shortest repr) and a missing value ``null``; the lines
  are sorted, each ends with ``\\n``, and the checksum is the SHA-256 of their
  UTF-8 bytes, in hex. ``undetermined`` lists image ids whose row a rule leaves
  open (left out of the checksum and the counts).
* ``rejected``: the records that must be rejected (quarantined), each with the
  file, the key and the reason: a field of the wrong type, a duplicate key with
  different content, an outcome of a fish with no accepted observation. These
  are every such record delivered before D: each evening's quarantine holds
  those of its read window.
* ``schema_versions``: per table, the schema a crawler run each evening
  registers, a new version whenever a delivered day changes it (types as the
  crawler infers them from the lake's compacted JSON, where ``5.0`` is ``5``);
  a crawler that skips evenings registers a subsequence ending the same.

``--semantics`` chooses the rules where zfish differs from the seed on purpose:

* ``zfish`` (default): no label is lost (the read window reaches the first
  observation of every fish whose outcome arrives); records of the wrong type,
  duplicate ``image_id`` s with different content (all of them) and outcomes
  of unknown fish are rejected; each ``image_id`` is one row, in its partition.
  Records compare by the fields of the ETL's schema (a field it does not know
  is reported, not kept). A re-sent file (``redelivery``) belongs to the partition it was first
  delivered in (by file name, ``{image_id}.json``); of the versions of an
  ``image_id`` the newest ``timestamp`` wins (Hudi's precombine), and only
  versions with that newest time can conflict (``RULE_REDELIVERY``).
* ``seed``: the seed's Glue job, run every evening: a row exists only if its
  label arrived within 35 days after the observation's partition (the fixed
  36-day window); nothing is rejected (a value of the wrong type is ``null``);
  of two records sharing ``image_id`` and partition the upsert keeps one, which
  one is undetermined; a re-sent record is another row in its own partition
  (Hudi's key is the partition and ``image_id``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from zfish.exceptions import InputDataError, ValidationError
from zfish.generator.engine import read_manifest

SEMANTICS_ZFISH = "zfish"
SEMANTICS_SEED = "seed"
SEMANTICS = (SEMANTICS_ZFISH, SEMANTICS_SEED)
SEED_WINDOW_DAYS = 36
BOM = b"\xef\xbb\xbf"
COLUMNS = (
    "image_id",
    "fish_id",
    "timestamp",
    "age_days",
    "treatment",
    "gene_a",
    "gene_b",
    "gene_c",
    "length_mm",
    "sex",
    "condition_developed",
    "outcome_day",
    "day",
)
GENES = ("gene_a", "gene_b", "gene_c")
# The observation fields of the ETL's explicit schema (zfish.pipeline.schemas), in order.
OBSERVATION_FIELDS = (
    "fish_id",
    "image_id",
    "timestamp",
    "age_days",
    "treatment",
    "genetic_markers",
    "length_mm",
    "sex",
)
RULE_LATE = "late labels: zfish widens the read window, so every late label is joined"
RULE_SEED_WINDOW = (
    "late labels: the seed's fixed 36-day window joins a label only when it arrives "
    "within 35 days of the observation's partition"
)
RULE_REDELIVERY = (
    "redelivery: a re-sent file's records belong to the partition it was first delivered "
    "in; an identical copy changes nothing, a newer timestamp replaces the values"
)
RULE_SEED_REDELIVERY = (
    "redelivery (seed): a re-sent record is another row in its own partition (Hudi's key "
    "is the partition and image_id)"
)


@dataclass
class Record:
    """One JSON record of a delivered file."""

    kind: str
    partition: str  # the day of its day= folder
    file: str  # path inside the study
    value: Any


@dataclass
class Expectation:
    day: date
    semantics: str
    scenarios: tuple[str, ...]
    catalog: dict[str, dict[str, int]] = field(default_factory=dict)
    refused: list[dict[str, str]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    undetermined: list[str] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    schema_versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: list[str] = field(default_factory=list)

    def joined(self) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "fish": len({r["fish_id"] for r in self.rows}),
            "positives": sum(bool(r["condition_developed"]) for r in self.rows),
            "checksum": checksum(self.rows),
            "undetermined": self.undetermined,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "semantics": self.semantics,
            "scenarios": list(self.scenarios),
            "catalog": self.catalog,
            "refused": self.refused,
            "joined": self.joined(),
            "rejected": self.rejected,
            "schema_versions": self.schema_versions,
            "rules": self.rules,
        }

    def text_rows(self) -> list[tuple[str, str]]:
        joined = self.joined()
        out = [
            ("evening", f"{self.day.isoformat()} 18:00 ({self.semantics} semantics)"),
            ("scenarios", ", ".join(self.scenarios) or "none"),
        ]
        for table, counts in self.catalog.items():
            out.append((table, f"{counts['rows']:,} rows in {counts['partitions']} partitions"))
        out.append(
            (
                "joined_fish_data",
                f"{joined['rows']:,} rows, {joined['fish']} fish, {joined['positives']} positive",
            )
        )
        out.append(("checksum", joined["checksum"]))
        if self.undetermined:
            out.append(("undetermined", f"{len(self.undetermined)} image ids"))
        out.append(("refused partitions", str(len(self.refused))))
        out.append(("rejected records", str(len(self.rejected))))
        for table, versions in self.schema_versions.items():
            out.append((f"{table} schema versions", str(len(versions))))
        out.extend(("rule", rule) for rule in self.rules)
        return out


def checksum(rows: list[dict[str, Any]]) -> str:
    """SHA-256 of the sorted JSON-array lines of ``rows`` (see the module docstring)."""
    lines = sorted(json.dumps([r[c] for c in COLUMNS], separators=(",", ":")) for r in rows)
    return hashlib.sha256("".join(line + "\n" for line in lines).encode()).hexdigest()


def _lake_value(value: Any) -> Any:
    """A JSON value as the lake holds it after ``jq -c .``: a whole float is an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _lake_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lake_value(v) for v in value]
    return value


def _delivered(
    data_dir: Path, kind: str, day: date, refused: list[dict[str, str]]
) -> dict[str, list[Record]]:
    """Partition day -> its records, for the partitions delivered before ``day``."""
    out: dict[str, list[Record]] = {}
    folder = data_dir / kind
    if not folder.is_dir():
        return out
    for part in sorted(folder.glob("day=*")):
        p = part.name.removeprefix("day=")
        if date.fromisoformat(p) >= day:
            continue
        records: list[Record] = []
        bad: list[dict[str, str]] = []
        files = sorted(f for f in part.iterdir() if f.is_file() and not f.name.startswith("."))
        for path in files:
            rel = path.relative_to(data_dir).as_posix()
            data = path.read_bytes()
            if not path.name.endswith(".json"):
                continue  # copied as it is, never a record
            text = data.removeprefix(BOM).decode("utf-8", errors="replace")
            try:
                value = json.loads(text) if text.strip() else None
            except ValueError as exc:
                bad.append({"partition": f"{kind}/{part.name}", "file": rel, "reason": str(exc)})
                continue
            if value is None:
                bad.append({"partition": f"{kind}/{part.name}", "file": rel, "reason": "empty"})
                continue
            for item in value if isinstance(value, list) else [value]:
                records.append(Record(kind, p, rel, _lake_value(item)))
        if bad:
            refused.extend(bad)
        elif records:
            out[p] = records
    return out


def _wrong_type(record: dict[str, Any]) -> str | None:
    """The reason a record's field cannot be typed (zfish's wording), or None."""
    for name in ("fish_id", "image_id", "timestamp", "age_days"):
        if record.get(name) in (None, ""):
            return f"missing required field {name}"
    if not isinstance(record["age_days"], int) or isinstance(record["age_days"], bool):
        return f"field age_days: expected an integer, got {record['age_days']}"
    length = record.get("length_mm")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int | float)):
        return f"field length_mm: expected a number, got {str(length)[:100]}"
    return None


def _row(record: Record, label: tuple[bool, str]) -> dict[str, Any]:
    v = record.value
    markers = v.get("genetic_markers") or {}
    length = v.get("length_mm")
    ok_length = isinstance(length, int | float) and not isinstance(length, bool)
    stamp = str(v["timestamp"])
    if not stamp.endswith("Z"):
        stamp += "Z"
    return {
        "image_id": v["image_id"],
        "fish_id": v["fish_id"],
        "timestamp": stamp,
        "age_days": v["age_days"] if isinstance(v.get("age_days"), int) else None,
        "treatment": v.get("treatment"),
        **{g: markers.get(g) for g in GENES},
        "length_mm": float(length) if ok_length else None,
        "sex": v.get("sex"),
        "condition_developed": label[0],
        "outcome_day": label[1],
        "day": record.partition,
    }


def _glue_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "bigint"
    if isinstance(value, float):
        return "double"
    if isinstance(value, dict):
        return "struct<" + ",".join(f"{k}:{_glue_type(v)}" for k, v in value.items()) + ">"
    return "string"


def _unify(old: str, new: str) -> str:
    if old == new:
        return old
    numbers = ("int", "bigint", "double")
    if old in numbers and new in numbers:
        return max(old, new, key=numbers.index)
    if old.startswith("struct<") and new.startswith("struct<"):
        merged = dict(_fields(old))
        for name, kind in _fields(new):
            merged[name] = _unify(merged[name], kind) if name in merged else kind
        return "struct<" + ",".join(f"{k}:{v}" for k, v in merged.items()) + ">"
    if old.startswith("struct<") or new.startswith("struct<"):
        return old  # a clash: the crawler keeps the type seen first and reports it
    return "string"


def _fields(struct: str) -> list[tuple[str, str]]:
    """``struct<a:int,b:struct<c:boolean>>`` -> [("a", "int"), ("b", "struct<c:boolean>")]."""
    body, out, depth, start = struct[len("struct<") : -1], [], 0, 0
    for i, ch in enumerate(body + ","):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            name, _, kind = body[start:i].partition(":")
            out.append((name, kind))
            start = i + 1
    return out


def _versions(parts: dict[str, list[Record]]) -> list[dict[str, Any]]:
    """Each schema a crawler run every evening registers, and the partition that brought it."""
    versions: list[dict[str, Any]] = []
    columns: dict[str, str] = {}
    for p in sorted(parts):
        for record in parts[p]:
            if not isinstance(record.value, dict):
                continue
            for name, value in record.value.items():
                if value is None:
                    continue
                kind = _glue_type(value)
                columns[name] = _unify(columns[name], kind) if name in columns else kind
        if not versions or versions[-1]["columns"] != columns:
            versions.append({"from_partition": p, "columns": dict(columns)})
    return versions


def expect(data_dir: Path, day: date, semantics: str = SEMANTICS_ZFISH) -> Expectation:
    """What the evening of ``day`` must produce from the study in ``data_dir``."""
    if semantics not in SEMANTICS:
        raise ValidationError(f"unknown semantics {semantics!r}; use one of {', '.join(SEMANTICS)}")
    manifest = read_manifest(data_dir)
    if manifest is None:
        raise InputDataError(
            f"no zfish study in {data_dir}: generate it first (zfish generate --scenario ...)"
        )
    result = Expectation(day, semantics, manifest.spec.scenarios)
    observations = _delivered(data_dir, "observations", day, result.refused)
    outcomes = _delivered(data_dir, "outcomes", day, result.refused)
    for table, parts in (("observations", observations), ("outcomes", outcomes)):
        result.catalog[table] = {
            "partitions": len(parts),
            "rows": sum(len(r) for r in parts.values()),
        }
        result.schema_versions[table] = _versions(parts)
    zfish = semantics == SEMANTICS_ZFISH

    # Observations: typed, then grouped by key. zfish: a re-sent file's records belong to
    # the partition the file was first delivered in, and the newest timestamp wins.
    first_day: dict[str, str] = {}
    for p in sorted(observations):
        for record in observations[p]:
            first_day.setdefault(Path(record.file).name, p)
    good: dict[str, list[Record]] = {}
    for records in observations.values():
        for record in records:
            reason = (
                _wrong_type(record.value) if isinstance(record.value, dict) else "not an object"
            )
            if reason is not None and zfish:
                result.rejected.append(_rejected(record, "image_id", reason))
                continue
            key = str(record.value.get("image_id"))
            if zfish:
                moved = first_day[Path(record.file).name]
                record = Record(record.kind, moved, record.file, record.value)
            good.setdefault(key if zfish else f"{record.partition}/{key}", []).append(record)
    accepted: list[Record] = []
    for _key, records in sorted(good.items()):
        newest = max(_instant(r.value["timestamp"]) for r in records)
        latest = (
            [r for r in records if _instant(r.value["timestamp"]) == newest] if zfish else records
        )
        versions = {(r.partition, _known(r.value)) for r in latest}
        if len(versions) == 1:
            accepted.append(latest[0])
            continue
        image_id = str(records[0].value["image_id"])
        if not zfish:
            result.undetermined.append(image_id)  # the upsert keeps one of them
            continue
        files = ", ".join(sorted({r.file for r in latest}))
        for record in records:
            reason = f"duplicate image_id {image_id} with different content in {files}"
            result.rejected.append(_rejected(record, "image_id", reason))
    # Outcomes: a fish's label and the day it arrived.
    known_fish = {str(r.value["fish_id"]) for r in accepted}
    labels: dict[str, tuple[bool, str]] = {}
    for p in sorted(outcomes):
        for record in outcomes[p]:
            fish = str(record.value.get("fish_id"))
            if zfish and fish not in known_fish:
                reason = (
                    f"outcome for unknown fish {fish}: no observation of this fish in the "
                    "partitions read"
                )
                result.rejected.append(_rejected(record, "fish_id", reason))
                continue
            labels[fish] = (bool(record.value["condition_developed"]), p)
    for record in accepted:
        label = labels.get(str(record.value["fish_id"]))
        if label is None:
            continue
        lag = (date.fromisoformat(label[1]) - date.fromisoformat(record.partition)).days
        if not zfish and lag > SEED_WINDOW_DAYS - 1:
            continue
        result.rows.append(_row(record, label))
    if "late-labels" in result.scenarios:
        result.rules.append(RULE_LATE if zfish else RULE_SEED_WINDOW)
    if "redelivery" in result.scenarios:
        result.rules.append(RULE_REDELIVERY if zfish else RULE_SEED_REDELIVERY)
    if result.undetermined:
        result.rules.append(
            "duplicates (seed): the upsert keeps one of two records with one key and "
            "timestamp; which is undetermined, so those rows are not in the checksum"
        )
    return result


def _known(record: dict[str, Any]) -> str:
    """A record's content as the ETL's schema sees it: unknown fields are reported, not kept."""
    markers = record.get("genetic_markers")
    known = {k: record.get(k) for k in OBSERVATION_FIELDS}
    known["genetic_markers"] = (
        {g: markers.get(g) for g in GENES} if isinstance(markers, dict) else markers
    )
    return json.dumps(known, sort_keys=True)


def _instant(text: Any) -> datetime:
    """An ISO time as an aware UTC datetime (with or without ``Z``)."""
    stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _rejected(record: Record, key: str, reason: str) -> dict[str, str]:
    value = record.value if isinstance(record.value, dict) else {}
    return {
        "kind": record.kind,
        "file": record.file,
        "partition": record.partition,
        key: str(value.get(key)),
        "reason": reason,
    }
