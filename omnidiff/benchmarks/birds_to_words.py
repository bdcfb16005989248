"""Birds-to-Words (Forbes, Kaeser-Chen, Sharma and Belongie, EMNLP 2019, "Neural Naturalist"): paragraphs on how
two bird photographs differ. One of M3Diff's six training sources; a training source only here (the OmniDiff
paper does not evaluate on it, so there is no protocol to reproduce).

Native layout (google-research-datasets/birds-to-words): ``birds-to-words-v1.0.tsv``, tab-separated, eleven
columns ``img1ObservationURL img1ImgURL img1Species img1Selection img2ObservationURL img2ImgURL img2Species
img2Selection split annN description``, one row per description (up to five per pair), with or without the
header line. The photographs are iNaturalist URLs: download each into ``images/<photo id>.jpg`` (``.jpeg`` or
``.png`` also found), the photo id being the number after ``/photos/`` in the image URL. Pair id:
``<left photo id>-<right photo id>``; every description of a pair is one reference.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

from omnidiff.benchmarks.base import Benchmark, BenchmarkError, PlannedPair, safe_path

TSV = "birds-to-words-v1.0.tsv"
COLUMNS = ("img1ObservationURL", "img1ImgURL", "img1Species", "img1Selection", "img2ObservationURL", "img2ImgURL",
           "img2Species", "img2Selection", "split", "annN", "description")
SPLITS = {"train": "train", "val": "val", "test": "test"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PHOTO_ID = re.compile(r"/photos/(\d+)(?:/|$)")


def photo_id(url: str) -> str:
    """iNaturalist's photo number, or a short hash of a URL that has none (still a stable file name)."""
    found = PHOTO_ID.search(url)
    return found.group(1) if found else hashlib.sha1(url.encode()).hexdigest()[:16]


def locate(source: Path, photo: str, where: str) -> Path:
    candidates = [safe_path(source / "images", photo + suffix, where) for suffix in IMAGE_SUFFIXES]
    return next((c for c in candidates if c.is_file()), candidates[0])


def read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"{path}: cannot read the Birds-to-Words table ({exc})") from None
    if rows and tuple(rows[0]) == COLUMNS:
        rows = rows[1:]
    entries = []
    for number, row in enumerate(rows, start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(COLUMNS):
            raise BenchmarkError(f"{path}: row {number} has {len(row)} columns, expected the {len(COLUMNS)} of {TSV}")
        entries.append(dict(zip(COLUMNS, row)))
    return entries


class BirdsToWords(Benchmark):
    name = "birds_to_words"
    title = "Birds-to-Words (fine-grained comparisons of bird photographs)"
    citation = ("Forbes, Kaeser-Chen, Sharma and Belongie. Neural Naturalist: Generating Fine-Grained Image "
                "Comparisons. EMNLP 2019.")
    url = "https://github.com/google-research-datasets/birds-to-words"
    split_sizes: dict[str, int] = {}
    sizes_note = "about 3.3K pairs with 16K descriptions (Forbes et al. 2019); a training source only"
    protocol = "training source only (M3Diff's mixture); every description of a pair a reference"
    short_title = "Birds-to-Words"
    headline_note = "not evaluated here: a training source"
    source_hint = "a checkout of google-research-datasets/birds-to-words with the photographs in images/"
    prompt = ("The first image shows one bird and the second image another. Describe in a few sentences how the "
              "second bird differs from the first in its colours, markings, shape and size.")
    training_only = True

    def plan(self, source: Path, splits: list[str]) -> list[PlannedPair]:
        path = source / TSV
        if not path.is_file():
            raise BenchmarkError(f"{source}: {TSV} not found")
        pairs: dict[str, PlannedPair] = {}
        for number, row in enumerate(read_rows(path), start=1):
            where = f"{path}: row {number}"
            split = row["split"].strip()
            if split not in SPLITS:
                raise BenchmarkError(f"{where}: split {split!r} is none of train, val, test")
            if split not in splits:
                continue
            description = row["description"].strip()
            left, right = photo_id(row["img1ImgURL"].strip()), photo_id(row["img2ImgURL"].strip())
            pair_id = f"{left}-{right}"
            pair = pairs.get(pair_id)
            if pair is None:
                pair = pairs[pair_id] = PlannedPair(
                    pair_id=pair_id, scene_id=pair_id, split=split, before=locate(source, left, where),
                    after=locate(source, right, where), captions=[], domain="real", setting="birds",
                    provenance={"importer": self.name, "native_split": split, "annotation_file": TSV,
                                "img1": row["img1ImgURL"], "img2": row["img2ImgURL"],
                                "img1_observation": row["img1ObservationURL"], "img2_observation": row["img2ObservationURL"],
                                "species": [row["img1Species"], row["img2Species"]],
                                "selection": [row["img1Selection"], row["img2Selection"]]},
                    license="annotations: see google-research-datasets/birds-to-words; photographs: each under its "
                            "own iNaturalist licence (observation URLs in provenance)",
                    source=self.url,
                )
            elif pair.split != split:
                raise BenchmarkError(f"{where}: pair {pair_id} is in both {pair.split} and {split}")
            if description:
                pair.captions.append(description)
        return [pair for pair in pairs.values() if pair.captions]
