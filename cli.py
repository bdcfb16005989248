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

# ---------------------------------------------------------------------------------------------
# Harness, models, leaderboard (omnidiff/harness, omnidiff/models, leaderboard/): eval, models, leaderboard
# ---------------------------------------------------------------------------------------------

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
