"""The command line: one Typer app, ``omnidiff ...``. It parses, calls and prints; no logic here.

Exit codes: 0 success, 1 a failure the user can fix (one line, no traceback), 2 bad usage.
Heavy modules are imported inside the commands so that ``omnidiff --help`` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from annotations.errors import OmniDiffError, describe_os_error

app = typer.Typer(
    name="omnidiff",
    help="Image difference captioning toolkit: render, ingest, annotate, score, evaluate, publish.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)


def emit_json(data: object) -> None:
    """Machine-readable output goes to stdout unwrapped (rich would wrap long lines)."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


DATA_ROOT_OPTION = typer.Option(None, "--data-root", help="Where stores are put and found by default "
                                "(default: $OMNIDIFF_DATA, else data/).")


def _default_store(out: Optional[Path], root: Optional[Path], where) -> Path:
    """``--out`` when given, else the command's folder under the data root (``where(root) -> Path``)."""
    from annotations.data_root import data_root

    return out if out is not None else where(data_root(root))


# ---------------------------------------------------------------------------------------------
# Data layer (annotations/): validate, stats, show, publish
# ---------------------------------------------------------------------------------------------
@app.command()
def validate(
    store: Path = typer.Argument(..., help="Store folder."),
    no_images: bool = typer.Option(False, "--no-images", help="Skip decoding the images (faster)."),
) -> None:
    """Full integrity check of a store; one line per problem; exit 1 if any. Never modifies it."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from annotations.validate import validate_store

    with Progress(TextColumn("validate"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("validate", total=None)
        report = validate_store(store, check_images=not no_images,
                                progress=lambda done, total: bar.update(task, completed=done, total=total))
    for note in report.notes:
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    for problem in report.problems:
        console.print(problem, highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)
    console.print(f"ok: {store} ({report.pairs} pairs, {len(report.notes)} notes)", highlight=False)


@app.command()
def compact(store: Path = typer.Argument(..., help="Store folder.")) -> None:
    """Rewrite small shards into large ones (~1 GiB of images each), atomically; upgrades a version-1 store."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from annotations.compact import compact_store

    with Progress(TextColumn("compact"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("compact", total=None)
        summary = compact_store(store, progress=lambda done, total: bar.update(task, completed=done, total=total))
    upgraded = f"; upgraded from schema version {summary.upgraded_from}" if summary.upgraded_from else ""
    console.print(f"compacted {store}: {summary.shards_before} shards -> {summary.shards_after} "
                  f"({summary.rows} pairs){upgraded}", highlight=False, soft_wrap=True)


@app.command()
def merge(
    stores: List[Path] = typer.Argument(..., help="Stores to join, e.g. the parts of `render --shard I/N` from several machines."),
    out: Path = typer.Option(..., "--out", help="The new store (absent or an empty folder); written atomically."),
) -> None:
    """Join stores of one schema version (and generator version) into a new one; annotation logs come along."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from annotations.merge import merge_stores

    with Progress(TextColumn("merge"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task("merge", total=None)
        summary = merge_stores(stores, out, progress=lambda done, total: bar.update(task, completed=done, total=total))
    left = f", {summary.log_left_out} left out" if summary.log_left_out else ""
    console.print(f"merged {summary.stores} stores into {out}: {summary.pairs} pairs in {summary.shards} shards, "
                  f"{summary.log_entries} annotation entries{left} (omnidiff compact {out} joins small shards)",
                  highlight=False, soft_wrap=True)


@app.command()
def stats(
    store: Path = typer.Argument(..., help="Store folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Pairs by split x domain x change type, pairs per scene, caption lengths, image sizes."""
    from annotations.stats import compute_stats, render_stats

    result = compute_stats(store)
    if as_json:
        emit_json(result)
    else:
        render_stats(result, console)


@app.command()
def show(
    store: Path = typer.Argument(..., help="Store folder."),
    out: Path = typer.Option(Path("sheet.png"), "--out", help="Image file to write: .png, or .jpg/.jpeg for JPEG."),
    n: int = typer.Option(8, "--n", "-n", min=1, max=200, help="How many pairs."),
    split: Optional[str] = typer.Option(None, "--split"),
    change_type: Optional[str] = typer.Option(None, "--change-type"),
    seed: int = typer.Option(0, "--seed", help="Seed of the pair sample."),
    width: int = typer.Option(240, "--thumb-width", min=32, max=1024, help="Width of one image cell."),
    setting: Optional[str] = typer.Option(None, "--setting", help="Only pairs of this setting (indoor, outdoor, tabletop...)."),
    one_per_type: bool = typer.Option(False, "--one-per-type", help="One pair per change type (seeded pick), in taxonomy order."),
) -> None:
    """Contact sheet: before | after | change mask over after | primary caption."""
    from annotations.contact_sheet import make_contact_sheet

    count = make_contact_sheet(store, out, n=n, split=split, change_type=change_type, seed=seed, thumb_width=width,
                               setting=setting, one_per_type=one_per_type)
    console.print(f"wrote {out} ({count} pairs)", highlight=False)


@app.command()
def publish(
    store: Path = typer.Argument(..., help="Store folder."),
    repo: str = typer.Option(..., "--repo", help="Hub dataset repository, ORG/NAME."),
    dry_run: Optional[Path] = typer.Option(None, "--dry-run", help="Write the repository folder here; upload nothing."),
    private: bool = typer.Option(False, "--private"),
    license: str = typer.Option("cc-by-4.0", "--license", help="License id for the dataset card."),
) -> None:
    """Push a store to the Hugging Face Datasets hub with a dataset card (token from the environment)."""
    from annotations.publish import publish_store

    result = publish_store(store, repo, dry_run=dry_run, private=private, license=license)
    console.print(result, highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Synthetic generator (generators/synthetic/): render, export
# ---------------------------------------------------------------------------------------------
@app.command()
def render(
    scenes: int = typer.Option(..., "--scenes", min=1, help="Number of scenes (scene indices 0..N-1)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Store folder (created, or resumed when it exists); "
                                       "default: <data root>/<preset>-render, e.g. data/omnidiff-render."),
    data_root: Optional[Path] = DATA_ROOT_OPTION,
    preset: str = typer.Option("omnidiff", "--preset", help="omnidiff, clevr-change or clevr-dc."),
    setting: Optional[str] = typer.Option(None, "--setting", help="indoor, outdoor, tabletop, comma-separated, in equal shares (omnidiff default: indoor,outdoor; CLEVR presets: tabletop)."),
    profile: str = typer.Option("preview", "--profile", help="test (tiny), preview (480x320, 16 spp, OIDN) or release (256+ spp, adaptive, GPU if found)."),
    pairs_per_scene: Optional[int] = typer.Option(None, "--pairs-per-scene", help="Pairs per scene (default: omnidiff one per change type, clevr-change 2, clevr-dc 1)."),
    changes_per_pair: int = typer.Option(1, "--changes-per-pair", help="Changes in one pair (omnidiff preset), each recorded."),
    seed: int = typer.Option(0, "--seed", help="Run seed: same seed, profile and bpy version give the same pairs and bytes."),
    split: Optional[str] = typer.Option(None, "--split", help="Force one split (train/val/test) for all scenes."),
    split_ratios: str = typer.Option("0.8,0.1,0.1", "--split-ratios", help="Train,val,test shares when --split is not given (by scene)."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Blender worker processes (local, default 1); scenes in flight at most (ray, default: as many as the cluster's CPUs run)."),
    shard: Optional[str] = typer.Option(None, "--shard", help="I/N: render only scenes with index % N == I."),
    backend: str = typer.Option("local", "--backend", help="local (worker processes here) or ray (each scene a Ray task; pip install 'omnidiff[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --backend ray: a running cluster (auto, HOST:PORT); default: start a local Ray."),
    scenes_per_worker: int = typer.Option(25, "--scenes-per-worker", min=1, help="Recycle a Blender process after this many scenes."),
    append_every: float = typer.Option(60.0, "--append-every", min=0.1, help="Seconds between appends of finished scenes (also every 256 MiB of images); a kill loses at most this much."),
) -> None:
    """Render synthetic pairs with Blender into a store: rooms, streets or tabletops; rerun to resume.

    Change types: viewpoint, illumination, addition, disappearance, removal, substitution, size,
    color, orientation, counting, text, plus movement and material. Pose is not rendered yet: it
    needs the articulated human figures that come with the people-and-assets issue.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from annotations.data_root import render_store
    from annotations.splits import parse_split_ratios
    from generators.synthetic.plan import normalise_preset
    from generators.synthetic.run import RenderOptions, parse_shard
    from generators.synthetic.run import render as render_scenes

    out = _default_store(out, data_root, lambda root: render_store(root, normalise_preset(preset)))
    opts = RenderOptions(
        out=out, scenes=scenes, preset=preset, setting=setting, profile=profile, seed=seed, pairs_per_scene=pairs_per_scene,
        changes_per_pair=changes_per_pair, split=split, split_ratios=parse_split_ratios(split_ratios), workers=workers,
        shard=parse_shard(shard), scenes_per_worker=scenes_per_worker, backend=backend, ray_address=ray_address,
        append_seconds=append_every,
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("scenes"),
               TextColumn("{task.fields[pairs]} pairs, {task.fields[rate]} pairs/h"), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, console=err_console, transient=False) as progress:
        summary = render_scenes(opts, progress)
    console.print(
        f"rendered {summary.rendered_scenes} scenes ({summary.pairs} pairs), skipped {summary.skipped_scenes} "
        f"already stored, {len(summary.failed)} failed -> {out}",
        highlight=False, soft_wrap=True,
    )
    for scene_id, reason in summary.failed.items():
        err_console.print(f"failed: {scene_id}: {reason}", highlight=False, soft_wrap=True, markup=False)
    if summary.failed:
        attempted = summary.rendered_scenes + len(summary.failed)
        raise OmniDiffError(f"{len(summary.failed)} of {attempted} scene(s) failed (reasons above; the others are "
                            "stored): rerun the same command to retry them")


@app.command()
def export(
    store: Path = typer.Argument(..., help="Store folder."),
    fmt: str = typer.Option("clevr-change", "--format", help="clevr-change or clevr-dc (the benchmarks' own layouts), "
                            "or lmms-eval (a task folder for lmms-eval's --include_path)."),
    out: Path = typer.Option(..., "--out", help="New folder to write (written whole or not at all)."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark", help="lmms-eval: the benchmark to export when the "
                                            "store holds several."),
) -> None:
    """Write a store in another project's layout (CLEVR-Change's release, hsgkim/clevr-dc's, an lmms-eval task)."""
    from omnidiff.benchmarks.exports import export_store

    from annotations import Store

    with err_console.status(f"exporting {store} as {fmt}"):
        summary = export_store(store, fmt, out, benchmark)
    changed = Store.open(store).annotation_changes()  # the export holds the annotated values
    note = f"; the annotation log changed {changed} pairs of the store" if changed else ""
    console.print(f"wrote {summary.items} items to {summary.out}; skipped: {summary.skipped_text()}{note}",
                  highlight=False, soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Real pairs (generators/real/): ingest, annotate
# ---------------------------------------------------------------------------------------------
ingest_app = typer.Typer(help="Real-world pairs into a store: photo pairs, videos, time-lapses.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")

_REAL_OUT = typer.Option(None, "--out", help="Store folder (created, or pairs added to an existing store); "
                         "default: <data root>/real, e.g. data/real.")
_REAL_SEED = typer.Option(0, "--seed", help="Seed of the scene split.")
_REAL_SPLIT = typer.Option(None, "--split", help="Put every new scene in this split (train/val/test).")
_REAL_RATIOS = typer.Option("0.8,0.1,0.1", "--split-ratios", help="train,val,test shares of new scenes.")
_REAL_SETTING = typer.Option(None, "--setting", help="Setting of the pairs (indoor, outdoor, street...); default unknown.")
_REAL_LICENSE = typer.Option(None, "--license", help="License of the source material.")
_REAL_SOURCE = typer.Option(None, "--source", help="Where the material came from (URL or description).")
_REAL_ALIGN = typer.Option(True, "--align/--no-align", help="Register after onto before (stored as a transform only).")
_REAL_PROPOSE = typer.Option(True, "--propose/--no-propose", help="Store a proposed change mask (marked as proposed).")
_REAL_FACES = typer.Option(False, "--blur-faces", help="Blur faces found by OpenCV's bundled detector.")
_REAL_SHARP = typer.Option(40.0, "--min-sharpness", help="Least variance of the Laplacian (blur check).")
_REAL_DEDUPE = typer.Option(None, "--dedupe-against", help="Another store whose pairs count as duplicates (repeatable).")
_REAL_DEDUPE_BITS = typer.Option(6, "--dedupe-distance", min=0, max=32, help="Perceptual-hash bits within which pairs are duplicates.")
_REAL_JSON = typer.Option(False, "--json", help="Print the report as JSON.")
_REAL_MAX_PAIRS = typer.Option(5, "--max-pairs", min=1, help="At most this many pairs per video or time-lapse.")
_REAL_MIN_AREA = typer.Option(0.005, "--min-area", min=0.0, max=1.0, help="Least changed share of the frame.")
_REAL_MAX_AREA = typer.Option(0.25, "--max-area", min=0.0, max=1.0, help="Largest changed share of the frame.")


def _real_track(items, description: str, total: int):
    """A rich progress bar on stderr (ingest runs can take minutes on long videos)."""
    from rich.progress import track

    return track(items, description=description, total=total or None, console=err_console, transient=True)


def _real_options(out, seed, split, ratios, setting, license, source, align, propose, faces, sharp, dedupe, bits,
                  root=None):
    from annotations.data_root import real_store
    from generators.real.pipeline import IngestOptions
    from generators.real.quality import QualityThresholds
    from annotations.splits import parse_split_ratios

    return IngestOptions(
        out=_default_store(out, root, real_store), seed=seed, split=split, split_ratios=parse_split_ratios(ratios),
        setting=setting, license=license,
        source=source, align=align, propose=propose, blur_faces=faces,
        quality=QualityThresholds(min_sharpness=sharp), dedupe_against=list(dedupe or []), dedupe_distance=bits,
    )


def _real_sequence(max_pairs: int, min_area: float, max_area: float, sharp: float):
    from generators.real.quality import QualityThresholds
    from generators.real.sequence import SequenceSettings

    if min_area >= max_area:
        raise OmniDiffError(f"--min-area {min_area} must be below --max-area {max_area}")
    return SequenceSettings(max_pairs=max_pairs, min_area=min_area, max_area=max_area,
                            quality=QualityThresholds(min_sharpness=sharp))


def _real_print_report(report, store, as_json: bool) -> None:
    if as_json:
        emit_json(report.as_dict())
        return
    from rich.table import Table

    reasons = ", ".join(f"{k} {v}" for k, v in report.reasons().items()) or "none"
    where = store.root if store is not None else "(no store written)"
    console.print(f"kept {len(report.kept)} pairs in {where}; dropped {len(report.dropped)}: {reasons}", highlight=False)
    if report.dropped:
        table = Table("dropped", "reason", "detail")
        for d in report.dropped[:50]:
            table.add_row(d.item, d.reason, d.detail)
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)


@ingest_app.command("pairs")
def ingest_pairs_cmd(
    src: Path = typer.Argument(..., help="Folder of pairs (X_before/X_after, X/X_2, before/ + after/) or a .csv/.jsonl manifest."),
    out: Optional[Path] = _REAL_OUT, data_root: Optional[Path] = DATA_ROOT_OPTION, seed: int = _REAL_SEED, split: Optional[str] = _REAL_SPLIT, split_ratios: str = _REAL_RATIOS,
    setting: Optional[str] = _REAL_SETTING, license: Optional[str] = _REAL_LICENSE, source: Optional[str] = _REAL_SOURCE,
    align: bool = _REAL_ALIGN, propose: bool = _REAL_PROPOSE, blur_faces: bool = _REAL_FACES,
    min_sharpness: float = _REAL_SHARP, dedupe_against: Optional[List[Path]] = _REAL_DEDUPE,
    dedupe_distance: int = _REAL_DEDUPE_BITS, as_json: bool = _REAL_JSON,
    root: Optional[Path] = typer.Option(None, "--root", help="Folder a manifest's paths are relative to (default: the manifest's folder); nothing outside it is read."),
) -> None:
    """Ingest photographed or scraped before/after pairs; EXIF is stripped, nothing is warped."""
    from generators.real.ingest import ingest_pairs

    options = _real_options(out, seed, split, split_ratios, setting, license, source, align, propose, blur_faces,
                            min_sharpness, dedupe_against, dedupe_distance, data_root)
    report, store = ingest_pairs(src, options, _real_track, root=root)
    _real_print_report(report, store, as_json)


@ingest_app.command("video")
def ingest_video_cmd(
    file: Path = typer.Argument(..., help="Video file (any format OpenCV reads)."),
    out: Optional[Path] = _REAL_OUT, data_root: Optional[Path] = DATA_ROOT_OPTION, max_pairs: int = _REAL_MAX_PAIRS,
    sample_every: float = typer.Option(0.5, "--sample-every", help="Seconds between analysed frames."),
    min_area: float = _REAL_MIN_AREA, max_area: float = _REAL_MAX_AREA,
    seed: int = _REAL_SEED, split: Optional[str] = _REAL_SPLIT, split_ratios: str = _REAL_RATIOS,
    setting: Optional[str] = _REAL_SETTING, license: Optional[str] = _REAL_LICENSE, source: Optional[str] = _REAL_SOURCE,
    blur_faces: bool = _REAL_FACES, min_sharpness: float = _REAL_SHARP,
    dedupe_against: Optional[List[Path]] = _REAL_DEDUPE, dedupe_distance: int = _REAL_DEDUPE_BITS, as_json: bool = _REAL_JSON,
) -> None:
    """Pairs from a video: static scene apart from a local change, no cut, no blur, spread over time."""
    from generators.real.ingest import ingest_video

    options = _real_options(out, seed, split, split_ratios, setting, license, source, True, True, blur_faces,
                            min_sharpness, dedupe_against, dedupe_distance, data_root)
    settings = _real_sequence(max_pairs, min_area, max_area, min_sharpness)
    report, store = ingest_video(file, options, settings, sample_every, _real_track)
    _real_print_report(report, store, as_json)


@ingest_app.command("timelapse")
def ingest_timelapse_cmd(
    folder: Path = typer.Argument(..., help="Folder of a fixed camera's images; file names give the order."),
    out: Optional[Path] = _REAL_OUT, data_root: Optional[Path] = DATA_ROOT_OPTION, max_pairs: int = _REAL_MAX_PAIRS,
    min_area: float = _REAL_MIN_AREA, max_area: float = _REAL_MAX_AREA,
    seed: int = _REAL_SEED, split: Optional[str] = _REAL_SPLIT, split_ratios: str = _REAL_RATIOS,
    setting: Optional[str] = _REAL_SETTING, license: Optional[str] = _REAL_LICENSE, source: Optional[str] = _REAL_SOURCE,
    blur_faces: bool = _REAL_FACES, min_sharpness: float = _REAL_SHARP,
    dedupe_against: Optional[List[Path]] = _REAL_DEDUPE, dedupe_distance: int = _REAL_DEDUPE_BITS, as_json: bool = _REAL_JSON,
) -> None:
    """Pairs across time from a time-lapse, with the video's rules (lighting drift is compensated)."""
    from generators.real.ingest import ingest_timelapse

    options = _real_options(out, seed, split, split_ratios, setting, license, source, True, True, blur_faces,
                            min_sharpness, dedupe_against, dedupe_distance, data_root)
    settings = _real_sequence(max_pairs, min_area, max_area, min_sharpness)
    report, store = ingest_timelapse(folder, options, settings, _real_track)
    _real_print_report(report, store, as_json)


@app.command()
def annotate(
    store: Path = typer.Argument(..., help="Store folder."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one)."),
    annotator: Optional[str] = typer.Option(None, "--annotator", help="Default annotator name shown in the page."),
) -> None:
    """Serve the annotation page on 127.0.0.1: captions and change types, saved as they are made."""
    from annotations.annotate.server import serve

    def announce(url: str) -> None:
        console.print(f"annotating {store} at {url} (Ctrl+C stops)", highlight=False, soft_wrap=True)
        sys.stdout.flush()  # a parent process may be waiting for the URL on a pipe

    serve(store, port=port, annotator=annotator, announce=announce)


# ---------------------------------------------------------------------------------------------
# Benchmarks and scoring (omnidiff/benchmarks, omnidiff/metrics): benchmarks, score
# ---------------------------------------------------------------------------------------------
benchmarks_app = typer.Typer(help="The five benchmarks: list them, convert native downloads into stores.",
                              no_args_is_help=True)
app.add_typer(benchmarks_app, name="benchmarks")


@benchmarks_app.command("list")
def benchmarks_list(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Each benchmark with its citation, split sizes (pairs) and where to download it."""
    from omnidiff.benchmarks import list_benchmarks

    infos = [b.describe() for b in list_benchmarks()]
    if as_json:
        emit_json(infos)
        return
    for info in infos:
        sizes = ", ".join(f"{k} {v:,}" for k, v in info["split_sizes"].items()) or info["sizes_note"]
        console.print(f"[bold]{info['label']}[/bold]  {info['title']}", highlight=False)
        headline = f"{info['headline']} ({info['headline_note']})"
        for label, value in (("pairs", sizes), ("protocol", info["protocol"]), ("headline", headline),
                             ("cite", info["citation"]), ("download", info["url"])):
            console.print(f"  {label:<9} {value}", highlight=False, soft_wrap=True, markup=False)


@benchmarks_app.command("prepare")
def benchmarks_prepare(
    name: str = typer.Argument(..., help="Benchmark: omnidiff, clevr-change, clevr-dc, spot-the-diff, iedit."),
    source: Path = typer.Option(..., "--source", help="The native download (a store for omnidiff)."),
    out: Optional[Path] = typer.Option(None, "--out", help="New store folder to write; default: "
                                       "<data root>/benchmarks/NAME, e.g. data/benchmarks/clevr-change."),
    split: Optional[List[str]] = typer.Option(None, "--split", help="Only these splits (repeatable)."),
    data_root: Optional[Path] = DATA_ROOT_OPTION,
) -> None:
    """Convert a native benchmark download into a store (written whole or not at all)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from annotations.data_root import benchmark_store
    from omnidiff.benchmarks import get_benchmark

    bench = get_benchmark(name)
    out = _default_store(out, data_root, lambda root: benchmark_store(root, bench.name))
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(f"preparing {bench.name}", total=None)
        store = bench.prepare(source, out, splits=split, progress=lambda done, total: bar.update(
            task, completed=done, total=total))
    counts = store.manifest.get("counts", {}).get("split", {})
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    console.print(f"wrote {out}: {len(store)} pairs ({summary})", highlight=False, soft_wrap=True)


@app.command()
def score(
    predictions: Path = typer.Option(..., "--predictions", help="COCO results JSON or JSONL {pair_id, caption}."),
    references: Path = typer.Option(..., "--references",
                                    help="COCO ground truth JSON, JSONL {pair_id, captions} or a store folder."),
    subsets: Optional[Path] = typer.Option(None, "--subsets", help="JSON: subset name -> list of pair ids."),
    benchmark: Optional[str] = typer.Option(None, "--benchmark",
                                            help="Score the protocol subsets of this benchmark (store references)."),
    split: Optional[str] = typer.Option(None, "--split", help="Only this split of a store."),
    allow_missing: bool = typer.Option(False, "--allow-missing", help="Score only the pairs that have a prediction."),
    no_spice: bool = typer.Option(False, "--no-spice", help="Skip SPICE even where its jars are found."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Cut every caption to its first N PTB tokens (not stock pycocoevalcap; noted). Default: whole captions."),
) -> None:
    """BLEU-1..4, METEOR, ROUGE-L, CIDEr (and SPICE) as pycocoevalcap 1.2; prints JSON."""
    from omnidiff.metrics import score_captions
    from omnidiff.metrics.formats import load_predictions, load_references, load_subsets
    from omnidiff.metrics.hygiene import ScoringInputError

    preds = load_predictions(predictions)
    subset_map = None
    id_note = None
    if benchmark is not None:
        from omnidiff.benchmarks import store_protocol

        if not references.is_dir():
            raise ScoringInputError("--benchmark needs a store folder as --references")
        refs, subset_map = store_protocol(references, benchmark, split)
    else:
        refs = load_references(references, split=split)
    if references.is_dir():  # a benchmark's store: other groups' pair-id styles are understood
        from annotations import Store
        from omnidiff.benchmarks import get_benchmark, store_benchmark
        from omnidiff.benchmarks.prediction_ids import resolve_prediction_ids

        name = benchmark or store_benchmark(Store.open(references))
        if name is not None:
            resolved = resolve_prediction_ids(get_benchmark(name), preds, refs)
            preds, id_note = resolved.predictions, resolved.note
    if subsets is not None:
        subset_map = {**(subset_map or {}), **load_subsets(subsets)}
    with err_console.status("scoring") as status:
        result = score_captions(preds, refs, subset_map, spice=not no_spice, allow_missing=allow_missing,
                                progress=lambda message: status.update(message), max_tokens=max_tokens)
    if id_note:
        result.notes["pair_ids"] = id_note
    emit_json(result.to_dict())


# ---------------------------------------------------------------------------------------------
# Harness, models, leaderboard (omnidiff/harness, omnidiff/models, leaderboard/): eval, models, leaderboard
# ---------------------------------------------------------------------------------------------
@app.command(name="eval")
def eval_command(
    model: Optional[str] = typer.Option(None, "--model", help="Registered model name (see `omnidiff models list`)."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Score this prediction file (made elsewhere: "
                                               "COCO results or JSONL) instead of running a model."),
    data: Optional[Path] = typer.Option(None, "--data", help="Store holding the benchmark's pairs (rendered or prepared); "
                                        "default: every benchmark found under the data root."),
    data_root: Optional[Path] = DATA_ROOT_OPTION,
    benchmark: Optional[List[str]] = typer.Option(None, "--benchmark", help="Benchmark (repeatable); default: all in the store / data root."),
    split: Optional[str] = typer.Option(None, "--split", help="Split to caption and score (default: test)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N pairs (store order)."),
    model_arg: Optional[List[str]] = typer.Option(None, "--model-arg", help="Model option KEY=VALUE (repeatable)."),
    results: Path = typer.Option(Path("results"), "--results", help="Results folder."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Pairs per model call."),
    name: Optional[str] = typer.Option(None, "--name", help="Results folder / leaderboard name (default: the model name)."),
    spice: bool = typer.Option(True, "--spice/--no-spice", help="Score SPICE when its jars are installed."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Score captions cut to their first N PTB tokens (not stock; noted in scores.json and run.json)."),
    backend: str = typer.Option("local", "--backend", help="local (the model here) or ray (--model-arg replicas=N model replicas as Ray actors)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="With --backend ray: a running cluster (auto, HOST:PORT); default: start a local Ray."),
) -> None:
    """Run a model over benchmarks: cached (SQLite, resumable), scored, written to results/."""
    from omnidiff.harness.runner import EvalConfig, run_eval, score_prediction_file
    from omnidiff.models.registry import parse_model_args

    if name is not None and (not name.strip() or "/" in name or name.startswith(".")):
        raise OmniDiffError(f"--name {name!r}: use a plain folder name")
    if (model is None) == (predictions is None):
        raise OmniDiffError("give --model NAME (run a model) or --predictions FILE (score captions made elsewhere)")
    config = EvalConfig(
        model=model or "predictions", data=data, model_args=parse_model_args(model_arg), benchmarks=tuple(benchmark or ()),
        split=split, limit=limit, results=results, batch_size=batch_size, spice=spice, name=name,
        progress=not no_progress, data_root=data_root, max_tokens=max_tokens, backend=backend, ray_address=ray_address,
    )
    def report(line: str) -> None:
        err_console.print(line, highlight=False, soft_wrap=True, markup=False)

    if predictions is not None:
        outcomes = [score_prediction_file(config, predictions, report)]
        for note in (outcomes[0].scores["notes"].get("pair_ids"),):
            if note:
                report(f"note: {note}")
    else:
        outcomes = run_eval(config, report=report)
    if as_json:
        emit_json([o.scores for o in outcomes])
        return
    for o in outcomes:
        m = o.scores["metrics"]
        shown = "  ".join(f"{k} {m[k] * 100:.1f}" for k in ("Bleu_4", "METEOR", "ROUGE_L", "CIDEr") if m.get(k) is not None)
        console.print(
            f"{o.benchmark}/{o.split}: n={o.n} ({o.computed} computed, {o.cached} cached, {o.empty} empty)  {shown}  -> {o.folder}",
            highlight=False, soft_wrap=True,
        )
    if data is None:  # every benchmark found: end with their leaderboard, the table `omnidiff leaderboard` prints
        from leaderboard.render import render_leaderboard

        board, warnings = render_leaderboard(results, "md", benchmarks={o.benchmark for o in outcomes})
        for warning in warnings:
            err_console.print(f"warning: {warning}", highlight=False, soft_wrap=True, markup=False)
        sys.stdout.write("\n" + board)
        sys.stdout.flush()


models_app = typer.Typer(help="The registered captioning models.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    params: bool = typer.Option(False, "--params", help="Also list each model's options (imports the model modules)."),
) -> None:
    """Each model with what it needs (CPU, GPU, weights, API key); nothing heavy is imported."""
    from omnidiff.models.registry import ModelError, all_manifests, resolve_class

    rows = []
    for m in all_manifests().values():
        row = {"name": m.name, "needs": list(m.needs), "description": m.description, "target": m.target, "source": m.source}
        if params:
            try:
                cls = resolve_class(m)
                row["params"] = [{"name": p.name, "type": p.type.__name__, "default": p.default, "help": p.help} for p in cls.params]
            except ModelError as exc:
                row["params_error"] = str(exc)
        rows.append(row)
    if as_json:
        emit_json(rows)
        return
    from rich.table import Table

    table = Table("model", "needs", "description", title="models")
    for row in rows:
        desc = row["description"]
        if "params" in row:
            desc += "\noptions: " + ", ".join(f"{p['name']}={p['default']}" for p in row["params"])
        elif "params_error" in row:
            desc += f"\n({row['params_error']})"
        table.add_row(row["name"], ", ".join(row["needs"]), desc)
    console.print(table)


@models_app.command("inspect")
def models_inspect(
    path: str = typer.Argument(..., help="Checkpoint folder (or a cached hub id)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What an M3Diff / LLaVA-OneVision / LLaVA-NeXT checkpoint holds and how it maps (safetensors headers only)."""
    from omnidiff.models.m3diff.inspect import failure, inspect_checkpoint

    report = inspect_checkpoint(path)
    if as_json:
        emit_json(report.to_dict())
    else:
        for line in report.lines():
            console.print(line, highlight=False, soft_wrap=True, markup=False)
    if not report.ok:
        raise failure(report)


@app.command()
def leaderboard(
    results: Path = typer.Option(Path("results"), "--results", help="Results folder of `omnidiff eval`."),
    fmt: str = typer.Option("md", "--format", help="md, csv, latex or html."),
    out: Optional[Path] = typer.Option(None, "--out", help="File to write; default: print to stdout."),
    reported: bool = typer.Option(True, "--reported/--no-reported", help="Include numbers reported in papers (marked)."),
    examples: int = typer.Option(3, "--examples", min=0, max=50, help="Example pairs per benchmark on the HTML page."),
    benchmark: Optional[List[str]] = typer.Option(None, "--benchmark", help="Only these benchmarks (repeatable)."),
) -> None:
    """Tables from the results folder: Markdown, CSV, LaTeX (booktabs) or one self-contained HTML page."""
    from annotations.benchmark_names import benchmark_key
    from leaderboard.render import render_leaderboard, write_leaderboard

    only = {benchmark_key(b) for b in benchmark} if benchmark else None
    text, warnings = render_leaderboard(results, fmt, include_reported=reported, examples=examples, benchmarks=only)
    for warning in warnings:
        err_console.print(f"warning: {warning}", highlight=False, soft_wrap=True, markup=False)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_leaderboard(text, out)
    err_console.print(f"wrote {out}", highlight=False)


# ---------------------------------------------------------------------------------------------
# M3Diff training (omnidiff/models/m3diff): train
# ---------------------------------------------------------------------------------------------
train_app = typer.Typer(help="Train models (the M3Diff reference).", no_args_is_help=True)
app.add_typer(train_app, name="train")


@train_app.command("m3diff")
def train_m3diff(
    data: List[str] = typer.Option(..., "--data", help="Store folder, or STORE:WEIGHT for a weighted mixture (repeat for several)."),
    out: Path = typer.Option(Path("checkpoints/m3diff"), "--out", help="Run folder: checkpoints/, final/, train_log.jsonl."),
    base: str = typer.Option("llava-hf/llava-onevision-qwen2-7b-ov-hf", "--base",
                             help="Starting weights: a LLaVA-OneVision or M3Diff folder or hub id (MDP starts from the seed when absent)."),
    preset: str = typer.Option("", "--preset", help="tiny-random: a tiny random model instead of --base (CPU tests)."),
    split: str = typer.Option("train", "--split"),
    device: str = typer.Option("auto", "--device", help="auto/cuda/cuda:N; cpu only when asked (under torchrun each rank takes cuda:LOCAL_RANK)."),
    dtype: str = typer.Option("bfloat16", "--dtype", help="bfloat16 (autocast, float32 trainable weights), float16, float32."),
    epochs: int = typer.Option(1, "--epochs", min=1),
    max_steps: int = typer.Option(0, "--max-steps", min=0, help="Stop after this many optimiser steps (0: --epochs decide)."),
    batch_size: int = typer.Option(1, "--batch-size", min=1, help="Samples per rank and micro-batch."),
    global_batch_size: int = typer.Option(256, "--global-batch-size", min=1,
                                          help="Samples per optimiser step over all ranks (the paper: 256); sets the gradient accumulation."),
    parallel: str = typer.Option("ddp", "--parallel", help="ddp (a full replica per rank) or fsdp (full shard, for the 7B model on smaller GPUs)."),
    lr: float = typer.Option(2e-4, "--lr", help="LoRA learning rate."),
    vision_lr: float = typer.Option(2e-6, "--vision-lr"),
    projector_lr: float = typer.Option(1e-5, "--projector-lr"),
    mdp_lr: float = typer.Option(1e-4, "--mdp-lr"),
    lora_r: int = typer.Option(128, "--lora-r", min=1),
    lora_alpha: int = typer.Option(256, "--lora-alpha", min=1),
    lora_dropout: float = typer.Option(0.05, "--lora-dropout"),
    save_every: int = typer.Option(500, "--save-every", min=1, help="Checkpoint every N steps (and at the end)."),
    seed: int = typer.Option(0, "--seed"),
    no_gradient_checkpointing: bool = typer.Option(False, "--no-gradient-checkpointing"),
    resume: bool = typer.Option(False, "--resume", help="Continue from the latest checkpoint in --out (any number of ranks)."),
) -> None:
    """Fine-tune M3Diff: LoRA r=128/alpha=256 on the LLM; vision encoder, projector and MDP fully trained.
    One process, or N ranks with `torchrun --nproc_per_node N omnidiff train m3diff ...`."""
    from omnidiff.models.m3diff.training import TrainConfig, Trainer

    config = TrainConfig(
        data=tuple(data), out=str(out), base=base, preset=preset, split=split, device=device, dtype=dtype,
        epochs=epochs, max_steps=max_steps, batch_size=batch_size, global_batch_size=global_batch_size,
        parallel=parallel, lr=lr, vision_lr=vision_lr, projector_lr=projector_lr, mdp_lr=mdp_lr, lora_r=lora_r,
        lora_alpha=lora_alpha, lora_dropout=lora_dropout, save_every=save_every, seed=seed,
        gradient_checkpointing=not no_gradient_checkpointing, resume=resume,
    )
    trainer = Trainer(config)  # checks settings, output folder and data before anything is drawn
    if not trainer.is_main:
        trainer.run()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("train m3diff"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} samples/s  loss {task.fields[loss]}  lr {task.fields[lr]}  ETA {task.fields[eta]}"))
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("steps", total=None, rate="-", loss="-", lr="-", eta="-")

        def report(step) -> None:
            eta = f"{int(step.eta_s // 3600)}:{int(step.eta_s % 3600 // 60):02d}:{int(step.eta_s % 60):02d}"
            bar.update(task, completed=step.step, total=step.total, rate=f"{step.samples_per_s:.2f}",
                       loss=f"{step.loss:.4f}", lr=f"{step.lr:.2e}", eta=eta)

        trainer.progress = report
        result = trainer.run()
    for line in result.summary():
        console.print(line, highlight=False, soft_wrap=True)


def main(argv: Optional[List[str]] = None) -> None:
    """Console entry point: user-fixable errors become one line on stderr and exit code 1."""
    try:
        app(args=argv, prog_name="omnidiff")
    except OmniDiffError as exc:
        err_console.print(f"error: {exc}", highlight=False, soft_wrap=True, markup=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        sys.exit(130)
    except Exception as exc:  # a bug, not user input: still one line unless asked for the traceback
        if os.environ.get("OMNIDIFF_DEBUG"):
            raise
        # a path the user gave that cannot be made or read: name it and say why
        message = describe_os_error(exc) if isinstance(exc, OSError) else None
        if message is None:
            message = f"{type(exc).__name__}: {exc} (set OMNIDIFF_DEBUG=1 for the traceback)"
        err_console.print(f"error: {message}", highlight=False, soft_wrap=True, markup=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
