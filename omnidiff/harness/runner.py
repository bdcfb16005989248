"""``omnidiff eval``: run one model over benchmarks, cached and resumable, then score and write results.

Which benchmarks: those of one store (``--data``), or every registered benchmark whose store is found
under the data root (``omnidiff/harness/targets.py``). For each benchmark: read the pairs of the split from the store (metadata only), ask the cache for
what is already captioned, caption the rest in batches (images decoded a batch at a time, each
batch committed to the cache as it arrives), write ``predictions.jsonl`` in store order and score
it with the benchmark's protocol into ``scores.json``. Who captions the batches is the one thing
``--backend`` changes (``captioners.py``: the model here, or its replicas on Ray).
"""

from __future__ import annotations

import json
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from annotations.data_root import data_root
from annotations.errors import OmniDiffError
from omnidiff.harness.cache import PredictionCache, images_key
from omnidiff.harness.captioners import Batch, Captioner, open_captioner
from omnidiff.harness.prompts import prompt_for
from annotations.durable import write_atomic
from annotations.locks import exclusive
from omnidiff.harness.results import RUN, PREDICTIONS, SCORES, predictions_text, result_dir
from omnidiff.harness.targets import EvalTarget, targets_in_store, targets_under_root

CACHE_FILE = ".cache/predictions.sqlite"
MODEL_STATE_DIR = ".cache/models"
EVAL_LOCK = ".eval.lock"


def lock_results(results: Path, run_name: str, targets: list[tuple[str, str]]) -> ExitStack:
    """Hold the eval lock of each (results folder, model, benchmark, split) this run writes; a second eval of
    the same exits at once, naming this one's PID."""
    stack = ExitStack()
    try:
        for bench, split in targets:
            folder = result_dir(results, run_name, bench, split)
            stack.enter_context(exclusive(folder / EVAL_LOCK, f"omnidiff eval {run_name}", f"results {folder}"))
    except BaseException:
        stack.close()
        raise
    return stack


@dataclass(frozen=True)
class EvalConfig:
    """Everything ``omnidiff eval`` was asked."""

    model: str
    data: Path | None = None  # one store; None: every benchmark found under the data root
    model_args: dict[str, str] = field(default_factory=dict)
    benchmarks: tuple[str, ...] = ()  # empty: every benchmark the store (or the data root) holds
    split: str | None = None  # None: test (under a data root, the split a store has when it has no test pairs)
    limit: int | None = None
    results: Path = Path("results")
    batch_size: int = 8
    spice: bool = True
    name: str | None = None  # results folder name; the model name by default
    progress: bool = True
    data_root: Path | None = None  # --data-root; None: $OMNIDIFF_DATA or data/
    max_tokens: int | None = None  # opt-in caption cut for scoring (not stock pycocoevalcap)
    backend: str = "local"  # local (the model here) or ray (replicas as Ray actors: --model-arg replicas=N)
    ray_address: str | None = None  # --backend ray: a running cluster ("auto", HOST:PORT); None: a local Ray


@dataclass
class BenchmarkOutcome:
    benchmark: str
    split: str
    folder: Path
    n: int
    computed: int
    cached: int
    empty: int
    scores: dict[str, Any]


def _progress(enabled: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class PairsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            computed = task.completed - task.fields.get("cached", 0)
            elapsed = task.finished_time if task.finished else task.elapsed
            if not computed or not elapsed:
                return Text("- pairs/s", style="progress.data.speed")
            return Text(f"{computed / elapsed:.1f} pairs/s", style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), PairsPerSecond(), TimeRemainingColumn(),
        console=Console(stderr=True), disable=not enabled,
    )


@contextmanager
def _scoring_status(enabled: bool):
    """A status line on stderr while scoring (METEOR on long captions can take minutes and says so)."""
    if not enabled:
        yield lambda _message: None
        return
    from rich.console import Console

    with Console(stderr=True).status("scoring") as status:
        yield lambda message: status.update(f"scoring: {message}")


def _batches(store, todo: list[str], prompt: str, batch_size: int) -> Iterator[Batch]:
    """``todo`` in store order, a batch at a time; each batch's images are read (``Store.images``: only their
    row groups) when the captioner asks for it."""
    for start in range(0, len(todo), batch_size):
        ids = todo[start:start + batch_size]
        images = store.images(ids)
        for pid in ids:
            if images[pid]["image_before"] is None or images[pid]["image_after"] is None:
                raise OmniDiffError(f"pair {pid}: missing image in {store.root}")
        yield Batch(ids, [(images[pid]["image_before"], images[pid]["image_after"]) for pid in ids], prompt)


