"""``zfish generate``: options map onto StudySpec; errors exit 2 with a clear message."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from zfish.cli import cli
from zfish.exceptions import EXIT_USAGE
from zfish.generator import StudySpec, load_spec

SMALL = ["--hatch-rate", "2", "--end", "2025-04-12", "--workers", "1", "--quiet"]


def zfish(tmp_path: Path, *args: str) -> Result:
    data, lake = tmp_path / "data", tmp_path / "lake"
    return CliRunner().invoke(cli, ["--data", str(data), "--lake", str(lake), "generate", *args])


def test_generate_prints_a_summary(tmp_path: Path) -> None:
    result = zfish(tmp_path, *SMALL)
    assert result.exit_code == 0, result.output
    for word in ("fish", "observations", "images", "outcomes", "bytes", "seconds"):
        assert word in result.output
    assert load_spec(tmp_path / "data") == StudySpec(hatch_rate=2, end=date(2025, 4, 12))


def test_rerun_says_up_to_date_and_other_options_need_force(tmp_path: Path) -> None:
    assert zfish(tmp_path, *SMALL).exit_code == 0
    again = zfish(tmp_path, *SMALL)
    assert again.exit_code == 0
    assert "up to date" in " ".join(again.output.split())
    other = zfish(tmp_path, *SMALL, "--seed", "7")
    assert other.exit_code == EXIT_USAGE
    assert "--force" in other.output
    forced = zfish(tmp_path, *SMALL, "--seed", "7", "--force")
    assert forced.exit_code == 0, forced.output
    spec = load_spec(tmp_path / "data")
    assert spec is not None
    assert spec.seed == 7


def test_every_option_reaches_the_spec(tmp_path: Path) -> None:
    result = zfish(
        tmp_path,
        *SMALL,
        "--seed=9",
        "--start=2025-04-02",
        "--observation-ages=4,2",
        "--label-age=8",
        "--sex-age=4",
        "--image-size=4x6",
        "--prevalence=0.3",
        "--treatment-risk=compound_x=0.2",
        "--treatment-risk=placebo=-0.1",
        "--marker-risk=gene_a=-0.1",
        "--image-noise=3",
        "--image-signal=0.9",
    )
    assert result.exit_code == 0, result.output
    assert load_spec(tmp_path / "data") == StudySpec(
        seed=9,
        start=date(2025, 4, 2),
        end=date(2025, 4, 12),
        hatch_rate=2,
        observation_ages=(2, 4),
        label_age=8,
        sex_age=4,
        image_size=(4, 6),
        prevalence=0.3,
        treatment_risk={"compound_x": 0.2, "placebo": -0.1},
        marker_risk={"gene_a": -0.1},
        image_noise=3.0,
        image_signal=0.9,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--end", "2025-03-01"], "before start"),
        (["--label-age", "5"], "label age"),
        (["--hatch-rate", "0"], "hatch rate"),
        (["--observation-ages", "1,x"], "comma-separated"),
        (["--image-size", "big"], "WIDTHxHEIGHT"),
        (["--treatment-risk", "compound_q=0.1"], "unknown treatment"),
        (["--treatment-risk", "compound_x"], "NAME=DELTA"),
        (["--marker-risk", "gene_a=3"], "out of range"),
        (["--prevalence", "2"], "probability"),
        (["--image-noise", "-1"], "image noise"),
        (["--workers", "0"], "workers"),
        (["--start", "April"], "not a day"),
    ],
)
def test_bad_options_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    result = zfish(tmp_path, "--quiet", *args)
    assert result.exit_code == EXIT_USAGE
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "data").exists()
