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

from annotations.errors import OmniDiffError

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


# ---------------------------------------------------------------------------------------------
# Data layer (annotations/): validate, stats, show, publish
# ---------------------------------------------------------------------------------------------
@app.command()
def validate(
    store: Path = typer.Argument(..., help="Store folder."),
    no_images: bool = typer.Option(False, "--no-images", help="Skip decoding the images (faster)."),
) -> None:
    """Full integrity check of a store; one line per problem; exit 1 if any. Never modifies it."""
    from annotations.validate import validate_store

    report = validate_store(store, check_images=not no_images)
    for note in report.notes:
        err_console.print(f"note: {note}", highlight=False, soft_wrap=True)
    for problem in report.problems:
        console.print(problem, highlight=False, soft_wrap=True)
    if report.problems:
        raise typer.Exit(1)
    console.print(f"ok: {store} ({report.pairs} pairs, {len(report.notes)} notes)", highlight=False)


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
    out: Path = typer.Option(Path("sheet.png"), "--out", help="PNG file to write."),
    n: int = typer.Option(8, "--n", "-n", min=1, max=200, help="How many pairs."),
    split: Optional[str] = typer.Option(None, "--split"),
    change_type: Optional[str] = typer.Option(None, "--change-type"),
    seed: int = typer.Option(0, "--seed", help="Seed of the pair sample."),
    width: int = typer.Option(240, "--thumb-width", min=32, max=1024, help="Width of one image cell."),
) -> None:
    """Contact sheet: before | after | change mask over after | primary caption."""
    from annotations.contact_sheet import make_contact_sheet

    count = make_contact_sheet(store, out, n=n, split=split, change_type=change_type, seed=seed, thumb_width=width)
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

# ---------------------------------------------------------------------------------------------
# Real pairs (generators/real/): ingest, annotate
# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# Benchmarks and scoring (omnidiff/benchmarks, omnidiff/metrics): benchmarks, score
# ---------------------------------------------------------------------------------------------
benchmarks_app = typer.Typer(help="The five benchmarks: list them, convert native downloads into stores.",
                              no_args_is_help=True)
app.add_typer(benchmarks_app, name="benchmarks")


@benchmarks_app.command("list")
def benchmarks_list(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Each benchmark with its citation, split sizes (pairs) and where to download it."""
    from rich.table import Table

    from omnidiff.benchmarks import list_benchmarks

    infos = [b.describe() for b in list_benchmarks()]
    if as_json:
        emit_json(infos)
        return
    table = Table(show_lines=True)
    for col in ("name", "benchmark", "splits (pairs)", "protocol", "citation / download"):
        table.add_column(col, overflow="fold")
    for info in infos:
        sizes = ", ".join(f"{k} {v:,}" for k, v in info["split_sizes"].items()) or info["sizes_note"]
        table.add_row(info["name"].replace("_", "-"), info["title"], sizes, info["protocol"],
                      f"{info['citation']}\n{info['url']}")
    console.print(table)


@benchmarks_app.command("prepare")
def benchmarks_prepare(
    name: str = typer.Argument(..., help="Benchmark: omnidiff, clevr-change, clevr-dc, spot-the-diff, iedit."),
    source: Path = typer.Option(..., "--source", help="The native download (a store for omnidiff)."),
    out: Path = typer.Option(..., "--out", help="New store folder to write."),
    split: Optional[List[str]] = typer.Option(None, "--split", help="Only these splits (repeatable)."),
) -> None:
    """Convert a native benchmark download into a store (written whole or not at all)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from omnidiff.benchmarks import get_benchmark

    bench = get_benchmark(name)
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
) -> None:
    """BLEU-1..4, METEOR, ROUGE-L, CIDEr (and SPICE) as pycocoevalcap 1.2; prints JSON."""
    from omnidiff.metrics import score_captions
    from omnidiff.metrics.formats import load_predictions, load_references, load_subsets
    from omnidiff.metrics.hygiene import ScoringInputError

    preds = load_predictions(predictions)
    subset_map = None
    if benchmark is not None:
        from omnidiff.benchmarks import store_protocol

        if not references.is_dir():
            raise ScoringInputError("--benchmark needs a store folder as --references")
        refs, subset_map = store_protocol(references, benchmark, split)
    else:
        refs = load_references(references, split=split)
    if subsets is not None:
        subset_map = {**(subset_map or {}), **load_subsets(subsets)}
    with err_console.status("scoring") as status:
        result = score_captions(preds, refs, subset_map, spice=not no_spice, allow_missing=allow_missing,
                                progress=lambda message: status.update(message))
    emit_json(result.to_dict())