def _caption_missing(
    captioner: Captioner, store, todo: list[str], prompt: str, batch_size: int,
    save: Callable[[dict[str, str]], None], progress, task,
) -> None:
    """Caption ``todo``; each batch's answers are saved as they arrive."""
    for batch, captions in captioner.caption(_batches(store, todo, prompt, batch_size)):
        if not isinstance(captions, list) or len(captions) != len(batch.pair_ids):
            raise OmniDiffError(f"model {captioner.name} returned {len(captions)} captions for {len(batch.pair_ids)} pairs")
        save({pid: ("" if c is None else str(c)) for pid, c in zip(batch.pair_ids, captions)})
        progress.advance(task, len(batch.pair_ids))


def output_settings(captioner: Captioner) -> dict[str, Any]:
    """The generation settings of the cache key: the options that change what the model says."""
    params = {p.name: p for p in captioner.params}
    return {k: v for k, v in sorted(captioner.options.items()) if getattr(params.get(k), "affects_output", True)}


def plan_targets(config: EvalConfig) -> tuple[list[EvalTarget], list[str]]:
    """The benchmarks to run and the lines that say which were not found (data-root mode only)."""
    if config.data is not None:
        return targets_in_store(Path(config.data), config.split, config.benchmarks), []
    root = data_root(config.data_root)
    option = f" --data-root {root}" if config.data_root is not None else ""
    return targets_under_root(root, config.split, config.benchmarks, option)


def run_eval(config: EvalConfig, report: Callable[[str], None] | None = None) -> list[BenchmarkOutcome]:
    """Evaluate; ``report`` receives one line per benchmark not found and per split fallback, before any work."""
    from omnidiff.metrics import score_captions
    from omnidiff.metrics.hygiene import check_max_tokens
    from omnidiff.models.base import EvalContext

    if config.limit is not None and config.limit < 1:
        raise OmniDiffError("--limit must be at least 1")
    if config.batch_size < 1:
        raise OmniDiffError("--batch-size must be at least 1")
    check_max_tokens(config.max_tokens)
    targets, missing = plan_targets(config)
    for line in missing + [t.note for t in targets if t.note]:
        if report is not None:
            report(line)
    run_name = config.name or config.model
    # held before the model loads or any request is sent: a second eval of the same exits at once
    locks = lock_results(config.results, run_name, [(t.bench.name, t.split) for t in targets])
    try:  # a model that cannot run says so even with no data
        captioner = open_captioner(config.model, config.model_args, config.backend, config.ray_address, report)
    except BaseException:
        locks.close()
        raise
    if not targets:
        captioner.close()
        locks.close()
        root = data_root(config.data_root)
        raise OmniDiffError(f"no benchmark store found under {root} (see the lines above for how to make them)")
    cache = PredictionCache(Path(config.results) / CACHE_FILE)
    outcomes = []
    meteor = None
    try:
        if len(targets) > 1:  # one METEOR JVM for every benchmark; it loads while the model captions
            from omnidiff.metrics.meteor import MeteorSession

            meteor = MeteorSession()
        for target in targets:
            bench, split = target.bench, target.split
            records = target.records
            total_available = len(records)
            if config.limit is not None:
                records = records[: config.limit]
            ids = [r.pair_id for r in records]
            references = {r.pair_id: bench.references(r) for r in records}
            subsets = bench.subsets(records)
            prompt = prompt_for(bench.name)
            first_store = target.stores[0]
            fingerprint = captioner.prepare(EvalContext(bench.name, split, first_store.root,
                                                        Path(config.results) / MODEL_STATE_DIR))
            settings = output_settings(captioner)
            wanted = set(ids)
            contents: dict[str, str] = {}  # pair id -> the content key of both images (the cache keys by it)
            for store, part in target.parts:
                here = [r.pair_id for r in part if r.pair_id in wanted]
                contents.update({pid: images_key(*shas) for pid, shas in store.image_hashes(here).items()})
            captions = cache.get_many(fingerprint, bench.name, prompt, settings, contents)
            cached = len(captions)
            todo = [pid for pid in ids if pid not in captions]

            def save(new: dict[str, str]) -> None:
                cache.put_many(fingerprint, bench.name, prompt, settings, new, contents)
                captions.update(new)

            with _progress(config.progress) as progress:
                task = progress.add_task(f"{run_name} {bench.name}/{split}", total=len(ids), completed=cached, cached=cached)
                for store, part in target.parts:  # OmniDiff under a data root: the rendered and the real store
                    mine = {r.pair_id for r in part}
                    todo_here = [pid for pid in todo if pid in mine]
                    if todo_here:
                        _caption_missing(captioner, store, todo_here, prompt, config.batch_size, save, progress, task)
            missing = [pid for pid in ids if pid not in captions]
            if missing:
                raise OmniDiffError(f"{len(missing)} pairs were not captioned (first: {missing[0]})")

            folder = result_dir(config.results, run_name, bench.name, split)
            with _scoring_status(config.progress) as say:
                result = score_captions({pid: captions[pid] for pid in ids}, references, subsets, spice=config.spice,
                                        max_tokens=config.max_tokens, progress=say, meteor=meteor)
            empty = sum(1 for pid in ids if not captions[pid].strip())
            notes = dict(result.notes)
            if empty:
                notes["empty_captions"] = f"{empty} of {len(ids)} model outputs were empty; scored as empty captions"
            if config.limit is not None and len(ids) < total_available:
                notes["limit"] = f"first {len(ids)} of {total_available} pairs (--limit {config.limit})"
            run_info = {
                "model": config.model, "name": run_name, "model_fingerprint": fingerprint,
                "options": dict(captioner.options), "limit": config.limit, "prompt": prompt,
                "max_tokens": config.max_tokens, "backend": captioner.backend,
            }
            scores = _write_result(folder, target, result, notes, ids, captions, run_info)
            outcomes.append(BenchmarkOutcome(bench.name, split, folder, len(ids), len(ids) - cached, cached, empty, scores))
    finally:
        if meteor is not None:
            meteor.close()
        cache.close()
        captioner.close()
        locks.close()
    return outcomes


