"""The seed document's generator loop, kept as the baseline zfish is measured (and checked) against.

This is the seed script's loop line for line, made a function so that the
benchmark can run it in the same process on the same parameters: the output
directory, hatch rate and dates are arguments, and the module-level ``random``
calls go to one ``random.Random`` instance (the same methods, so the same
cost). Nothing else is changed, including its quadratic scan of all fish every
day, ``json.dump`` to a text file and Pillow's ``Image.save``.
"""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timedelta

from PIL import Image


def run_seed_loop(
    output_dir: str,
    fish_hatch_rate: int = 5,
    start_date: datetime = datetime(2025, 4, 1),
    end_date: datetime = datetime(2025, 6, 1),
    seed: int | None = None,
) -> int:
    """Run the seed script's generator into ``output_dir``; return the number of files written."""
    rng = random.Random(seed)
    image_size = (8, 8)
    obs_root = os.path.join(output_dir, "observations")
    img_root = os.path.join(output_dir, "images")
    label_root = os.path.join(output_dir, "outcomes")

    treatments = ["compound_x", "compound_y", "placebo"]
    sexes = ["male", "female"]
    observation_days = [1, 3, 5]
    label_day = 35

    os.makedirs(obs_root, exist_ok=True)
    os.makedirs(img_root, exist_ok=True)
    os.makedirs(label_root, exist_ok=True)

    fish_records: list[dict] = []  # type: ignore[type-arg]
    current_date = start_date
    fish_counter = 0
    outcomes_by_day: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    files = 0

    while current_date <= end_date:
        date_str = current_date.strftime("%Y-%m-%d")
        obs_dir = os.path.join(obs_root, f"day={date_str}")
        img_dir = os.path.join(img_root, f"day={date_str}")
        os.makedirs(obs_dir, exist_ok=True)
        os.makedirs(img_dir, exist_ok=True)

        # Hatch new fish today
        for _ in range(fish_hatch_rate):
            fish_id = f"zfish_{fish_counter:05d}"
            fish_counter += 1
            fish_records.append(
                {
                    "fish_id": fish_id,
                    "hatch_date": current_date,
                    "sex": rng.choice(sexes),
                    "treatment": rng.choice(treatments),
                    "genetic_markers": {
                        "gene_a": bool(rng.getrandbits(1)),
                        "gene_b": bool(rng.getrandbits(1)),
                        "gene_c": bool(rng.getrandbits(1)),
                    },
                    "condition_developed": rng.choice([True, False]),
                }
            )

        for fish in fish_records:
            age_days = (current_date - fish["hatch_date"]).days

            if age_days in observation_days:
                image_id = f"{fish['fish_id']}_{age_days:02d}"

                obs_data = {
                    "fish_id": fish["fish_id"],
                    "image_id": image_id,
                    "timestamp": current_date.isoformat(),
                    "age_days": age_days,
                    "treatment": fish["treatment"],
                    "genetic_markers": fish["genetic_markers"],
                    "length_mm": round(
                        2.0 + 0.5 * age_days + rng.uniform(-0.2, 0.2), 2
                    ),  # simulate growth
                }

                if age_days >= 5:
                    obs_data["sex"] = fish["sex"]

                obs_file = os.path.join(obs_dir, f"{fish['fish_id']}_{age_days:02d}.json")
                with open(obs_file, "w") as f:
                    json.dump(obs_data, f, indent=2)

                if fish["condition_developed"]:
                    # Increase red intensity with age
                    red_base = 150 + int((age_days / 5) * 105)  # maps 1→171, 3→213, 5→255
                    r = min(red_base, 255)
                    g = rng.randint(0, 50)
                    b = rng.randint(0, 50)
                else:
                    r = rng.randint(200, 255)
                    g = rng.randint(200, 255)
                    b = rng.randint(200, 255)

                img = Image.new("RGB", image_size, color=(r, g, b))
                img.save(os.path.join(img_dir, f"{image_id}.png"))
                files += 2

            if age_days == label_day:
                label_day_str = current_date.strftime("%Y-%m-%d")
                if label_day_str not in outcomes_by_day:
                    outcomes_by_day[label_day_str] = []

                outcomes_by_day[label_day_str].append(
                    {
                        "fish_id": fish["fish_id"],
                        "condition_developed": fish["condition_developed"],
                    }
                )

        current_date += timedelta(days=1)

    # Write outcome files
    for day_str, outcome_list in outcomes_by_day.items():
        label_dir = os.path.join(label_root, f"day={day_str}")
        os.makedirs(label_dir, exist_ok=True)
        with open(os.path.join(label_dir, "outcomes.json"), "w") as f:
            json.dump(outcome_list, f, indent=2)
        files += 1

    return files
