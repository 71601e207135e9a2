"""What to generate: :class:`StudySpec`, every knob of the seed script plus optional effect sizes.

The defaults reproduce the seed's ``synthetic_data`` script (fish hatching 5 a
day from 2025-04-01 to 2025-06-01, observed at ages 1, 3 and 5, labelled at
age 35, 8x8 images, P(condition) = 0.5) with seed 42. The effect options
(``treatment_risk``, ``marker_risk``, ``image_noise``, ``image_signal``) are
off by default, so a default study follows the seed's rules exactly.

A spec is plain data: it round-trips through :meth:`StudySpec.to_dict` /
:meth:`StudySpec.from_dict` into the study's manifest, which is how a rerun
knows whether the study on disk is already the one asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

from zfish.exceptions import ValidationError

TREATMENTS: tuple[str, ...] = ("compound_x", "compound_y", "placebo")
SEXES: tuple[str, ...] = ("male", "female")
GENES: tuple[str, ...] = ("gene_a", "gene_b", "gene_c")

DEFAULT_SEED = 42
MAX_HATCH_RATE = 1_000_000
MAX_IMAGE_SIDE = 4096
MAX_DAYS = 100 * 366


def _pairs(value: Any) -> tuple[tuple[str, float], ...]:
    """Risk deltas as sorted ``(name, delta)`` pairs, from a mapping or an iterable of pairs."""
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), float(v)) for k, v in items))


# The scenario names in the order they run (zfish.generator.scenarios.ORDER
# holds their modules; a test keeps the two equal). Here, not there, because
# the scenarios import the spec: a spec checks its mix without importing them.
SCENARIO_ORDER: tuple[str, ...] = (
    "late-labels",
    "out-of-order",
    "orphans",
    "duplicates",
    "redelivery",
    "schema-drift",
    "corrupt",
)


def normalise_scenarios(names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Known scenario names, once each, in the order they run; an unknown one is an error."""
    for name in names:
        if name not in SCENARIO_ORDER:
            raise ValidationError(
                f"unknown scenario {name!r}; use one or more of {', '.join(SCENARIO_ORDER)} "
                "(comma-separated) or all"
            )
    return tuple(n for n in SCENARIO_ORDER if n in set(names))


