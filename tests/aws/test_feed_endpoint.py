"""``zfish feed --endpoint``: the scheduled delivery as an S3 client of ``zfish serve``."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from tests.aws.conftest import Live
from tests.support import write_study
from zfish.lake import feed
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

DAYS = [date(2025, 4, 1) + timedelta(days=i) for i in range(4)]


def test_a_feed_into_the_endpoint_lands_as_zfish_upload_writes_and_resumes(
    endpoint: Live, tmp_path: Path
) -> None:
    study = write_study(tmp_path / "study", DAYS)
    endpoint.client().create_bucket(Bucket=endpoint.layout.bucket)
    zfish = Path(sys.executable).with_name("zfish")
    base = [str(zfish), "--data", str(study), "feed", "--every", "0.2s", "--endpoint", endpoint.url]
    first = subprocess.run(
        [*base, "--from", str(DAYS[1]), "--ticks", "2"],
        env=endpoint.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 0, first.stderr
    again = subprocess.run(base, env=endpoint.env(), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    evenings = [
        line.split()[1].rstrip(":")
        for line in (first.stdout + again.stdout).splitlines()
        if line.startswith("evening ")
    ]
    assert evenings == [str(DAYS[1] + timedelta(days=i)) for i in range(4)]  # resumed, to the end
    reference = LakeLayout(root=tmp_path / "reference")
    upload(study, reference, DAYS[-1] + timedelta(days=1), show_progress=False)
    served = {
        p.relative_to(endpoint.layout.dataset).as_posix(): p.read_bytes()
        for p in sorted(endpoint.layout.dataset.rglob("*"))
        if p.is_file() and "_zfish" not in p.parts
    }
    wanted = {
        p.relative_to(reference.dataset).as_posix(): p.read_bytes()
        for p in sorted(reference.dataset.rglob("*"))
        if p.is_file() and "_zfish" not in p.parts
    }
    assert served == wanted
    s3 = endpoint.client()
    key = f"{endpoint.layout.prefix}/{feed.STATE_KEY}"
    state = json.loads(s3.get_object(Bucket=endpoint.layout.bucket, Key=key)["Body"].read())
    assert state["last"] == str(DAYS[-1] + timedelta(days=1))


def test_a_missing_bucket_or_a_dead_endpoint_is_one_line_with_the_fix(
    endpoint: Live, tmp_path: Path
) -> None:
    study = write_study(tmp_path / "study", DAYS)
    zfish = Path(sys.executable).with_name("zfish")
    no_bucket = subprocess.run(
        [str(zfish), "--data", str(study), "feed", "--every", "0.1s", "--endpoint", endpoint.url],
        env=endpoint.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    message = " ".join(no_bucket.stderr.split())
    assert no_bucket.returncode == 1, no_bucket.stderr
    assert "NoSuchBucket; create the bucket first (aws s3 mb s3://my-data-bucket)" in message
    assert "Traceback" not in no_bucket.stderr
    dead = subprocess.run(
        [str(zfish), "--data", str(study), "feed", "--endpoint", "http://127.0.0.1:9"],
        env={**endpoint.env(), "AWS_MAX_ATTEMPTS": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dead.returncode == 1, dead.stderr
    assert "is the endpoint running?" in " ".join(dead.stderr.split())
