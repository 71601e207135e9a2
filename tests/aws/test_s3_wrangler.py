"""awswrangler (AWS SDK for pandas), unchanged, against the endpoint."""

from __future__ import annotations

import json

import boto3
import pandas as pd
import pytest

from tests.aws.conftest import KEY, REGION, SECRET, Live

wr = pytest.importorskip("awswrangler")
BUCKET = "my-data-bucket"


@pytest.fixture
def session(endpoint: Live, monkeypatch: pytest.MonkeyPatch) -> boto3.Session:
    # What users set: the standard variable every SDK reads.
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
    endpoint.client().create_bucket(Bucket=BUCKET)
    return boto3.Session(aws_access_key_id=KEY, aws_secret_access_key=SECRET, region_name=REGION)


def test_list_objects_and_read_json_lines(endpoint: Live, session: boto3.Session) -> None:
    folder = endpoint.root / BUCKET / "use-cases/fish-demo/observations/day=2025-04-02"
    folder.mkdir(parents=True)
    rows = [{"image_id": f"I{i}", "fish_id": f"F{i % 3}", "length_mm": 1.5 + i} for i in range(12)]
    for i in range(3):
        (folder / f"fish_{i}.json").write_text(
            "".join(json.dumps(r) + "\n" for r in rows[i * 4 : (i + 1) * 4])
        )
    listed = wr.s3.list_objects(
        f"s3://{BUCKET}/use-cases/fish-demo/observations/", boto3_session=session
    )
    assert listed == [
        f"s3://{BUCKET}/use-cases/fish-demo/observations/day=2025-04-02/fish_{i}.json"
        for i in range(3)
    ]
    frame = wr.s3.read_json(
        f"s3://{BUCKET}/use-cases/fish-demo/observations/", lines=True, boto3_session=session
    )
    assert sorted(frame["image_id"]) == sorted(r["image_id"] for r in rows)
    assert frame["length_mm"].sum() == pytest.approx(sum(r["length_mm"] for r in rows))


def test_to_parquet_dataset_partitioned_then_read_back_and_delete(
    endpoint: Live, session: boto3.Session
) -> None:
    frame = pd.DataFrame(
        {
            "image_id": [f"I{i}" for i in range(20)],
            "day": [f"2025-04-{1 + i % 4:02d}" for i in range(20)],
            "length_mm": [float(i) for i in range(20)],
        }
    )
    path = f"s3://{BUCKET}/exports/features/"
    written = wr.s3.to_parquet(
        frame, path, dataset=True, partition_cols=["day"], boto3_session=session
    )
    assert len(written["paths"]) == 4
    on_disk = sorted(
        p.parent.name for p in (endpoint.root / BUCKET / "exports/features").rglob("*.parquet")
    )
    assert on_disk == [f"day=2025-04-0{d}" for d in range(1, 5)]
    back = wr.s3.read_parquet(path, dataset=True, boto3_session=session)
    back = back.sort_values("image_id").reset_index(drop=True)
    expected = frame.sort_values("image_id").reset_index(drop=True)
    assert list(back["image_id"]) == list(expected["image_id"])
    assert list(back["length_mm"]) == list(expected["length_mm"])
    assert sorted(back["day"].astype(str).unique()) == sorted(expected["day"].unique())
    # Overwrite mode deletes and rewrites through the API too.
    wr.s3.to_parquet(
        frame.head(5),
        path,
        dataset=True,
        partition_cols=["day"],
        mode="overwrite",
        boto3_session=session,
    )
    assert len(wr.s3.read_parquet(path, dataset=True, boto3_session=session)) == 5
    wr.s3.delete_objects(path, boto3_session=session)
    assert wr.s3.list_objects(path, boto3_session=session) == []
    assert not (endpoint.root / BUCKET / "exports").exists()
