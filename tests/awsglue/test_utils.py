"""getResolvedOptions: Glue's argument rules (required names, both spellings, reserved names tolerated)."""

from __future__ import annotations

import pytest

from awsglue.utils import GlueArgumentError, getResolvedOptions

SCRIPT = "/tmp/job.py"


def test_the_names_asked_for_with_job_name_and_both_spellings() -> None:
    argv = [SCRIPT, "--JOB_NAME", "nightly", "--END_DATE=2025-05-11T18:00:00", "--WRITER", "native"]
    args = getResolvedOptions(argv, ["JOB_NAME", "END_DATE", "WRITER"])
    assert args["JOB_NAME"] == "nightly"
    assert args["END_DATE"] == "2025-05-11T18:00:00"
    assert args["WRITER"] == "native"


def test_glues_reserved_arguments_are_tolerated_and_returned() -> None:
    argv = [
        SCRIPT,
        "--JOB_ID",
        "j_1",
        "--JOB_RUN_ID",
        "jr_abc",
        "--job-bookmark-option",
        "job-bookmark-enable",
        "--TempDir",
        "s3://bucket/tmp/",
        "--enable-metrics",
        "true",
        "--OUT",
        "s3://bucket/out/",
    ]
    args = getResolvedOptions(argv, ["OUT"])
    assert args["OUT"] == "s3://bucket/out/"
    assert args["JOB_RUN_ID"] == "jr_abc"
    assert args["JOB_ID"] == "j_1"
    assert args["job_bookmark_option"] == "job-bookmark-enable"
    # Glue fills either temp-dir name from the other.
    assert args["TempDir"] == args["RedshiftTempDir"] == "s3://bucket/tmp/"
    assert "enable_metrics" not in args  # not asked for: ignored


def test_defaults_when_glue_passes_nothing_extra() -> None:
    args = getResolvedOptions([SCRIPT, "--JOB_NAME", "j"], ["JOB_NAME"])
    assert args["job_bookmark_option"] == "job-bookmark-disable"
    assert args["JOB_RUN_ID"] is None
    assert args["TempDir"] is None
    # The old --continuation-option spelling maps onto the bookmark option.
    old = getResolvedOptions([SCRIPT, "--continuation-option", "continuation-enabled"], [])
    assert old["job_bookmark_option"] == "job-bookmark-enable"


def test_a_later_value_wins_and_a_dashed_name_becomes_an_underscored_key() -> None:
    argv = [SCRIPT, "--input-path", "a", "--input-path", "b"]
    assert getResolvedOptions(argv, ["input-path"])["input_path"] == "b"


def test_a_missing_argument_is_named() -> None:
    with pytest.raises(GlueArgumentError, match=r"--END_DATE") as excinfo:
        getResolvedOptions([SCRIPT, "--JOB_NAME", "j"], ["JOB_NAME", "END_DATE"])
    assert "required" in str(excinfo.value)
    assert "JOB_NAME" not in str(excinfo.value).split("required", 1)[1].split(";")[0]


def test_an_argument_without_its_value_fails() -> None:
    with pytest.raises(GlueArgumentError, match=r"--OUT"):
        getResolvedOptions([SCRIPT, "--OUT"], ["OUT"])


def test_reserved_names_cannot_be_asked_for() -> None:
    for name in ("JOB_RUN_ID", "job-bookmark-option", "JOB_ID"):
        with pytest.raises(RuntimeError, match="reserved"):
            getResolvedOptions([SCRIPT], [name])


def test_temp_dir_stays_optional_even_when_asked_for() -> None:
    assert getResolvedOptions([SCRIPT], ["TempDir"])["TempDir"] is None


def test_bookmark_choices_and_ranges_are_checked() -> None:
    with pytest.raises(GlueArgumentError, match="invalid choice"):
        getResolvedOptions([SCRIPT, "--job-bookmark-option", "on"], [])
    with pytest.raises(RuntimeError, match="job-bookmark-to"):
        getResolvedOptions(
            [SCRIPT, "--job-bookmark-option", "job-bookmark-pause", "--job-bookmark-from", "1"], []
        )
    with pytest.raises(RuntimeError, match="Invalid option"):
        getResolvedOptions([SCRIPT, "--job-bookmark-from", "1", "--job-bookmark-to", "2"], [])