def _write_result(folder: Path, target: EvalTarget, result, notes: dict[str, str], ids: list[str],
                  captions: dict[str, str], run_info: dict[str, Any]) -> dict[str, Any]:
    """``predictions.jsonl``, ``scores.json`` and ``run.json``, written once scoring succeeded, so they belong together."""
    from omnidiff import __version__

    scores = {
        "model": run_info["name"],
        "model_fingerprint": run_info["model_fingerprint"],
        "benchmark": target.bench.name,
        "split": target.split,
        "n": result.n,
        "metrics": result.metrics,
        "subsets": result.subsets,
        "notes": notes,
        "omnidiff_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    write_atomic(folder / PREDICTIONS, predictions_text(ids, captions).encode("utf-8"))
    write_atomic(folder / SCORES, (json.dumps(scores, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    run_info = {**run_info, "store": str(Path(target.stores[0].root).resolve()),
                "stores": [str(Path(s.root).resolve()) for s in target.stores], "split": target.split}
    write_atomic(folder / RUN, (json.dumps(run_info, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"))
    return scores


def score_prediction_file(config: EvalConfig, predictions: Path, report: Callable[[str], None] | None = None
                          ) -> BenchmarkOutcome:
    """``omnidiff eval --predictions FILE``: score captions made elsewhere against a benchmark's store.

    Other groups' pair-id styles are mapped onto the store's (``omnidiff.benchmarks.prediction_ids``) and
    the mapping is noted; the result files are those of ``omnidiff eval``, named ``--name`` (default: the
    file's stem), so the leaderboard shows the row beside the models run here.
    """
    import hashlib

    from omnidiff.benchmarks.prediction_ids import resolve_prediction_ids
    from omnidiff.metrics import score_captions
    from omnidiff.metrics.formats import load_predictions
    from omnidiff.metrics.hygiene import check_max_tokens

    check_max_tokens(config.max_tokens)
    targets, missing = plan_targets(config)
    for line in missing + [t.note for t in targets if t.note]:
        if report is not None:
            report(line)
    if len(targets) != 1:
        found = ", ".join(t.bench.label for t in targets) or "none"
        raise OmniDiffError(f"--predictions scores one benchmark; choose it with --benchmark (found: {found})")
    target = targets[0]
    records = target.records
    ids = [r.pair_id for r in records]
    resolved = resolve_prediction_ids(target.bench, load_predictions(predictions), ids)
    result = score_captions(resolved.predictions, {r.pair_id: target.bench.references(r) for r in records},
                            target.bench.subsets(records), spice=config.spice, max_tokens=config.max_tokens)
    notes = dict(result.notes)
    if resolved.note:
        notes["pair_ids"] = resolved.note
    name = config.name or Path(predictions).stem
    digest = hashlib.sha256(Path(predictions).read_bytes()).hexdigest()[:16]
    run_info = {"model": "predictions file", "name": name, "model_fingerprint": f"file-{digest}",
                "predictions": str(Path(predictions).resolve()), "options": {}, "limit": None, "prompt": None,
                "max_tokens": config.max_tokens}
    folder = result_dir(config.results, name, target.bench.name, target.split)
    with lock_results(config.results, name, [(target.bench.name, target.split)]):
        scores = _write_result(folder, target, result, notes, ids, resolved.predictions, run_info)
    return BenchmarkOutcome(target.bench.name, target.split, folder, len(ids), 0, 0, 0, scores)
