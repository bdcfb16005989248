"""From decoded before/after images to stored pair records: checks, de-duplication, privacy,
alignment, proposed masks, scene splits, one atomic append.

Nothing is written until every input has been read and checked, so bad input leaves the store as it
was (a new ``--out`` folder is not even created).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from annotations import PairRecord, Store
from annotations.errors import OmniDiffError, file_in_the_way
from annotations.splits import assign_splits
from annotations.schema import decode_image
from annotations.layout import MANIFEST
from generators.real.align import register
from generators.real.media import encode_clean, encode_mask
from generators.real.privacy import blur_faces_in_pair
from generators.real.proposals import propose_change_mask
from generators.real.quality import DuplicateIndex, QualityThresholds, hash_hex, measure, phash
from generators.real.report import IngestReport

GENERATOR = "omnidiff.generators.real"
GENERATOR_VERSION = "1"
T = TypeVar("T")
Track = Callable[[Iterable[T], str, int], Iterable[T]]


def no_progress(items: Iterable[T], description: str, total: int) -> Iterable[T]:
    return items


@dataclass
class IngestOptions:
    """Settings shared by ``ingest pairs``, ``ingest video`` and ``ingest timelapse``."""

    out: Path
    seed: int = 0
    split: str | None = None
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    setting: str | None = None
    license: str | None = None
    source: str | None = None
    align: bool = True
    propose: bool = True
    blur_faces: bool = False
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    dedupe_against: list[Path] = field(default_factory=list)
    dedupe_distance: int = 6

    def __post_init__(self) -> None:  # refuse bad settings before any work is done
        from annotations.schema import SPLITS

        if self.split is not None and self.split not in SPLITS:
            raise OmniDiffError(f"--split {self.split!r}: choose one of {', '.join(SPLITS)}")
        for flag, text in (("--setting", self.setting), ("--license", self.license), ("--source", self.source)):
            try:
                (text or "").encode("utf-8")
            except UnicodeEncodeError:
                raise OmniDiffError(f"{flag} {text!r} is not valid UTF-8 text") from None
        for other in self.dedupe_against:
            if not (Path(other) / MANIFEST).is_file():
                raise OmniDiffError(f"--dedupe-against {other}: not a store ({MANIFEST} is missing)")


@dataclass
class PreparedPair:
    """A decoded pair waiting for checks; ``content_key`` fixes its pair id."""

    name: str
    scene: str
    before: np.ndarray
    after: np.ndarray
    before_format: str
    after_format: str
    content_key: bytes
    captions: list[str] = field(default_factory=list)
    change_types: list[str] = field(default_factory=list)
    license: str | None = None
    source: str | None = None
    setting: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    quality_checked: bool = False  # frames from a video were checked already
    change_range: tuple[float, float] | None = None  # for frame pairs: the proposed change must lie in it


def pair_id_for(content_key: bytes) -> str:
    return "real-" + hashlib.sha256(content_key).hexdigest()[:16]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def open_target(out: Path) -> Store | None:
    """The existing store at ``out``, or None when it is to be created; refuses anything else early."""
    if (out / MANIFEST).is_file():
        return Store.open(out)
    blocker = file_in_the_way(out)
    if blocker is not None:  # said now, not after every image has been read
        raise OmniDiffError(f"--out {out}: {blocker} is a file, not a folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OmniDiffError(f"{out}: exists and is neither a store nor an empty folder; choose a new --out")
    return None


def _stored_hashes(store: Store) -> Iterable[tuple[int, int, str]]:
    for rec in store.records(columns=["pair_id", "provenance", "image_before", "image_after"]):
        hashes = rec.provenance_dict.get("phash") or {}
        try:
            hb = int(hashes["before"], 16)
            ha = int(hashes["after"], 16)
        except (KeyError, TypeError, ValueError):
            if rec.image_before is None or rec.image_after is None:
                continue
            hb = phash(np.asarray(decode_image(rec.image_before).convert("RGB")))
            ha = phash(np.asarray(decode_image(rec.image_after).convert("RGB")))
        yield hb, ha, rec.pair_id


def duplicate_index(target: Store | None, others: list[Path], distance: int) -> DuplicateIndex:
    """Hashes of the pairs already in the target store and in the stores given to compare against."""
    index = DuplicateIndex(distance)
    stores = ([target] if target is not None else []) + [Store.open(p) for p in others]
    for store in stores:
        for hb, ha, pid in _stored_hashes(store):
            index.add(hb, ha, f"{pid} in {store.root}")
    return index


def build_record(prep: PreparedPair, options: IngestOptions, index: DuplicateIndex, report: IngestReport) -> PairRecord | None:
    """Checks, privacy, alignment and proposal for one pair; None (and a report line) when dropped."""
    quality = {"before": measure(prep.before), "after": measure(prep.after)}
    if not prep.quality_checked:
        for side, q in quality.items():
            problem = q.problem(options.quality)
            if problem is not None:
                report.drop(prep.name, problem.split(" ")[0], f"{side} image {problem}")
                return None
    hb, ha = phash(prep.before), phash(prep.after)
    twin = index.find(hb, ha)
    if twin is not None:
        report.drop(prep.name, "near_duplicate", f"same as {twin}")
        return None
    pid = pair_id_for(prep.content_key)

    before, after = prep.before, prep.after
    provenance: dict[str, Any] = {
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "name": prep.name,
        "phash": {"before": hash_hex(hb), "after": hash_hex(ha)},
        "quality": {side: q.as_dict() for side, q in quality.items()},
        "exif_stripped": True,
        "seed": options.seed,
    }
    provenance.update(prep.provenance)
    if options.blur_faces:
        before, after, faces = blur_faces_in_pair(before, after)
        provenance["faces_blurred"] = faces
    mask_after = None
    if options.align:
        alignment = register(before, after)
        provenance["transform"] = alignment.as_provenance(after.shape[1], after.shape[0])
        if options.propose and (alignment.ok or before.shape == after.shape):
            proposal = propose_change_mask(before, after, alignment.matrix)
            mask_after = encode_mask(proposal.mask)
            provenance["mask"] = "proposed"
            provenance["proposed_change_fraction"] = round(proposal.fraction, 5)
            provenance["proposed_boxes"] = [list(b) for b in proposal.boxes[:16]]
            if prep.change_range is not None and not prep.change_range[0] <= proposal.fraction <= prep.change_range[1]:
                report.drop(prep.name, "no_local_change", f"full-size change area {proposal.fraction:.2%} is outside "
                            f"{prep.change_range[0]:.2%}..{prep.change_range[1]:.2%}")
                return None
    elif options.propose and before.shape == after.shape:
        proposal = propose_change_mask(before, after, None)
        mask_after = encode_mask(proposal.mask)
        provenance["mask"] = "proposed"
        provenance["proposed_change_fraction"] = round(proposal.fraction, 5)
    if not prep.captions:
        provenance["awaiting_annotation"] = True
    index.add(hb, ha, f"{pid} ({prep.name})")
    return PairRecord(
        pair_id=pid,
        scene_id=prep.scene,
        benchmark="omnidiff",
        split="train",  # replaced by the scene split once every pair is known
        domain="real",
        setting=prep.setting or options.setting or "unknown",
        image_before=encode_clean(before, prep.before_format),
        image_after=encode_clean(after, prep.after_format),
        captions=list(prep.captions),
        change_types=list(prep.change_types),
        mask_after=mask_after,
        provenance=provenance,
        license=prep.license or options.license,
        source=prep.source or options.source,
    )


def _known_scene_splits(store: Store | None) -> dict[str, str]:
    if store is None:
        return {}
    cols = store.table(["scene_id", "split"]).to_pydict()
    return dict(zip(cols["scene_id"], cols["split"]))


def _remove_new_store(out: Path, keep_folder: bool) -> None:
    """Undo ``Store.create`` of an append that failed; an empty folder the user made stays."""
    shutil.rmtree(out, ignore_errors=True)
    if keep_folder:
        out.mkdir(exist_ok=True)


def write_records(
    target: Store | None, records: list[PairRecord], report: IngestReport, options: IngestOptions
) -> Store:
    """Assign scene splits, append all records as one commit, then record the report in ``info``."""
    splits = assign_splits(
        [r.scene_id for r in records], options.seed, options.split_ratios, options.split, _known_scene_splits(target)
    )
    for rec in records:
        rec.split = splits[rec.scene_id]
        prov = rec.provenance_dict
        prov["split_seed"] = options.seed
        rec.provenance = json.dumps(prov, sort_keys=True, ensure_ascii=False)
    existed = options.out.exists()
    store = target if target is not None else Store.create(options.out, name=options.out.name)
    try:
        store.append(records)
    except BaseException:
        if target is None:  # a store this run created holds nothing else: leave no empty store behind
            _remove_new_store(options.out, existed)
        raise
    report.kept = [r.pair_id for r in records]
    report.stats["splits"] = {s: sum(1 for r in records if r.split == s) for s in sorted(set(splits.values()))}
    history = list(store.info.get("ingest_reports", []))
    history.append(report.as_dict())
    store.update_info(ingest_reports=history)
    return store
