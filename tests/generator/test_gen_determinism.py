"""Same seed and options give byte-identical studies, whatever the number of workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from generator_testlib import tree

from zfish.generator import StudySpec
from zfish.generator.draws import FIELD_CONDITION, FIELD_SEX, uniform
from zfish.generator.engine import Renderer, _pool_context, fish_traits

SMALL = {"hatch_rate": 3, "end": date(2025, 5, 10)}


def test_generating_twice_gives_identical_trees(make_study: Callable[..., Path]) -> None:
    first = tree(make_study("a", **SMALL))
    second = tree(make_study("b", **SMALL))
    assert len(first) > 600
    assert first == second


def test_one_worker_and_two_workers_give_identical_trees(make_study: Callable[..., Path]) -> None:
    spec = {**SMALL, "image_noise": 4.0, "treatment_risk": {"compound_y": 0.2}}
    serial = tree(make_study("serial", workers=1, **spec))
    parallel = tree(make_study("parallel", workers=2, **spec))
    assert serial == parallel


def test_a_different_seed_gives_a_different_study(make_study: Callable[..., Path]) -> None:
    a = tree(make_study("a", **SMALL))
    b = tree(make_study("b", seed=43, **SMALL))
    assert set(a) == set(b)  # same layout...
    data = [k for k in a if k.startswith(("observations/", "images/")) and a[k] is not None]
    differing = sum(a[k] != b[k] for k in data)
    assert differing > 0.9 * len(data)  # ...different content


def test_draws_depend_on_seed_fish_and_field_not_on_call_order() -> None:
    fish = np.arange(1000, dtype=np.uint64)
    whole = uniform(42, FIELD_SEX, fish)
    # Any subset, in any order, gets the same values.
    picked = np.array([999, 3, 500, 3], dtype=np.uint64)
    assert (uniform(42, FIELD_SEX, picked) == whole[[999, 3, 500, 3]]).all()
    assert not (uniform(42, FIELD_CONDITION, fish) == whole).any()
    assert not (uniform(43, FIELD_SEX, fish) == whole).any()
    assert ((whole >= 0.0) & (whole < 1.0)).all()
    spec = StudySpec()
    assert (
        fish_traits(spec, fish[::-1]).condition == fish_traits(spec, fish).condition[::-1]
    ).all()


def test_days_render_the_same_in_any_order() -> None:
    spec = StudySpec(hatch_rate=4)
    forward = [Renderer(spec).render_day(d) for d in range(spec.n_days)]
    renderer = Renderer(spec)
    backward = [renderer.render_day(d) for d in reversed(range(spec.n_days))][::-1]
    assert forward == backward


def test_workers_started_beside_other_threads_give_the_same_tree(
    make_study: Callable[..., Path],
) -> None:
    """With threads alive (e.g. a Spark gateway) workers are not forked; same output."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert _pool_context().get_start_method() != "fork"
        parallel = tree(make_study("threads", workers=2, **SMALL))
    finally:
        stop.set()
        thread.join()
    assert parallel == tree(make_study("serial", workers=1, **SMALL))


def test_workers_chosen_by_measuring_give_the_same_tree(
    make_study: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``zfish generate`` without --workers probes 1, then 2 processes: same bytes as 1 worker."""
    from zfish.generator import engine, generate

    monkeypatch.setattr(engine, "_PROBE_SECONDS", 0.02)  # a probe of a few days, not all of them
    spec = StudySpec(hatch_rate=40, end=date(2025, 5, 20))  # over the pool's 5,000 files
    out = make_study("serial", workers=1, hatch_rate=40, end=date(2025, 5, 20)).parent / "auto"
    report = generate(spec, out, show_progress=False)
    assert "chosen by measuring files/s (1: " in report.worker_choice
    assert report.workers in (1, 2)
    assert tree(out) == tree(out.parent / "serial")
