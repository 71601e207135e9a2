"""The seed's AWS walkthrough, command for command with the aws CLI, against ``zfish serve``."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.aws.conftest import ServeProcess
from zfish.lake.upload import upload
from zfish.settings import LakeLayout

WALKTHROUGH = Path(__file__).parents[2] / "examples" / "seed_walkthrough.sh"
pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_the_seed_walkthrough_gives_the_seeds_numbers(
    serve_process: ServeProcess, default_study: Path, hudi_bundle: Path, tmp_path: Path
) -> None:
    if shutil.which("jq") is None:
        pytest.fail("the walkthrough needs jq (Debian: apt-get install jq)", pytrace=False)
    result = subprocess.run(
        ["bash", str(WALKTHROUGH), str(default_study)],
        env=serve_process.live.env(),
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, f"{out[-3000:]}\n{result.stderr[-3000:]}"
    lines = [line.strip() for line in out.splitlines()]
    for expected in (
        "crawler observations-crawler: SUCCEEDED",
        "crawler outcomes-crawler: SUCCEEDED",
        "observations limit 10: 10 rows",
        "observations: 540",
        "outcomes: 20",
        "outcomes before the crawl: 20",
        "outcomes after the crawl: 25",
        "walkthrough complete",
    ):
        assert expected in lines, (expected, out[-3000:])
    joined = [line for line in lines if line.startswith("joined_fish_data:")]
    assert joined == ["joined_fish_data: 60 rows", "joined_fish_data: 75 rows"]
    runs = [line for line in lines if line.startswith("job run ")]
    assert len(runs) == 2
    assert all(line.endswith(": SUCCEEDED") for line in runs)
    # What the seed's script put through the endpoint is byte for byte what `zfish upload` writes.
    reference = LakeLayout(root=tmp_path / "reference")
    upload(default_study, reference, date(2025, 5, 11), show_progress=False)
    served = LakeLayout(root=serve_process.lake)
    for kind in ("observations", "images", "outcomes"):
        assert _tree(served.dataset / kind) == _tree(reference.dataset / kind), kind


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
