"""Each fault scenario's files, checked against what its docstring promises, and byte-reproducible."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from generator_testlib import tree

from zfish.exceptions import ValidationError
from zfish.generator import StudySpec, generate, scenarios
from zfish.generator.engine import read_manifest
from zfish.generator.scenarios import (
    corrupt,
    duplicates,
    late_labels,
    orphans,
    out_of_order,
    redelivery,
    schema_drift,
)
from zfish.generator.spec import SCENARIO_ORDER
from zfish.lake.jsoncompact import JsonInputError, compact

# 62 days x 10 fish: 1,770 observations, enough for each rate to show.
STUDY: dict[str, Any] = {"hatch_rate": 10}
START = StudySpec().start


def _files(root: Path, pattern: str) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.glob(pattern))}


def _day(path: str) -> date:
    return date.fromisoformat(path.split("/")[1].removeprefix("day="))


def _hatch(fish_id: str, rate: int = 10) -> date:
    return START + timedelta(days=int(fish_id.rpartition("_")[2]) // rate)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean") / "study"
    generate(StudySpec(**STUDY), root, workers=1, show_progress=False)
    return root


@pytest.fixture
def faulty(tmp_path: Path) -> Callable[..., Path]:
    def make(*names: str, name: str = "study", **fields: Any) -> Path:
        root = tmp_path / name
        spec = StudySpec(**{**STUDY, **fields}, scenarios=scenarios.normalise(list(names)))
        generate(spec, root, workers=1, show_progress=False)
        return root

    return make


def test_late_labels_move_a_fifth_of_the_outcomes_40_to_60_days_after_hatching(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("late-labels")
    before = {
        r["fish_id"]: (_day(p), r)
        for p, data in _files(clean, "outcomes/*/outcomes.json").items()
        for r in json.loads(data)
    }
    after = {
        r["fish_id"]: (_day(p), r)
        for p, data in _files(root, "outcomes/*/outcomes.json").items()
        for r in json.loads(data)
    }
    late = {f: day for f, (day, _) in after.items() if day != before[f][0]}
    assert set(after) <= set(before)
    for fish, day in late.items():
        assert 40 <= (day - _hatch(fish)).days <= 60
        assert after[fish][1] == before[fish][1]  # the same record, only later
    # Fish whose late day fell after the study's end got no label at all.
    missing = set(before) - set(after)
    end = StudySpec().end
    late_share = (len(late) + len(missing)) / len(before)
    assert 0.1 < late_share < 0.3, late_share  # RATE 0.2 of 270 labelled fish
    assert all(_hatch(f) + timedelta(days=60) > end for f in missing)
    assert late
    assert missing
    # A day all of whose labels left has no outcomes folder.
    assert all(json.loads(d) for d in _files(root, "outcomes/*/outcomes.json").values())


def test_redelivery_copies_a_day_into_a_later_partition_some_corrected(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("redelivery")
    original = _files(clean, "observations/*/*.json")
    by_name = {Path(p).name: (p, data) for p, data in original.items()}
    now = _files(root, "observations/*/*.json")
    copies = {p: data for p, data in now.items() if p not in original}
    assert copies
    assert set(original) <= set(now)
    assert all(now[p] == original[p] for p in original)  # originals untouched
    fixed = 0
    days: dict[date, set[date]] = {}
    for path, data in copies.items():
        first_path, first = by_name[Path(path).name]
        lag = (_day(path) - _day(first_path)).days
        assert 2 <= lag <= 5
        days.setdefault(_day(first_path), set()).add(_day(path))
        if data == first:
            continue
        old, new = json.loads(first), json.loads(data)
        assert new["length_mm"] == round(old["length_mm"] + 0.05, 2)
        assert new["timestamp"] == f"{_day(path).isoformat()}T00:00:00Z"
        assert {k: v for k, v in new.items() if k not in ("length_mm", "timestamp")} == {
            k: v for k, v in old.items() if k not in ("length_mm", "timestamp")
        }
        fixed += 1
    # A whole day goes again, into one later day; images are not re-sent.
    for first_day, later in days.items():
        assert len(later) == 1
        whole = {Path(p).name for p in original if _day(p) == first_day}
        sent = {Path(p).name for p in copies if _day(p) in later and Path(p).name in whole}
        assert sent == whole
    assert _files(root, "images/*/*.png") == _files(clean, "images/*/*.png")
    assert 0.15 < fixed / len(copies) < 0.45  # FIX_RATE 0.3


def test_out_of_order_moves_whole_days_into_later_partitions(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("out-of-order")
    for kind in ("observations/*/*.json", "images/*/*.png"):
        before, after = _files(clean, kind), _files(root, kind)
        assert sorted(before.values()) == sorted(after.values())  # nothing lost or changed
        where_before = {Path(p).name: _day(p) for p in before}
        moved = {Path(p).name: (where_before[Path(p).name], _day(p)) for p in after}
        moved = {n: d for n, d in moved.items() if d[0] != d[1]}
        assert moved, "seed 42 holds at least one day back"
        for first, later in moved.values():
            assert 2 <= (later - first).days <= 4
        # Whole days moved: none of a held-back day's files stayed behind.
        held = {first for first, _ in moved.values()}
        assert not [n for n, d in where_before.items() if d in held and n not in moved]
    # The emptied day keeps its (empty) folders, as the seed leaves a day without files.
    assert {p.name for p in (root / "observations").iterdir()} == {
        p.name for p in (clean / "observations").iterdir()
    }


def test_schema_drift_rewrites_observations_from_the_middle_day_on(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("schema-drift")
    middle = START + timedelta(days=StudySpec().n_days // 2)
    before, after = _files(clean, "observations/*/*.json"), _files(root, "observations/*/*.json")
    assert set(before) == set(after)
    genes = 0
    for path, data in after.items():
        old, new = json.loads(before[path]), json.loads(data)
        if _day(path) < middle:
            assert data == before[path]
            continue
        assert b'"age_days": ' + str(old["age_days"]).encode() + b".0," in data
        assert 26.0 <= new.pop("water_temp_c") <= 30.0
        genes += new["genetic_markers"].pop("gene_d")
        new["age_days"] = int(new["age_days"])
        assert new == old
        # Through jq -c (the upload) the float age is the integer again.
        assert b'"age_days":' + str(old["age_days"]).encode() + b"," in compact(data)
    drifted = sum(_day(p) >= middle for p in after)
    assert 0.35 < genes / drifted < 0.65


def test_corrupt_damages_one_percent_in_four_ways_and_adds_stray_files(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("corrupt")
    before, after = _files(clean, "observations/*/*.json"), _files(root, "observations/*/*.json")
    assert set(before) == set(after)
    kinds: dict[str, int] = {}
    for path, data in after.items():
        if data == before[path]:
            continue
        if data == b"":
            kind = "empty"
        elif data.startswith(corrupt.BOM):
            assert data[3:] == before[path]
            assert compact(data) == compact(before[path])  # jq drops the mark
            kind = "bom"
        elif before[path].startswith(data):
            assert len(data) == len(before[path]) // 2
            with pytest.raises(JsonInputError):
                compact(data)
            kind = "truncated"
        else:
            record = json.loads(data)
            assert record["length_mm"] == f"{json.loads(before[path])['length_mm']} mm"
            kind = "wrong-type"
        kinds[kind] = kinds.get(kind, 0) + 1
    assert set(kinds) == set(corrupt.KINDS), kinds
    assert 8 <= sum(kinds.values()) <= 35  # RATE 0.01 of 1,770
    strays = sorted(root.glob("observations/*/notes.txt"))
    assert strays
    assert all(p.read_bytes() == corrupt.STRAY_TEXT for p in strays)


def test_duplicates_twin_two_percent_of_records_in_their_own_partition(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("duplicates")
    before = _files(clean, "observations/*/*.json")
    twins = _files(root, "observations/*/*.dup.json")
    assert 15 <= len(twins) <= 60  # RATE 0.02 of 1,770
    for path, data in twins.items():
        original = json.loads(before[path.removesuffix(duplicates.SUFFIX) + ".json"])
        twin = json.loads(data)
        assert twin["image_id"] == original["image_id"]
        assert twin["timestamp"] == original["timestamp"]
        assert twin["length_mm"] == round(original["length_mm"] + 0.3, 2)
    assert set(_files(root, "observations/*/*.json")) - set(twins) == set(before)


def test_orphans_remove_json_or_png_of_two_percent_each(
    clean: Path, faulty: Callable[..., Path]
) -> None:
    root = faulty("orphans")
    stems = lambda r, pattern: {p.parent.name + "/" + p.stem for p in r.glob(pattern)}  # noqa: E731
    obs, imgs = stems(root, "observations/*/*.json"), stems(root, "images/*/*.png")
    all_obs = stems(clean, "observations/*/*.json")
    assert stems(clean, "images/*/*.png") == all_obs
    lonely_images, lonely_obs = imgs - obs, obs - imgs
    assert obs | imgs == all_obs  # each observation keeps its JSON or its image
    assert 15 <= len(lonely_images) <= 60
    assert 15 <= len(lonely_obs) <= 60
    assert not lonely_images & lonely_obs


def test_every_scenario_at_once_is_byte_identical_for_one_seed_and_differs_for_another(
    faulty: Callable[..., Path],
) -> None:
    first = tree(faulty(*scenarios.NAMES, name="a"))
    again = tree(faulty(*reversed(scenarios.NAMES), name="b"))  # asked in another order
    other = tree(faulty(*scenarios.NAMES, name="c", seed=43))
    assert first == again
    assert first != other


def test_the_mix_is_in_the_manifest_and_another_mix_is_another_study(
    faulty: Callable[..., Path], tmp_path: Path
) -> None:
    root = faulty("corrupt", "late-labels")
    manifest = read_manifest(root)
    assert manifest is not None
    assert manifest.spec.scenarios == ("late-labels", "corrupt")  # the order they run in
    doc = json.loads((root / "_zfish_study.json").read_text())
    assert doc["spec"]["scenarios"] == ["late-labels", "corrupt"]
    again = generate(manifest.spec, root, workers=1, show_progress=False)
    assert again.up_to_date
    with pytest.raises(ValidationError, match=r"scenarios \['late-labels', 'corrupt'\] -> \[\]"):
        generate(StudySpec(**STUDY), root, workers=1, show_progress=False)


def test_a_clean_study_has_no_scenarios_key_in_its_manifest(clean: Path) -> None:
    assert "scenarios" not in json.loads((clean / "_zfish_study.json").read_text())["spec"]


def test_an_unknown_scenario_names_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"unknown scenario 'late'.*late-labels"):
        scenarios.parse("late")
    assert scenarios.parse("all") == scenarios.NAMES
    assert scenarios.parse("orphans, corrupt") == ("orphans", "corrupt")


def test_the_spec_orders_the_scenarios_as_their_modules_run() -> None:
    # The spec holds the names (it must not import the scenarios, which import it).
    assert SCENARIO_ORDER == scenarios.NAMES
    assert StudySpec(scenarios=("orphans", "corrupt")).validate().scenarios == (
        "orphans",
        "corrupt",
    )
    with pytest.raises(ValidationError, match="not in the order they run"):
        StudySpec(scenarios=("corrupt", "orphans")).validate()


def test_every_scenario_module_documents_what_when_how_often_and_the_correct_answer() -> None:
    for module in (
        late_labels,
        redelivery,
        out_of_order,
        schema_drift,
        corrupt,
        duplicates,
        orphans,
    ):
        doc = " ".join((module.__doc__ or "").split())
        assert doc.startswith(f"``{module.NAME}``"), module.NAME
        assert "What a correct pipeline must" in doc, module.NAME
        assert "What and when" in doc, module.NAME


def test_cli_generate_scenario_records_the_mix_and_names_a_wrong_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from zfish.cli import cli

    runner = CliRunner()
    base = ["--data", str(tmp_path / "s"), "generate", "--hatch-rate", "2", "--quiet"]
    result = runner.invoke(cli, [*base, "--scenario", "orphans,late-labels"])
    assert result.exit_code == 0, result.output
    assert "late-labels, orphans" in result.output
    manifest = read_manifest(tmp_path / "s")
    assert manifest is not None
    assert manifest.spec.scenarios == ("late-labels", "orphans")
    bad = runner.invoke(cli, [*base, "--scenario", "typo"])
    assert bad.exit_code == 2
    assert "unknown scenario 'typo'" in bad.output
