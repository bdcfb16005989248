"""Publish a store to the Hugging Face Datasets hub: Parquet shards per domain and split, and a card.

The published rows are the annotated view: the human-annotation log's captions and change types, not
the stored ones (the message says how many pairs the log changed). The repository folder is built
locally first (``--dry-run`` stops there) and pushed in ONE commit
(``upload_folder``), so a failed upload publishes nothing; a repository this call created is deleted
again when its upload fails. The token comes from ``HF_TOKEN`` or the hub login and is passed to the
client only: it is never printed, logged or written.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from annotations.errors import OmniDiffError
from annotations.schema import DOMAINS, SPLITS, records_to_table
from annotations.shards import write_shard
from annotations.store import Store
from annotations.taxonomy import TAXONOMY

ROWS_PER_FILE = 1000
REPO_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
LICENSE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$")  # hub licence ids: cc-by-4.0, mit, other, ...
CITATION = """@inproceedings{liu2025omnidiff,
  title     = {OmniDiff: A Comprehensive Benchmark for Fine-grained Image Difference Captioning},
  author    = {Liu, Yuan and others},
  booktitle = {Proceedings of the IEEE/CVF International Conference on Computer Vision (ICCV)},
  year      = {2025},
  note      = {arXiv:2503.11093}
}"""


class HubApi(Protocol):
    """The part of ``huggingface_hub.HfApi`` that publishing uses (tests pass a recorder)."""

    def repo_exists(self, repo_id: str, *, repo_type: str | None = None) -> bool: ...
    def create_repo(self, repo_id: str, *, private: bool | None = None, repo_type: str | None = None,
                    exist_ok: bool = False) -> Any: ...
    def upload_folder(self, *, repo_id: str, folder_path: str | Path, repo_type: str | None = None,
                      commit_message: str | None = None, delete_patterns: list[str] | None = None) -> Any: ...
    def delete_repo(self, repo_id: str, *, repo_type: str | None = None, missing_ok: bool = False) -> None: ...


def size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M"


def _write_shards(store: Store, folder: Path) -> dict[str, dict[str, int]]:
    """Write ``<domain>/<split>-NNNNN.parquet``; returns rows by domain and split."""
    counts: dict[str, dict[str, int]] = {}
    for domain in DOMAINS:
        for split in SPLITS:
            batch, seq = [], 0
            for rec in store.records(split=split):
                if rec.domain != domain:
                    continue
                batch.append(rec)
                if len(batch) == ROWS_PER_FILE:
                    _flush(batch, folder / domain / f"{split}-{seq:05d}.parquet")
                    seq, batch = seq + 1, []
                counts.setdefault(domain, {}).setdefault(split, 0)
                counts[domain][split] += 1
            if batch:
                _flush(batch, folder / domain / f"{split}-{seq:05d}.parquet")
    return counts


def _flush(records: list, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_shard(records_to_table(records), path)  # the repository folder is staged and pushed whole


def _config_yaml(name: str, pattern_dir: str, splits: list[str], default: bool = False) -> list[str]:
    lines = [f"- config_name: {name}"]
    if default:
        lines.append("  default: true")
    lines.append("  data_files:")
    for split in splits:
        lines += [f"  - split: {split}", f'    path: "{pattern_dir}/{split}-*.parquet"']
    return lines


def check_license_id(license: str) -> str:
    """A licence is an identifier, never free text: it goes into the card's YAML front matter unquoted."""
    if not LICENSE_PATTERN.match(license):
        raise OmniDiffError(
            f"--license {license!r} is not a licence identifier (letters, digits, '.', '+', '-', '_'; "
            "e.g. cc-by-4.0, mit, other)"
        )
    return license


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar (a JSON string is one): newlines and specials stay inside the value."""
    return json.dumps(text, ensure_ascii=True)


def dataset_card(store: Store, repo: str, counts: dict[str, dict[str, int]], license: str) -> str:
    total = _total(counts)
    splits_all = [s for s in SPLITS if any(s in c for c in counts.values())]
    yaml = ["---", f"license: {check_license_id(license)}", "task_categories:", "- image-to-text", "language:", "- en",
            "size_categories:", f"- {size_category(total)}", f"pretty_name: {_yaml_string(store.name)}",
            "tags:", "- image-difference-captioning", "- change-captioning", "- omnidiff", "configs:"]
    yaml += _config_yaml("all", "*", splits_all, default=True)
    for domain, by_split in counts.items():
        yaml += _config_yaml(domain, domain, [s for s in SPLITS if s in by_split])
    yaml.append("---")
    by_type: Counter[str] = Counter()
    words: list[int] = []
    for rec in store.records(columns=["pair_id", "change_types", "captions"]):
        by_type.update(rec.change_types)
        words += [len(c.split()) for c in rec.captions[:1]]
    mean_words = sum(words) / len(words) if words else 0.0
    taxonomy = ["| change type | pairs | definition |", "|---|---|---|"]
    taxonomy += [f"| {t.key} | {by_type.get(t.key, 0)} | {t.definition} |" for t in TAXONOMY]
    sizes = ["| config | " + " | ".join(splits_all) + " |", "|---|" + "---|" * len(splits_all)]
    sizes += [f"| {d} | " + " | ".join(str(c.get(s, 0)) for s in splits_all) + " |" for d, c in counts.items()]
    body = [
        f"# {' '.join(store.name.split())}", "",
        "Image difference captioning pairs: a before image, an after image, the change types and "
        "fine-grained captions of what changed, with change masks where the pair was rendered.", "",
        f"Load with `datasets.load_dataset(\"{repo}\")` (config `all`), or the `render` / `real` configs.", "",
        "## Statistics", "", f"{total} pairs; mean primary caption length {mean_words:.1f} words.", "", *sizes, "",
        "## Change taxonomy", "", *taxonomy, "",
        "## Creation", "",
        "Made with the OmniDiff toolkit: synthetic pairs are rendered with Blender from seeded scene "
        "specifications (masks and structured diffs are exact); real pairs are ingested from photographs, "
        "videos and time-lapses and captioned by people. Each row's `provenance` column records how it was made.", "",
        "## Citation", "", "```bibtex", CITATION, "```", "",
    ]
    return "\n".join(yaml) + "\n\n" + "\n".join(body)


def build_repo_folder(store: Store, folder: Path, repo: str, license: str) -> dict[str, dict[str, int]]:
    counts = _write_shards(store, folder)
    (folder / "README.md").write_text(dataset_card(store, repo, counts, license), encoding="utf-8")
    return counts


def annotation_note(store: Store) -> str:
    """What the published values owe to the annotation log, for the command's message."""
    changed = store.annotation_changes()
    return f"; the annotation log changed {changed} of them" if changed else ""


