"""zfish.generator.spec: seed-faithful defaults, validation with clear errors, round trips."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from zfish.exceptions import ValidationError
from zfish.generator import StudySpec
from zfish.generator.spec import parse_ages, parse_image_size, parse_risks


def test_defaults_are_the_seed_scripts_constants() -> None:
    spec = StudySpec()
    assert spec.seed == 42
    assert (spec.start, spec.end) == (date(2025, 4, 1), date(2025, 6, 1))
    assert spec.hatch_rate == 5
    assert spec.observation_ages == (1, 3, 5)
    assert spec.label_age == 35
    assert spec.sex_age == 5
    assert spec.image_size == (8, 8)
    assert spec.prevalence == 0.5
    assert spec.treatment_risk == ()
    assert spec.marker_risk == ()
    assert (spec.image_noise, spec.image_signal) == (0.0, 1.0)
    assert spec.n_days == 62
    assert spec.n_fish == 310
    assert spec.validate() is spec


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end": date(2025, 3, 31)}, "before start"),
        ({"hatch_rate": 0}, "hatch rate must be between 1"),
        ({"hatch_rate": -5}, "hatch rate"),
        ({"label_age": 5}, "label age 5 must be after the last observation age 5"),
        ({"label_age": 3}, "label age 3"),
        ({"observation_ages": ()}, "at least one observation age"),
        ({"observation_ages": (1, 1, 3)}, "repeat an age"),
        ({"observation_ages": (-1, 3)}, "observation age must be at least 0"),
        ({"sex_age": -1}, "sex age"),
        ({"image_size": (0, 8)}, "image side"),
        ({"image_size": (8, 100_000)}, "image side"),
        ({"prevalence": 1.5}, "prevalence must be a probability"),
        ({"prevalence": float("nan")}, "prevalence"),
        ({"image_signal": -0.1}, "image signal"),
        ({"image_noise": -1.0}, "image noise"),
        ({"seed": -1}, "seed must be in"),
        ({"treatment_risk": {"compound_z": 0.1}}, "unknown treatment 'compound_z'"),
        ({"marker_risk": {"gene_d": 0.1}}, "unknown marker 'gene_d'.*gene_a, gene_b, gene_c"),
        ({"treatment_risk": {"placebo": 1.5}}, "out of range"),
        ({"marker_risk": (("gene_a", 0.1), ("gene_a", 0.2))}, "twice"),
    ],
)
def test_validation_errors_name_the_problem(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StudySpec(**fields).validate()


def test_equal_studies_compare_equal_however_spelled() -> None:
    a = StudySpec(
        observation_ages=(5, 1, 3),
        treatment_risk={"placebo": -0.1, "compound_x": 0.4},
        marker_risk=[("gene_b", 0.2)],
    )
    b = StudySpec(
        observation_ages=(1, 3, 5),
        treatment_risk=(("compound_x", 0.4), ("placebo", -0.1)),
        marker_risk={"gene_b": 0.2},
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a.treatment_risk_map == {"compound_x": 0.4, "placebo": -0.1}
    assert a != StudySpec()


def test_dict_round_trip() -> None:
    spec = StudySpec(
        seed=7,
        end=date(2025, 5, 1),
        image_size=(4, 6),
        treatment_risk={"compound_x": 0.3},
        image_noise=2.5,
    )
    data = spec.to_dict()
    assert data["start"] == "2025-04-01"
    assert data["image_size"] == [4, 6]
    assert data["treatment_risk"] == {"compound_x": 0.3}
    assert StudySpec.from_dict(data) == spec
    with pytest.raises(ValidationError, match="unknown study spec field"):
        StudySpec.from_dict({**data, "colour": "blue"})
    with pytest.raises(ValidationError, match="malformed"):
        StudySpec.from_dict({**data, "start": "yesterday"})


def test_option_parsers() -> None:
    assert parse_ages("1,3,5") == (1, 3, 5)
    assert parse_ages(" 2 , 4") == (2, 4)
    with pytest.raises(ValidationError, match="comma-separated"):
        parse_ages("1,x")
    assert parse_image_size("8x8") == (8, 8)
    assert parse_image_size("16X4") == (16, 4)
    assert parse_image_size("5") == (5, 5)
    with pytest.raises(ValidationError, match="WIDTHxHEIGHT"):
        parse_image_size("8x8x8")
    assert parse_risks(["compound_x=0.4", "placebo=-0.1"], "treatment") == (
        ("compound_x", 0.4),
        ("placebo", -0.1),
    )
    with pytest.raises(ValidationError, match="NAME=DELTA"):
        parse_risks(["compound_x"], "treatment")
    with pytest.raises(ValidationError, match="NAME=DELTA"):
        parse_risks(["gene_a=lots"], "marker")