# ---------------------------------------------------------------------------------------------
# Harness, models, leaderboard (omnidiff/harness, omnidiff/models, leaderboard/): eval, models, leaderboard
# ---------------------------------------------------------------------------------------------
@app.command(name="eval")
def eval_command(
    model: str = typer.Option(..., "--model", help="Registered model name (see `omnidiff models list`)."),
    data: Path = typer.Option(..., "--data", help="Store holding the benchmark's pairs (rendered or prepared)."),
    benchmark: Optional[List[str]] = typer.Option(None, "--benchmark", help="Benchmark (repeatable); default: all in the store."),
    split: str = typer.Option("test", "--split", help="Split to caption and score."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N pairs (store order)."),
    model_arg: Optional[List[str]] = typer.Option(None, "--model-arg", help="Model option KEY=VALUE (repeatable)."),
    results: Path = typer.Option(Path("results"), "--results", help="Results folder."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Pairs per model call."),
    name: Optional[str] = typer.Option(None, "--name", help="Results folder / leaderboard name (default: the model name)."),
    spice: bool = typer.Option(True, "--spice/--no-spice", help="Score SPICE when its jars are installed."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bar."),
) -> None:
    """Run a model over benchmarks: cached (SQLite, resumable), scored, written to results/."""
    from omnidiff.harness.runner import EvalConfig, run_eval
    from omnidiff.models.registry import parse_model_args

    if name is not None and (not name.strip() or "/" in name or name.startswith(".")):
        raise OmniDiffError(f"--name {name!r}: use a plain folder name")
    config = EvalConfig(
        model=model, data=data, model_args=parse_model_args(model_arg), benchmarks=tuple(benchmark or ()),
        split=split, limit=limit, results=results, batch_size=batch_size, spice=spice, name=name,
        progress=not no_progress,
    )
    outcomes = run_eval(config)
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


@app.command()
def leaderboard(
    results: Path = typer.Option(Path("results"), "--results", help="Results folder of `omnidiff eval`."),
    fmt: str = typer.Option("md", "--format", help="md, csv, latex or html."),
    out: Optional[Path] = typer.Option(None, "--out", help="File to write; default: print to stdout."),
    reported: bool = typer.Option(True, "--reported/--no-reported", help="Include numbers reported in papers (marked)."),
    examples: int = typer.Option(3, "--examples", min=0, max=50, help="Example pairs per benchmark on the HTML page."),
) -> None:
    """Tables from the results folder: Markdown, CSV, LaTeX (booktabs) or one self-contained HTML page."""
    from leaderboard.render import render_leaderboard, write_leaderboard

    text = render_leaderboard(results, fmt, include_reported=reported, examples=examples)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_leaderboard(text, out)
    err_console.print(f"wrote {out}", highlight=False)


# ---------------------------------------------------------------------------------------------
# M3Diff training (omnidiff/models/m3diff): train
# ---------------------------------------------------------------------------------------------


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
        err_console.print(
            f"error: {type(exc).__name__}: {exc} (set OMNIDIFF_DEBUG=1 for the traceback)",
            highlight=False, soft_wrap=True, markup=False,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
