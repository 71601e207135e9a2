"""``orphans``: images without their observation, and observations without their image.

What and when: for each observation (of the study as it stands when this
scenario runs), its JSON is removed with probability ``JSON_RATE`` (0.02,
(seed, fish, ``FIELD_ORPHAN_JSON``, age)), leaving the PNG an orphan image;
otherwise its PNG is removed with probability ``IMAGE_RATE`` (0.02, (seed, fish,
``FIELD_ORPHAN_IMAGE``, age)), leaving an observation without an image. What a
correct pipeline must do: an orphan image makes no row (nothing describes it);
an observation without an image still makes its row in ``joined_fish_data``
(the table holds no pixels), and a training set built from images must skip it.
"""

from __future__ import annotations

from zfish.generator.scenarios.base import (
    FIELD_ORPHAN_IMAGE,
    FIELD_ORPHAN_JSON,
    Tree,
    draw,
    observation_entity,
)

NAME = "orphans"
JSON_RATE = 0.02
IMAGE_RATE = 0.02


def orphan_kind(tree: Tree, image_id: str) -> str | None:
    """``"image"`` (its JSON goes), ``"observation"`` (its PNG goes) or None."""
    fish, age = observation_entity(image_id)
    if draw(tree.spec, FIELD_ORPHAN_JSON, fish, age) < JSON_RATE:
        return "image"
    if draw(tree.spec, FIELD_ORPHAN_IMAGE, fish, age) < IMAGE_RATE:
        return "observation"
    return None


def apply(tree: Tree) -> dict[str, int]:
    images = observations = 0
    for _, day in tree.days():
        for path in tree.observation_files(day):
            kind = orphan_kind(tree, path.stem)
            png = tree.folder("images", day) / (path.stem + ".png")
            if kind == "image" and png.is_file():
                path.unlink()
                images += 1
            elif kind == "observation" and png.is_file():
                png.unlink()
                observations += 1
    return {"images without observation": images, "observations without image": observations}
