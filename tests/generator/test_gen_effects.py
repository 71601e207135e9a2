"""Effect-size options: treatment and marker risks, image noise and image signal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
from generator_testlib import conditions, observations, pixels

from zfish.generator import StudySpec
from zfish.generator.engine import fish_traits, image_colours, red_level

# Short studies with an early label age, so that most fish get an outcome.
LABELLED = {"end": date(2025, 4, 20), "observation_ages": (1, 3), "label_age": 6}


def condition_rate_by_treatment(root: Path) -> dict[str, float]:
    label = conditions(root)
    seen: dict[str, list[bool]] = {}
    for _, rec in observations(root):
        if rec["age_days"] == 1 and rec["fish_id"] in label:
            seen.setdefault(rec["treatment"], []).append(label[rec["fish_id"]])
    return {t: float(np.mean(v)) for t, v in seen.items()}


def test_treatment_risk_raises_the_condition_rate(make_study: Callable[..., Path]) -> None:
    root = make_study(
        hatch_rate=60, treatment_risk={"compound_x": 0.4}, **{**LABELLED, "observation_ages": (1,)}
    )
    rates = condition_rate_by_treatment(root)
    assert rates["compound_x"] > 0.8  # 0.5 + 0.4 = 0.9 over ~300 fish
    assert 0.4 < rates["compound_y"] < 0.6
    assert 0.4 < rates["placebo"] < 0.6


def test_risks_add_up_and_are_clipped() -> None:
    fish = np.arange(60_000, dtype=np.uint64)
    spec = StudySpec(
        treatment_risk={"compound_x": 0.4, "placebo": -0.3}, marker_risk={"gene_b": 0.3}
    )
    t = fish_traits(spec, fish)
    x, placebo, b = t.treatment == 0, t.treatment == 2, t.markers[:, 1]
    assert (t.p_condition[x & b] == 1.0).all()  # 0.5 + 0.4 + 0.3 clipped
    assert np.allclose(t.p_condition[placebo & ~b], 0.2)
    assert np.allclose(t.p_condition[placebo & b], 0.5)
    assert abs(t.condition[placebo & ~b].mean() - 0.2) < 0.02
    assert t.condition[x & b].all()
    # The other draws do not move when an effect is switched on.
    base = fish_traits(StudySpec(), fish)
    assert (base.treatment == t.treatment).all()
    assert (base.markers == t.markers).all()


def test_negative_marker_risk_can_rule_the_condition_out() -> None:
    t = fish_traits(StudySpec(marker_risk={"gene_c": -0.5}), np.arange(20_000, dtype=np.uint64))
    assert not t.condition[t.markers[:, 2]].any()
    assert abs(t.condition[~t.markers[:, 2]].mean() - 0.5) < 0.03


def test_image_signal_zero_hides_the_condition(make_study: Callable[..., Path]) -> None:
    root = make_study(hatch_rate=20, image_signal=0.0, **LABELLED)
    label = conditions(root)
    assert any(label.values())
    for day, rec in observations(root):
        px = pixels(root / "images" / f"day={day}" / f"{rec['image_id']}.png")
        assert px.min() >= 200, rec["image_id"]  # white-ish even for sick fish


def test_image_signal_shows_in_a_share_of_sick_fish() -> None:
    spec = StudySpec(image_signal=0.3)
    t = fish_traits(spec, np.arange(40_000, dtype=np.uint64))
    assert not t.signal[~t.condition].any()
    assert abs(t.signal[t.condition].mean() - 0.3) < 0.02
    colours = image_colours(spec, t, np.full(len(t.fish), 5, dtype=np.int64))
    assert (colours[t.signal, 0] == red_level(5)).all()
    assert (colours[~t.signal] >= 200).all()


def test_image_noise_perturbs_pixels_around_the_colour(make_study: Callable[..., Path]) -> None:
    root = make_study(hatch_rate=4, image_noise=12.0, image_size=(16, 12), **LABELLED)
    label = conditions(root)
    deviations = []
    for day, rec in observations(root):
        px = pixels(root / "images" / f"day={day}" / f"{rec['image_id']}.png").astype(float)
        assert px.shape == (12, 16, 3)
        assert len(np.unique(px.reshape(-1, 3), axis=0)) > 50  # no longer one solid colour
        if label.get(rec["fish_id"]) and rec["age_days"] == 3:
            # Sick, age 3: red is 213 before noise, far from both clipping bounds.
            deviations.append(px[:, :, 0] - red_level(3))
    dev = np.concatenate([d.ravel() for d in deviations])
    assert len(dev) > 1000
    assert abs(dev.mean()) < 1.5
    assert 10.0 < dev.std() < 14.0
