"""The unmodified aws CLI against ``zfish serve``: the seed's own upload script, ls, sync, cp, rm."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.aws.conftest import Live

SEED_SCRIPT = Path(__file__).parents[2] / "examples" / "upload_to_s3.sh"
BUCKET = "my-data-bucket"
PREFIX = "use-cases/fish-demo"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _run_seed_script(
    live: Live, data: Path, until: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    if shutil.which("jq") is None:
        pytest.fail("the seed's upload script needs jq (Debian: apt-get install jq)", pytrace=False)
    return subprocess.run(
        ["bash", str(SEED_SCRIPT), str(data), BUCKET, PREFIX, until],
        env=live.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


# The seed's upload script verbatim, then the crawl and the ETL with the seed's numbers, is
# tests/aws/test_walkthrough.py: the whole walkthrough through the aws CLI, its files compared
# byte for byte with `zfish upload`'s.


def test_ls_recursive_over_thousands_of_day_keys_and_page_size(endpoint: Live) -> None:
    root = endpoint.root / BUCKET
    keys = [
        f"{PREFIX}/observations/day=2025-{4 + d // 30:02d}-{1 + d % 30:02d}/fish_{i:04d}.json"
        for d in range(61)
        for i in range(52)
    ]
    for key in keys:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"{}\n")
    assert len(keys) > 3000
    for extra in ([], ["--page-size", "100"]):
        listed = endpoint.aws(
            "s3", "ls", f"s3://{BUCKET}/", "--recursive", *extra
        ).stdout.splitlines()
        names = [line.split(None, 3)[3] for line in listed]
        assert names == sorted(keys), extra
    top = endpoint.aws("s3", "ls", f"s3://{BUCKET}/{PREFIX}/observations/").stdout.splitlines()
    assert len(top) == 61
    assert all(line.strip().startswith("PRE day=") for line in top)


def test_sync_both_ways_then_nothing_to_copy(endpoint: Live, tmp_path: Path) -> None:
    source = tmp_path / "local"
    for day in ("2025-04-01", "2025-04-02"):
        folder = source / f"day={day}"
        folder.mkdir(parents=True)
        for i in range(30):
            (folder / f"f{i}.json").write_bytes(os.urandom(100 + i))
    # Files older than the upload: S3's LastModified has whole seconds, so a file written
    # in the second of its upload looks newer than its copy to `aws s3 sync` (on AWS too).
    past = time.time() - 60
    for path in source.rglob("*.json"):
        os.utime(path, (past, past))
    endpoint.aws("s3", "mb", f"s3://{BUCKET}")
    endpoint.aws("s3", "sync", str(source), f"s3://{BUCKET}/synced/")
    assert _tree(endpoint.root / BUCKET / "synced") == _tree(source)
    again = endpoint.aws("s3", "sync", str(source), f"s3://{BUCKET}/synced/")
    assert "upload:" not in again.stdout
    back = tmp_path / "back"
    endpoint.aws("s3", "sync", f"s3://{BUCKET}/synced/", str(back))
    assert _tree(back) == _tree(source)
    back_again = endpoint.aws("s3", "sync", f"s3://{BUCKET}/synced/", str(back))
    assert "download:" not in back_again.stdout


def test_cp_of_a_50_mb_file_is_multipart_and_rm_recursive(endpoint: Live, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(50 * 1024 * 1024))
    endpoint.aws("s3", "mb", f"s3://{BUCKET}")
    endpoint.aws("s3", "cp", str(big), f"s3://{BUCKET}/big/big.bin")
    stored = endpoint.root / BUCKET / "big" / "big.bin"
    assert filecmp.cmp(stored, big, shallow=False)
    head = endpoint.client().head_object(Bucket=BUCKET, Key="big/big.bin")
    assert head["ETag"].rstrip('"').split("-")[-1].isdigit()
    assert "-" in head["ETag"]
    down = tmp_path / "down.bin"
    endpoint.aws("s3", "cp", f"s3://{BUCKET}/big/big.bin", str(down))
    assert filecmp.cmp(down, big, shallow=False)
    endpoint.aws("s3", "cp", f"s3://{BUCKET}/big/big.bin", f"s3://{BUCKET}/copy/big.bin")
    assert filecmp.cmp(endpoint.root / BUCKET / "copy" / "big.bin", big, shallow=False)
    endpoint.aws("s3", "rm", f"s3://{BUCKET}/", "--recursive")
    assert endpoint.aws("s3", "ls", f"s3://{BUCKET}/", "--recursive", check=False).stdout == ""
    assert list((endpoint.root / BUCKET).iterdir()) == []
