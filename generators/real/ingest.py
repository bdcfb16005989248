"""The three ingest commands: pairs from a folder or manifest, pairs from a video, pairs from a time-lapse.

Each reads and checks everything first and commits once at the end (see ``pipeline``), so an
unreadable input stops the run with a clear error and leaves the store untouched.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from annotations import PairRecord, Store
from annotations.errors import OmniDiffError
from generators.real.media import MediaError, decode_strict, is_image_file
from generators.real.pipeline import (
    IngestOptions,
    PreparedPair,
    Track,
    build_record,
    duplicate_index,
    no_progress,
    open_target,
    sha256_file,
    write_records,
)
from generators.real.quality import measure, scaled
from generators.real.report import IngestReport
from generators.real.sequence import (
    SAMPLE_SIDE,
    Candidate,
    FrameSample,
    SequenceSettings,
    find_candidates,
    ranked_candidates,
    split_shots,
    usable_frames,
)
from generators.real.sources import _slug, discover


MAX_FRAMES = 10_000_000  # a bound on the read loop; frame counts reported by containers are estimates


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MediaError(f"{path}: cannot read ({exc.strerror or exc})") from None


def ingest_pairs(
    src: Path, options: IngestOptions, track: Track = no_progress, root: Path | None = None
) -> tuple[IngestReport, Store | None]:
    """Pairs from a folder (naming conventions) or a CSV/JSONL manifest (paths relative to ``root``,
    by default the manifest's folder)."""
    target = open_target(options.out)
    found = discover(src, root)
    sources = found.pairs
    index = duplicate_index(target, options.dedupe_against, options.dedupe_distance)
    report = IngestReport("pairs", str(src), options.seed)
    for refused in found.refused:
        report.drop(refused.item, refused.reason, refused.detail)
    if found.refused:
        report.notes.append(f"{len(found.refused)} item(s) not followed (symlinks leading outside {found.root}, "
                            "symlink loops, symlinked folders of the source): listed as dropped")
    records: list[PairRecord] = []
    for item in track(sources, "ingesting pairs", len(sources)):
        data_b, data_a = _read(item.before), _read(item.after)
        before = decode_strict(data_b, str(item.before))
        after = decode_strict(data_a, str(item.after))
        prep = PreparedPair(
            name=item.name,
            scene=item.scene,
            before=before.rgb,
            after=after.rgb,
            before_format=before.source_format,
            after_format=after.source_format,
            content_key=hashlib.sha256(data_b).digest() + hashlib.sha256(data_a).digest(),
            captions=item.captions,
            change_types=item.change_types,
            license=item.license,
            source=item.source,
            setting=item.setting,
            provenance={"source_files": [_relative(item.before, found.root), _relative(item.after, found.root)],
                        "source_had_exif": before.had_exif or after.had_exif},
        )
        rec = build_record(prep, options, index, report)
        if rec is not None:
            records.append(rec)
    return _finish(target, records, report, options)


def _relative(path: Path, root: Path) -> str:
    """The file as the source names it (discovery keeps every file below ``root``)."""
    return path.relative_to(root).as_posix()


def _finish(target: Store | None, records: list[PairRecord], report: IngestReport, options: IngestOptions):
    if not records and target is None:
        report.notes.append("no pair passed the checks; no store was created")
        return report, None
    return report, write_records(target, records, report, options)


# -- video ---------------------------------------------------------------------------------------
def _open_video(path: Path) -> cv2.VideoCapture:
    if not path.is_file():
        raise OmniDiffError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise MediaError(f"{path}: cannot open the video (unreadable or unsupported format)")
    return cap


def _video_samples(path: Path, stride: int, track: Track) -> tuple[list[FrameSample], float, int]:
    cap = _open_video(path)
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        fps = fps if 0 < fps < 1000 else 25.0
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        samples: list[FrameSample] = []
        index = 0
        for _ in track(range(MAX_FRAMES), "reading frames", total):
            wanted = index % stride == 0
            ok, frame = cap.read() if wanted else (cap.grab(), None)  # grab: no colour conversion
            if not ok:
                break
            if wanted:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                samples.append(FrameSample(index, f"frame {index}", scaled(rgb, SAMPLE_SIDE), measure(rgb), index / fps))
            index += 1
    finally:
        cap.release()
    if index == 0:
        raise MediaError(f"{path}: no frame could be decoded (unreadable or empty video)")
    return samples, fps, index


def _video_frames(path: Path, wanted: set[int]) -> dict[int, np.ndarray]:
    """Full-size RGB frames at the given indices, read sequentially (seeking is not frame-exact)."""
    cap = _open_video(path)
    frames: dict[int, np.ndarray] = {}
    try:
        index, last = 0, max(wanted, default=-1)
        while index <= last:  # bounded: index grows every turn
            ok, frame = cap.read() if index in wanted else (cap.grab(), None)
            if not ok:
                break
            if index in wanted:
                frames[index] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            index += 1
    finally:
        cap.release()
    missing = wanted - set(frames)
    if missing:
        raise MediaError(f"{path}: frame {min(missing)} could not be decoded on the second read")
    return frames


def _select(
    candidates: list[Candidate], settings: SequenceSettings, load, make_pair, options: IngestOptions,
    index, report: IngestReport, track: Track,
) -> list[PairRecord]:
    """Build records from the ranked candidates until ``max_pairs`` are kept (duplicates are replaced)."""
    ranked = ranked_candidates(candidates, settings.max_pairs)[: max(settings.max_pairs * 4, settings.max_pairs)]
    frames = load({c.before.index for c in ranked} | {c.after.index for c in ranked})
    records: list[PairRecord] = []
    for cand in track(ranked, "checking candidate pairs", len(ranked)):
        if len(records) >= settings.max_pairs:
            break
        rec = build_record(make_pair(cand, frames), options, index, report)
        if rec is not None:
            records.append(rec)
    return sorted(records, key=lambda r: r.provenance_dict["frames"])


def _remaining_quota(target: Store | None, settings: SequenceSettings, report: IngestReport, same_source) -> SequenceSettings:
    """``max_pairs`` counts the pairs of this video or time-lapse already in the store."""
    if target is None:
        return settings
    cols = target.table(["scene_id", "provenance"]).to_pydict()
    have = sum(1 for scene_id, prov in zip(cols["scene_id"], cols["provenance"]) if same_source(json.loads(prov or "{}"), scene_id))
    if have:
        left = max(0, settings.max_pairs - have)
        report.notes.append(f"the store already holds {have} pair(s) from this source; {left} more allowed (--max-pairs {settings.max_pairs})")
        return replace(settings, max_pairs=left)
    return settings


def ingest_video(
    path: Path, options: IngestOptions, settings: SequenceSettings, sample_every_s: float = 0.5, track: Track = no_progress
) -> tuple[IngestReport, Store | None]:
    """Candidate pairs from one video: static scene apart from a local change, spread over time."""
    target = open_target(options.out)
    if sample_every_s <= 0:
        raise OmniDiffError("--sample-every must be positive")
    cap = _open_video(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    cap.release()
    stride = max(1, round(sample_every_s * (fps if 0 < fps < 1000 else 25.0)))
    digest = sha256_file(path)
    report = IngestReport("video", str(path), options.seed)
    settings = _remaining_quota(target, settings, report, lambda prov, scene_id: prov.get("video_sha256") == digest)
    if settings.max_pairs == 0:
        return _finish(target, [], report, options)
    samples, fps, n_frames = _video_samples(path, stride, track)
    report.stats.update({"frames": n_frames, "fps": round(fps, 3), "sampled": len(samples), "stride": stride})
    index = duplicate_index(target, options.dedupe_against, options.dedupe_distance)
    usable = usable_frames(samples, settings, report)
    shots = split_shots(usable, settings, report)
    report.stats["shots"] = len(shots)
    candidates = find_candidates(shots, settings, report)
    scene = f"video/{_slug(path.stem)}-{digest[:8]}"
    shot_of = {s.index: n for n, shot in enumerate(shots) for s in shot}

    def make_pair(cand: Candidate, frames: dict[int, np.ndarray]) -> PreparedPair:
        i, j = cand.before.index, cand.after.index
        return PreparedPair(
            name=f"{path.name}:{i}-{j}", scene=scene, before=frames[i], after=frames[j],
            before_format="PNG", after_format="PNG",
            content_key=f"video:{digest}:{i}:{j}".encode(), quality_checked=True,
            change_range=(settings.min_area, settings.max_area),
            provenance={"source_files": [path.name], "video_sha256": digest, "frames": [i, j],
                        "times_s": [round(i / fps, 3), round(j / fps, 3)], "fps": round(fps, 3),
                        "shot": shot_of[i], "screened_change_fraction": round(cand.fraction, 5)},
        )

    records = _select(candidates, settings, lambda wanted: _video_frames(path, wanted), make_pair, options, index, report, track)
    return _finish(target, records, report, options)


# -- time-lapse ----------------------------------------------------------------------------------
def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def ingest_timelapse(
    folder: Path, options: IngestOptions, settings: SequenceSettings, track: Track = no_progress
) -> tuple[IngestReport, Store | None]:
    """Pairs across time from a fixed-camera image sequence (file names give the order)."""
    target = open_target(options.out)
    if not folder.is_dir():
        raise OmniDiffError(f"{folder}: no such folder")
    files = sorted((p for p in folder.iterdir() if is_image_file(p)), key=lambda p: _natural_key(p.name))
    if len(files) < 2:
        raise OmniDiffError(f"{folder}: a time-lapse needs at least two images ({len(files)} found)")
    samples: list[FrameSample] = []
    digests: dict[int, str] = {}
    formats: dict[int, str] = {}
    for n, file in enumerate(track(files, "reading images", len(files))):
        data = _read(file)
        image = decode_strict(data, str(file))
        digests[n] = hashlib.sha256(data).hexdigest()
        formats[n] = image.source_format
        samples.append(FrameSample(n, file.name, scaled(image.rgb, SAMPLE_SIDE), measure(image.rgb)))
    report = IngestReport("timelapse", str(folder), options.seed)
    report.stats.update({"images": len(files)})
    index = duplicate_index(target, options.dedupe_against, options.dedupe_distance)
    usable = usable_frames(samples, settings, report)
    shots = split_shots(usable, settings, report)
    report.stats["shots"] = len(shots)
    candidates = find_candidates(shots, settings, report)
    scene = f"timelapse/{_slug(folder.name)}-{digests[0][:8]}"  # the first frame tells two "cam1" folders apart

    def load(wanted: set[int]) -> dict[int, np.ndarray]:
        return {i: decode_strict(_read(files[i]), str(files[i])).rgb for i in sorted(wanted)}

    def make_pair(cand: Candidate, frames: dict[int, np.ndarray]) -> PreparedPair:
        i, j = cand.before.index, cand.after.index
        return PreparedPair(
            name=f"{files[i].name} -> {files[j].name}", scene=scene, before=frames[i], after=frames[j],
            before_format=formats[i], after_format=formats[j],
            content_key=bytes.fromhex(digests[i]) + bytes.fromhex(digests[j]), quality_checked=True,
            change_range=(settings.min_area, settings.max_area),
            provenance={"source_files": [files[i].name, files[j].name], "frames": [i, j],
                        "screened_change_fraction": round(cand.fraction, 5)},
        )

    settings = _remaining_quota(target, settings, report, lambda prov, scene_id: scene_id == scene)
    records = _select(candidates, settings, load, make_pair, options, index, report, track)
    return _finish(target, records, report, options)
