"""Instant files as HoodieArchivedMetaEntry records (MetadataConversionUtils.createMetaWrapper)."""

from __future__ import annotations

import io
import json

import fastavro
import pytest

from zfish.hudi import archive_entry as ae
from zfish.hudi import avro_metadata as am
from zfish.hudi.timeline import State

STAT = {
    "fileId": "f-0",
    "path": "d1/f-0_0-0-0_20250101000000000.parquet",
    "prevCommit": "null",
    "numWrites": 5,
    "numInserts": 5,
    "numUpdateWrites": 0,
    "numDeletes": 0,
    "totalWriteBytes": 1234,
    "fileSizeInBytes": 1234,
    "totalWriteErrors": 0,
    "partitionPath": "d1",
    "minEventTime": None,
}
COMMIT = {
    "partitionToWriteStats": {"d1": [STAT]},
    "compacted": False,
    "extraMetadata": {"schema": "{}", "zfish.x": "y"},
    "operationType": "UPSERT",
}


def roundtrip(entry: dict) -> dict:
    """Encode with the entry schema and decode again, as a reader of the archive would."""
    parsed = fastavro.parse_schema(ae.HOODIE_ARCHIVED_META_ENTRY)
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, entry)
    buf.seek(0)
    out = fastavro.schemaless_reader(buf, parsed)
    assert isinstance(out, dict)
    return out


def test_completed_commit_becomes_avro_commit_metadata() -> None:
    entry = roundtrip(
        ae.to_entry(
            "20250101000000000",
            "commit",
            State.COMPLETED,
            json.dumps(COMMIT).encode(),
            "20250101000000100",
        )
    )
    assert entry["commitTime"] == "20250101000000000"
    assert (entry["actionType"], entry["actionState"]) == ("commit", "COMPLETED")
    assert entry["stateTransitionTime"] == "20250101000000100"
    meta = entry["hoodieCommitMetadata"]
    assert meta["operationType"] == "UPSERT"
    # convertCommitMetadata blanks the rolling stats and keeps the rest of extraMetadata
    assert meta["extraMetadata"] == {"schema": "{}", "zfish.x": "y", "ROLLING_STAT": ""}
    stat = meta["partitionToWriteStats"]["d1"][0]
    assert stat["fileId"] == "f-0"
    assert stat["numWrites"] == 5
    assert stat["fileSizeInBytes"] == 1234
    # POJO primitives default to 0; totalLogFiles has no POJO getter and stays null
    assert stat["totalLogRecords"] == 0
    assert stat["totalLogFiles"] is None
    assert entry["hoodieCleanMetadata"] is None
    assert entry["hoodieCleanerPlan"] is None
    assert ae.commit_metadata_json(entry)["extraMetadata"] == COMMIT["extraMetadata"]


def test_requested_commit_is_an_empty_commit_metadata_and_empty_completed_has_none() -> None:
    requested = roundtrip(ae.to_entry("1" * 17, "commit", State.REQUESTED, b"", None))
    assert requested["hoodieCommitMetadata"]["operationType"] == "UNKNOWN"
    assert requested["hoodieCommitMetadata"]["partitionToWriteStats"] == {}
    empty = roundtrip(ae.to_entry("1" * 17, "commit", State.COMPLETED, b"", None))
    assert empty["hoodieCommitMetadata"] is None
    assert empty["actionState"] == "COMPLETED"


def test_clean_plan_and_metadata_are_carried_over() -> None:
    plan = am.cleaner_plan("20250101000000000", "20250102000000000", "KEEP_LATEST_COMMITS", {})
    meta = am.clean_metadata("3" * 17, 5, "20250101000000000", "20250102000000000", "P", {})
    requested = roundtrip(
        ae.to_entry(
            "3" * 17, "clean", State.REQUESTED, am.serialize(plan, am.HOODIE_CLEANER_PLAN), None
        )
    )
    assert requested["hoodieCleanerPlan"]["earliestInstantToRetain"]["timestamp"] == (
        "20250101000000000"
    )
    done = roundtrip(
        ae.to_entry(
            "3" * 17, "clean", State.COMPLETED, am.serialize(meta, am.HOODIE_CLEAN_METADATA), None
        )
    )
    assert done["hoodieCleanMetadata"]["earliestCommitToRetain"] == "20250101000000000"
    assert done["hoodieCleanMetadata"]["extraMetadata"] is None


def test_replacecommit_keeps_replaced_file_ids() -> None:
    replace = {**COMMIT, "partitionToReplaceFileIds": {"d1": ["old-0"]}}
    entry = roundtrip(
        ae.to_entry("4" * 17, "replacecommit", State.COMPLETED, json.dumps(replace).encode(), None)
    )
    assert entry["hoodieReplaceCommitMetadata"]["partitionToReplaceFileIds"] == {"d1": ["old-0"]}
    assert entry["hoodieCommitMetadata"] is None


def test_unarchivable_action_and_bad_json_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot be archived"):
        ae.to_entry("5" * 17, "savepoint", State.COMPLETED, b"x", None)
    with pytest.raises(ValueError, match="not valid JSON"):
        ae.to_entry("5" * 17, "commit", State.COMPLETED, b"{nope", None)
