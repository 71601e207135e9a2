"""``corrupt``: truncated JSON, wrong types, a UTF-8 BOM, empty files and stray non-JSON files.

What and when: each observation file (as the study stands when this scenario
runs, the last) is damaged with probability ``RATE`` (0.01, (seed, fish,
``FIELD_CORRUPT``, age)) in one of four ways, chosen evenly ((seed, fish,
``FIELD_CORRUPT_KIND``, age)): ``truncated`` (only the first half of its bytes),
``wrong-type`` (``length_mm`` written as a string, ``"2.51 mm"``), ``bom`` (a
UTF-8 byte-order mark before the JSON) or ``empty`` (0 bytes). Each day's
observation partition also gets a stray file ``STRAY_NAME`` (``notes.txt``,
not JSON) with probability ``STRAY_RATE`` (0.05, (seed, day, ``FIELD_STRAY``)).
What a correct pipeline must do: a BOM is not content (``jq -c .`` drops it;
the record is good); a wrong-typed record is rejected naming ``length_mm``;
a truncated or empty file is no record: ``zfish upload`` (like the seed's
``jq`` step) refuses its whole partition with the file's name, so that day's
observations are not delivered until it is fixed; a stray file is copied as it
is and is never read as a record (it is not ``*.json``).
"""

from __future__ import annotations

from zfish.generator.scenarios.base import (
    FIELD_CORRUPT,
    FIELD_CORRUPT_KIND,
    FIELD_STRAY,
    Tree,
    draw,
    draw_int,
    observation_entity,
    write,
)

NAME = "corrupt"
RATE = 0.01
KINDS = ("truncated", "wrong-type", "bom", "empty")
STRAY_RATE = 0.05
STRAY_NAME = "notes.txt"
STRAY_TEXT = b"delivered by the lab's sync job; ask the lab before deleting\n"
BOM = b"\xef\xbb\xbf"


def damage(tree: Tree, image_id: str) -> str | None:
    """How the observation file of ``image_id`` is damaged, or None."""
    fish, age = observation_entity(image_id)
    if draw(tree.spec, FIELD_CORRUPT, fish, age) >= RATE:
        return None
    return KINDS[draw_int(tree.spec, FIELD_CORRUPT_KIND, fish, 0, len(KINDS) - 1, age)]


def damaged(kind: str, data: bytes) -> bytes:
    if kind == "truncated":
        return data[: len(data) // 2]
    if kind == "wrong-type":
        head, sep, tail = data.partition(b'"length_mm": ')
        number, comma, rest = tail.partition(b"\n")
        number = number.rstrip(b",")
        end = b"," if tail.split(b"\n", 1)[0].endswith(b",") else b""
        return head + sep + b'"' + number + b' mm"' + end + comma + rest
    if kind == "bom":
        return BOM + data
    return b""


def apply(tree: Tree) -> dict[str, int]:
    counts = dict.fromkeys(KINDS, 0)
    strays = 0
    for d, day in tree.days():
        folder = tree.folder("observations", day)
        for path in tree.observation_files(day):
            kind = damage(tree, path.stem)
            if kind is not None:
                write(path, damaged(kind, path.read_bytes()))
                counts[kind] += 1
        if folder.is_dir() and draw(tree.spec, FIELD_STRAY, d) < STRAY_RATE:
            write(folder / STRAY_NAME, STRAY_TEXT)
            strays += 1
    return {**counts, "stray files": strays}
