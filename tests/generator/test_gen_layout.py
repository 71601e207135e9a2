"""The generated study follows the seed script's rules and layout (seed-default study)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import numpy as np
from generator_testlib import conditions, fish_index, observations, outcomes, pixels

from zfish.generator import MANIFEST_NAME, StudySpec, generate, plan_counts
from zfish.generator.engine import red_level

START, END = date(2025, 4, 1), date(2025, 6, 1)
KEYS = ["fish_id", "image_id", "timestamp", "age_days", "treatment", "genetic_markers", "length_mm"]


def days(first: date, last: date) -> list[str]:
    return [(first + timedelta(n)).isoformat() for n in range((last - first).days + 1)]


def files_in(root: Path, kind: str, pattern: str) -> dict[str, int]:
    """day -> number of files of one kind."""
    counts = Counter(
        p.parent.name.removeprefix("day=") for p in root.glob(f"{kind}/day=*/{pattern}")
    )
    return dict(counts)


def test_documented_seed_numbers(default_study: Path) -> None:
    obs = files_in(default_study, "observations", "*.json")
    img = files_in(default_study, "images", "*.png")
    out = outcomes(default_study)
    before = "2025-05-10"
    assert sum(n for d, n in obs.items() if d < before) == 540
    assert sum(n for d, n in img.items() if d < before) == 540
    assert len([d for d in out if d < before]) == 4
    assert sum(len(r) for d, r in out.items() if d < before) == 20
    assert obs["2025-05-10"] == 15
    assert len(out["2025-05-10"]) == 5
    assert obs["2025-05-09"] == 15


def test_counts_per_day_follow_the_hatch_schedule(default_study: Path) -> None:
    obs = files_in(default_study, "observations", "*.json")
    img = files_in(default_study, "images", "*.png")
    for n, day in enumerate(days(START, END)):
        expected = 5 * sum(1 for age in (1, 3, 5) if n - age >= 0)
        assert obs.get(day, 0) == expected, day
        assert img.get(day, 0) == expected, day
    counts = plan_counts(StudySpec())
    assert sum(obs.values()) == counts.observations == 885
    assert counts.fish == 310
    assert counts.outcome_files == 27
    assert counts.outcomes == 135


def test_every_day_has_folders_even_empty_ones(default_study: Path) -> None:
    for kind in ("observations", "images"):
        names = sorted(p.name for p in (default_study / kind).iterdir())
        assert names == [f"day={d}" for d in days(START, END)]
        assert list((default_study / kind / "day=2025-04-01").iterdir()) == []
    outcome_days = sorted(p.name for p in (default_study / "outcomes").iterdir())
    assert outcome_days == [f"day={d}" for d in days(START + timedelta(35), END)]
    top = sorted(p.name for p in default_study.iterdir())
    assert top == [MANIFEST_NAME, "images", "observations", "outcomes"]


def test_observation_files_are_the_seeds_pretty_json(default_study: Path) -> None:
    for path in sorted(default_study.glob("observations/day=*/*.json")):
        text = path.read_text()
        record = json.loads(text)
        assert text == json.dumps(record, indent=2)  # indent=2, no trailing newline
        assert list(record) == ([*KEYS, "sex"] if record["age_days"] >= 5 else KEYS)
        assert list(record["genetic_markers"]) == ["gene_a", "gene_b", "gene_c"]
        assert path.name == f"{record['image_id']}.json"


def test_observation_rules(default_study: Path) -> None:
    per_fish: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for day, rec in observations(default_study):
        fish = fish_index(rec["fish_id"])
        age = rec["age_days"]
        hatched = START + timedelta(fish // 5)
        assert rec["fish_id"] == f"zfish_{fish:05d}"
        assert rec["image_id"] == f"{rec['fish_id']}_{age:02d}"
        assert age in (1, 3, 5)
        assert date.fromisoformat(day) == hatched + timedelta(age) <= END
        assert rec["timestamp"] == f"{day}T00:00:00Z"
        assert datetime.fromisoformat(rec["timestamp"]).utcoffset() == timedelta(0)
        assert rec["treatment"] in ("compound_x", "compound_y", "placebo")
        assert all(isinstance(v, bool) for v in rec["genetic_markers"].values())
        low, high = 2.0 + 0.5 * age - 0.2, 2.0 + 0.5 * age + 0.2
        assert low - 0.005 <= rec["length_mm"] <= high + 0.005
        assert round(rec["length_mm"], 2) == rec["length_mm"]
        assert ("sex" in rec) == (age >= 5)
        if "sex" in rec:
            assert rec["sex"] in ("male", "female")
        traits = (rec["treatment"], tuple(rec["genetic_markers"].values()))
        per_fish[rec["fish_id"]].add(traits)
    # Treatment and markers are drawn once per fish: the same at every age.
    assert all(len(t) == 1 for t in per_fish.values())
    assert len(per_fish) == 305  # the last 5 fish hatch on the last day and are never observed


def test_images_match_observations_and_colour_rules(default_study: Path) -> None:
    label = conditions(default_study)
    sick_seen = healthy_seen = 0
    classes: dict[str, set[bool]] = defaultdict(set)
    for day, rec in observations(default_study):
        path = default_study / "images" / f"day={day}" / f"{rec['image_id']}.png"
        px = pixels(path)
        assert px.shape == (8, 8, 3)
        assert (px == px[0, 0]).all(), "one solid colour per image"
        r, g, b = (int(v) for v in px[0, 0])
        red = r == red_level(rec["age_days"]) and g <= 50 and b <= 50
        white = min(r, g, b) >= 200
        assert red != white, (path, (r, g, b))
        classes[rec["fish_id"]].add(red)
        if rec["fish_id"] in label:
            assert red == label[rec["fish_id"]], path
            sick_seen += red
            healthy_seen += white
    assert all(len(c) == 1 for c in classes.values()), "a fish's images agree with its label"
    assert sick_seen > 50
    assert healthy_seen > 50
    assert [red_level(a) for a in (1, 3, 5)] == [171, 213, 255]
    assert len(list(default_study.glob("images/day=*/*.png"))) == 885


def test_outcomes_are_written_on_day_35_only_within_the_study(default_study: Path) -> None:
    seen = []
    for day, records in outcomes(default_study).items():
        path = default_study / "outcomes" / f"day={day}" / "outcomes.json"
        assert path.read_text() == json.dumps(records, indent=2)
        assert date.fromisoformat(day) <= END
        for rec in records:
            assert list(rec) == ["fish_id", "condition_developed"]
            assert isinstance(rec["condition_developed"], bool)
            hatched = START + timedelta(fish_index(rec["fish_id"]) // 5)
            assert date.fromisoformat(day) == hatched + timedelta(35)
            seen.append(fish_index(rec["fish_id"]))
    assert seen == list(range(135))  # in fish order, every fish hatched by 2025-04-27


def test_same_files_as_the_seed_script(tmp_path: Path, seed_baseline: ModuleType) -> None:
    """Same paths (files and folders) and record shapes as the seed's own loop."""
    first, last = datetime(2025, 4, 1), datetime(2025, 5, 12)
    seed_dir = tmp_path / "seed"
    seed_baseline.run_seed_loop(str(seed_dir), 3, first, last, seed=1)
    ours = tmp_path / "ours"
    generate(StudySpec(hatch_rate=3, end=last.date()), ours, workers=1, show_progress=False)
    seed_paths = {p.relative_to(seed_dir).as_posix() for p in seed_dir.rglob("*")}
    our_paths = {p.relative_to(ours).as_posix() for p in ours.rglob("*")} - {MANIFEST_NAME}
    assert our_paths == seed_paths
    for rel in sorted(p for p in seed_paths if p.endswith(".json")):
        theirs, mine = (
            json.loads((seed_dir / rel).read_text()),
            json.loads((ours / rel).read_text()),
        )
        if rel.startswith("outcomes/"):
            assert [r["fish_id"] for r in mine] == [r["fish_id"] for r in theirs]
            continue
        assert list(mine) == list(theirs)
        assert mine["timestamp"] == theirs["timestamp"] + "Z"
        for key in ("fish_id", "image_id", "age_days"):
            assert mine[key] == theirs[key]
    for rel in sorted(p for p in seed_paths if p.endswith(".png")):
        assert pixels(seed_dir / rel).shape == pixels(ours / rel).shape