def _scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def publish_store(root: str | Path, repo: str, dry_run: str | Path | None = None, private: bool = False,
                  license: str = "cc-by-4.0", api: HubApi | None = None) -> str:
    if not REPO_PATTERN.match(repo):
        raise OmniDiffError(f"--repo {repo!r} is not of the form ORG/NAME")
    check_license_id(license)
    store = Store.open(root)
    if len(store) == 0:
        raise OmniDiffError(f"{root}: the store is empty; nothing to publish")
    from annotations.validate import validate_store

    problems = validate_store(root).problems
    if problems:
        raise OmniDiffError(f"{root}: {len(problems)} validation problem(s), first: {problems[0]}; run `omnidiff validate`")
    if dry_run is not None:
        out = Path(dry_run)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise OmniDiffError(f"{out}: already exists and is not empty")
        counts = build_repo_folder(store, out, repo, license)
        return f"dry run: wrote the repository folder for {repo} to {out} ({_total(counts)} pairs{annotation_note(store)})"
    from huggingface_hub import get_token

    token = os.environ.get("HF_TOKEN") or get_token()
    if api is None:
        if not token:
            raise OmniDiffError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
        from huggingface_hub import HfApi

        api = HfApi(token=token)
    try:
        existed = api.repo_exists(repo, repo_type="dataset")
        api.create_repo(repo, private=private, repo_type="dataset", exist_ok=True)
    except Exception as exc:
        raise OmniDiffError(f"cannot create {repo} on the hub: {_scrub(str(exc), token).splitlines()[0]}") from None
    with tempfile.TemporaryDirectory(prefix="omnidiff-publish-") as tmp:
        counts = build_repo_folder(store, Path(tmp), repo, license)
        try:
            api.upload_folder(repo_id=repo, folder_path=tmp, repo_type="dataset",
                              commit_message=f"Publish {store.name} with the OmniDiff toolkit",
                              delete_patterns=["*/*.parquet"])
        except Exception as exc:
            if not existed:
                try:
                    api.delete_repo(repo, repo_type="dataset", missing_ok=True)
                except Exception:
                    pass
            msg = _scrub(str(exc), token).splitlines()[0] if str(exc) else type(exc).__name__
            raise OmniDiffError(f"upload to {repo} failed, nothing was published: {msg}") from None
    return f"published {_total(counts)} pairs{annotation_note(store)} to https://huggingface.co/datasets/{repo}"


def _total(counts: dict[str, dict[str, int]]) -> int:
    return sum(sum(by_split.values()) for by_split in counts.values())