@dataclass(frozen=True)
class StudySpec:
    """Everything that determines a generated study; equal specs give byte-identical studies.

    * ``seed``: the root of every random draw (see :mod:`zfish.generator.engine`).
    * ``start``, ``end``: fish hatch every day from start to end, both included;
      nothing is written for a day after ``end``.
    * ``hatch_rate``: fish per day. ``observation_ages``: ages (days after
      hatching) with an observation JSON and a PNG. ``label_age``: the age whose
      day's ``outcomes.json`` lists the fish. ``sex_age``: from this age on,
      observations carry ``sex``.
    * ``image_size``: (width, height) as in the seed's ``Image.new``.
    * ``prevalence``: baseline P(condition) (the seed's ``random.choice([True, False])``).
    * ``treatment_risk`` / ``marker_risk``: additive changes of P(condition) for
      a treatment / when a marker is true; the sum is clipped to [0, 1]. Given as
      a mapping or pairs, stored as sorted ``(name, delta)`` pairs so that equal
      specs compare (and hash) equal.
    * ``image_noise``: standard deviation of Gaussian noise added to every pixel
      channel (rounded, clipped to 0..255); 0 keeps the seed's solid colours.
    * ``image_signal``: probability, drawn once per fish, that a sick fish's
      images show the red signal; the others look healthy (white-ish).
    * ``scenarios``: the faults injected on top (:mod:`zfish.generator.scenarios`),
      stored in the order they run; none by default.
    """

    seed: int = DEFAULT_SEED
    start: date = date(2025, 4, 1)
    end: date = date(2025, 6, 1)
    hatch_rate: int = 5
    observation_ages: tuple[int, ...] = (1, 3, 5)
    label_age: int = 35
    sex_age: int = 5
    image_size: tuple[int, int] = (8, 8)
    prevalence: float = 0.5
    treatment_risk: tuple[tuple[str, float], ...] = ()
    marker_risk: tuple[tuple[str, float], ...] = ()
    image_noise: float = 0.0
    image_signal: float = 1.0
    scenarios: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Normalise containers so equal studies compare equal however they were spelled.
        object.__setattr__(self, "observation_ages", tuple(sorted(self.observation_ages)))
        object.__setattr__(self, "image_size", tuple(self.image_size))
        object.__setattr__(self, "treatment_risk", _pairs(self.treatment_risk))
        object.__setattr__(self, "marker_risk", _pairs(self.marker_risk))
        object.__setattr__(self, "prevalence", float(self.prevalence))
        object.__setattr__(self, "image_noise", float(self.image_noise))
        object.__setattr__(self, "image_signal", float(self.image_signal))
        object.__setattr__(self, "scenarios", tuple(self.scenarios))

    # ----------------------------------------------------------------- derived
    @property
    def n_days(self) -> int:
        """Days from start to end, both included (the seed's ``while current_date <= end``)."""
        return (self.end - self.start).days + 1

    @property
    def n_fish(self) -> int:
        return self.n_days * self.hatch_rate

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    @property
    def treatment_risk_map(self) -> dict[str, float]:
        return dict(self.treatment_risk)

    @property
    def marker_risk_map(self) -> dict[str, float]:
        return dict(self.marker_risk)

    # -------------------------------------------------------------- validation
    def validate(self) -> StudySpec:
        """Raise :class:`ValidationError` naming the first bad option and the fix; return self."""
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValidationError(f"seed must be an integer, got {self.seed!r}")
        if not 0 <= self.seed < 2**64:
            raise ValidationError(f"seed must be in [0, 2**64), got {self.seed}")
        if not isinstance(self.start, date) or not isinstance(self.end, date):
            raise ValidationError("start and end must be dates (YYYY-MM-DD)")
        if self.end < self.start:
            raise ValidationError(
                f"end {self.end.isoformat()} is before start {self.start.isoformat()}; "
                "give an end on or after the start"
            )
        if self.n_days > MAX_DAYS:
            raise ValidationError(f"{self.n_days} days is more than {MAX_DAYS}; shorten the study")
        _check_int("hatch rate", self.hatch_rate, 1, MAX_HATCH_RATE, "fish per day")
        if not self.observation_ages:
            raise ValidationError("give at least one observation age, e.g. 1,3,5")
        for age in self.observation_ages:
            _check_int("observation age", age, 0, None, "days after hatching")
        if len(set(self.observation_ages)) != len(self.observation_ages):
            raise ValidationError(
                f"observation ages {list(self.observation_ages)} repeat an age; list each once"
            )
        _check_int("label age", self.label_age, 0, None, "days after hatching")
        last = self.observation_ages[-1]
        if self.label_age <= last:
            raise ValidationError(
                f"label age {self.label_age} must be after the last observation age {last}: "
                "the outcome is only known once observation is over"
            )
        _check_int("sex age", self.sex_age, 0, None, "days after hatching")
        if len(self.image_size) != 2:
            raise ValidationError(f"image size must be (width, height), got {self.image_size!r}")
        for side in self.image_size:
            _check_int("image side", side, 1, MAX_IMAGE_SIDE, "pixels")
        _check_probability("prevalence", self.prevalence)
        _check_probability("image signal", self.image_signal)
        if not math.isfinite(self.image_noise) or not 0.0 <= self.image_noise <= 255.0:
            raise ValidationError(
                f"image noise must be a colour standard deviation in [0, 255], got {self.image_noise}"
            )
        _check_risks("treatment", self.treatment_risk, TREATMENTS)
        _check_risks("marker", self.marker_risk, GENES)
        if normalise_scenarios(self.scenarios) != self.scenarios:
            raise ValidationError(
                f"scenarios {list(self.scenarios)} are not in the order they run "
                f"({', '.join(normalise_scenarios(self.scenarios))}); list each once, or use "
                "zfish.generator.scenarios.parse"
            )
        return self

    # ----------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, in field order (the manifest's ``spec``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif f.name in ("treatment_risk", "marker_risk"):
                value = dict(value)
            elif isinstance(value, tuple):
                value = list(value)
            if f.name == "scenarios" and not value:
                continue  # a clean study's manifest stays as it was before scenarios existed
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StudySpec:
        """Inverse of :meth:`to_dict`; unknown keys are an error (a newer zfish wrote them)."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValidationError(f"unknown study spec field(s): {', '.join(sorted(unknown))}")
        kwargs: dict[str, Any] = dict(data)
        try:
            for key in ("start", "end"):
                if key in kwargs:
                    kwargs[key] = date.fromisoformat(str(kwargs[key]))
            for key in ("observation_ages", "image_size"):
                if key in kwargs:
                    kwargs[key] = tuple(int(v) for v in kwargs[key])
            if "scenarios" in kwargs:
                kwargs["scenarios"] = tuple(str(v) for v in kwargs["scenarios"])
            return cls(**kwargs)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"malformed study spec: {exc}") from exc


def _check_int(what: str, value: Any, low: int, high: int | None, unit: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{what} must be a whole number of {unit}, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValidationError(f"{what} must be {bound} {unit}, got {value}")


def _check_probability(what: str, value: float) -> None:
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"{what} must be a probability in [0, 1], got {value}")


def _check_risks(kind: str, pairs: Iterable[tuple[str, float]], known: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for name, delta in pairs:
        if name not in known:
            raise ValidationError(
                f"unknown {kind} {name!r} in --{kind}-risk; use one of {', '.join(known)}"
            )
        if name in seen:
            raise ValidationError(f"--{kind}-risk gives {name!r} twice; give each name once")
        seen.add(name)
        if not math.isfinite(delta) or not -1.0 <= delta <= 1.0:
            raise ValidationError(
                f"--{kind}-risk {name}={delta} is out of range: a change of probability "
                "must be in [-1, 1]"
            )


# ------------------------------------------------------------------ option parsing
def parse_ages(text: str, what: str = "observation ages") -> tuple[int, ...]:
    """``"1,3,5"`` -> ``(1, 3, 5)``."""
    try:
        ages = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValidationError(
            f"{what} {text!r} is not a comma-separated list of whole days, e.g. 1,3,5"
        ) from None
    if not ages:
        raise ValidationError(f"give at least one of the {what}, e.g. 1,3,5")
    return ages


def parse_image_size(text: str) -> tuple[int, int]:
    """``"8x8"`` (width x height) or ``"8"`` (square) -> ``(width, height)``."""
    parts = text.lower().split("x")
    try:
        sides = [int(p) for p in parts]
    except ValueError:
        sides = []
    if len(sides) == 1:
        sides *= 2
    if len(sides) != 2:
        raise ValidationError(f"image size {text!r} is not WIDTHxHEIGHT, e.g. 8x8")
    return sides[0], sides[1]


def parse_risks(values: Iterable[str], kind: str) -> tuple[tuple[str, float], ...]:
    """``["compound_x=0.4"]`` -> ``(("compound_x", 0.4),)``; names are checked by validate()."""
    pairs: list[tuple[str, float]] = []
    for value in values:
        name, sep, delta = value.partition("=")
        example = "compound_x=0.3" if kind == "treatment" else "gene_a=0.2"
        try:
            if not sep or not name.strip():
                raise ValueError
            pairs.append((name.strip(), float(delta)))
        except ValueError:
            raise ValidationError(
                f"--{kind}-risk {value!r} is not NAME=DELTA, e.g. --{kind}-risk {example}"
            ) from None
    return tuple(pairs)