def test_draws_have_the_seeds_distributions() -> None:
    """Over 200,000 fish: uniform treatments and sexes, fair markers and condition."""
    from zfish.generator.engine import fish_traits, image_colours

    spec = StudySpec()
    fish = np.arange(200_000, dtype=np.uint64)
    traits = fish_traits(spec, fish)
    assert np.allclose(np.bincount(traits.treatment, minlength=3) / len(fish), 1 / 3, atol=0.01)
    assert np.allclose(np.bincount(traits.sex, minlength=2) / len(fish), 1 / 2, atol=0.01)
    assert np.allclose(traits.markers.mean(axis=0), 0.5, atol=0.01)
    assert abs(traits.condition.mean() - 0.5) < 0.01
    assert (traits.p_condition == 0.5).all()
    ages = np.full(len(fish), 3, dtype=np.int64)
    colours = image_colours(spec, traits, ages)
    healthy, sick = colours[~traits.condition], colours[traits.condition]
    assert set(np.unique(healthy)) == set(range(200, 256))
    assert set(np.unique(sick[:, 0])) == {213}
    assert set(np.unique(sick[:, 1:])) == set(range(51))
    # Markers are independent of each other and of the treatment.
    corr = np.corrcoef(np.column_stack([traits.markers, traits.treatment == 0]).T)
    assert np.abs(corr - np.eye(4)).max() < 0.02
