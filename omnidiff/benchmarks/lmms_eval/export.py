"""Write a store's benchmark as an lmms-eval task folder that ``python -m lmms_eval --include_path DIR`` runs offline.

The folder holds, per split: ``omnidiff_<split>.yaml`` (the task), ``<split>.parquet`` (the pairs: both images
as the ``datasets`` Image feature, the benchmark's prompt, the references of its protocol and the protocol
subsets each pair belongs to), plus ``utils.py`` (scoring with stock pycocoevalcap, tokenised once, every
protocol subset its own corpus) and ``protocol.json`` (the subsets and the YAML's metric keys). The Parquet
paths in the YAML are relative: lmms-eval 0.7.3 resolves them against the YAML's folder.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from annotations import SPLITS, Store
from annotations.benchmark_names import benchmark_key
from omnidiff.benchmarks.base import BenchmarkError, ExportSummary
from omnidiff.benchmarks.registry import get_benchmark
from omnidiff.benchmarks.staging import staged_folder

FORMAT = "lmms-eval"
METRICS = ("Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4", "METEOR", "ROUGE_L", "CIDEr")
TEMPLATE = Path(__file__).with_name("task_utils.py")
MAX_NEW_TOKENS = 256  # the openai model's max_tokens default, so both harnesses ask for the same length
BATCH_ROWS = 256
_STRING = {"dtype": "string", "_type": "Value"}
FEATURES = {
    "pair_id": _STRING, "benchmark": _STRING, "prompt": _STRING,
    "image_before": {"_type": "Image"}, "image_after": {"_type": "Image"},
    "references": {"feature": _STRING, "_type": "List"}, "subsets": {"feature": _STRING, "_type": "List"},
}
_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
SCHEMA = pa.schema(
    [("pair_id", pa.string()), ("benchmark", pa.string()), ("prompt", pa.string()), ("image_before", _IMAGE),
     ("image_after", _IMAGE), ("references", pa.list_(pa.string())), ("subsets", pa.list_(pa.string()))],
    metadata={b"huggingface": json.dumps({"info": {"features": FEATURES}}).encode()},
)


def metric_key(subset: str, metric: str) -> str:
    """``('change_type/addition', 'CIDEr')`` -> ``'change_type_addition_CIDEr'`` (a name lmms-eval keeps as is)."""
    return f"{re.sub(r'[^A-Za-z0-9]+', '_', subset).strip('_')}_{metric}"


def _benchmark_of(store: Store, wanted: str | None) -> str:
    held = sorted(set(store.table(["benchmark"])["benchmark"].to_pylist()))
    if wanted is not None:
        key = benchmark_key(wanted)
        if key not in held:
            raise BenchmarkError(f"{store.root}: no {key} pairs (it holds {', '.join(held) or 'none'})")
        return key
    if len(held) != 1:
        raise BenchmarkError(f"{store.root}: holds pairs of {', '.join(held) or 'no benchmark'}; choose one with --benchmark")
    return held[0]


def export_task_folder(store_path: Path, out: Path, benchmark: str | None = None) -> ExportSummary:
    """One task per split of the store's benchmark: ``omnidiff_<split>``."""
    store = Store.open(store_path)
    bench = get_benchmark(_benchmark_of(store, benchmark))
    columns = ["pair_id", "benchmark", "split", "captions", "change_types", "distractor", "domain", "native_change_type"]
    by_split: dict[str, list] = {}
    for rec in store.records(columns=columns):
        if rec.benchmark == bench.name:
            by_split.setdefault(rec.split, []).append(rec)
    with staged_folder(out, "exporting") as tmp:
        shutil.copyfile(TEMPLATE, tmp / "utils.py")
        keys: dict[str, tuple[str, str]] = {}
        tasks = []
        for split in (s for s in SPLITS if s in by_split):
            records = by_split[split]
            subsets = {name: ids for name, ids in bench.subsets(records).items() if ids}
            member_of: dict[str, list[str]] = {}
            for name, ids in subsets.items():
                for pid in ids:
                    member_of.setdefault(pid, []).append(name)
            _write_split(store, tmp / f"{split}.parquet", bench, split, records, member_of)
            split_keys = {metric_key(s, m): (s, m) for s in subsets for m in METRICS}
            keys.update(split_keys)
            (tmp / f"omnidiff_{split}.yaml").write_text(_task_yaml(split, split_keys), encoding="utf-8")
            tasks.append(f"omnidiff_{split} ({len(records)} pairs, {len(subsets)} subsets)")
        protocol = {"benchmark": bench.name, "protocol": bench.protocol, "headline": bench.headline,
                    "metric_keys": {k: list(v) for k, v in keys.items()}}
        (tmp / "protocol.json").write_text(json.dumps(protocol, indent=1) + "\n", encoding="utf-8")
        (tmp / "README.md").write_text(_readme(store, bench, tasks), encoding="utf-8")
    return ExportSummary(Path(out), sum(len(r) for r in by_split.values()), {})


def _write_split(store: Store, path: Path, bench, split: str, records: list, member_of: dict[str, list[str]]) -> None:
    """The split's rows in store order, images read a batch at a time."""
    meta = {r.pair_id: r for r in records}
    order = [r.pair_id for r in records]
    with pq.ParquetWriter(path, SCHEMA, compression="zstd") as writer:
        for start in range(0, len(order), BATCH_ROWS):
            wanted = order[start:start + BATCH_ROWS]
            images = {r.pair_id: r for r in store.records(split=split, pair_ids=set(wanted))}
            rows = []
            for pid in wanted:
                rec = images[pid]
                if not rec.image_before or not rec.image_after:
                    raise BenchmarkError(f"pair {pid}: the store holds no image for it")
                rows.append({"pair_id": pid, "benchmark": bench.name, "prompt": bench.prompt,
                             "image_before": {"bytes": rec.image_before, "path": None},
                             "image_after": {"bytes": rec.image_after, "path": None},
                             "references": bench.references(meta[pid]), "subsets": member_of.get(pid, [])})
            writer.write_table(pa.Table.from_pylist(rows, schema=SCHEMA))


def _task_yaml(split: str, keys: dict[str, tuple[str, str]]) -> str:
    metrics = "".join(f"  - metric: {key}\n    aggregation: !function utils.aggregate\n    higher_is_better: true\n"
                      for key in keys)
    return (
        f"task: omnidiff_{split}\n"
        "dataset_path: parquet\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    {split}: {split}.parquet\n"
        f"test_split: {split}\n"
        "output_type: generate_until\n"
        "doc_to_visual: !function utils.doc_to_visual\n"
        "doc_to_text: !function utils.doc_to_text\n"
        "doc_to_target: !function utils.doc_to_target\n"
        "generation_kwargs:\n"
        f"  max_new_tokens: {MAX_NEW_TOKENS}\n"
        "  temperature: 0\n"
        "  do_sample: false\n"
        "process_results: !function utils.process_results\n"
        "metric_list:\n" + metrics +
        "metadata:\n"
        "  version: 1.0\n"
    )


def _readme(store: Store, bench, tasks: list[str]) -> str:
    return (
        f"# lmms-eval tasks: {bench.title}, from the store {store.manifest.get('name', store.root.name)!r}\n\n"
        "Run offline with lmms-eval 0.7.3:\n\n"
        "```bash\npython -m lmms_eval --include_path THIS_FOLDER --tasks omnidiff_test --model openai \\\n"
        "    --model_args model=NAME,base_url=http://127.0.0.1:8000/v1 --output_path results/\n```\n\n"
        "Tasks: " + "; ".join(tasks) + ".\n\n"
        f"Each pair shows the model the before and the after image and the benchmark's prompt; the metrics "
        f"(`<subset>_<metric>`, e.g. `total_CIDEr`) are pycocoevalcap's BLEU-1..4, METEOR, ROUGE-L and CIDEr on "
        f"every subset of the benchmark's protocol ({bench.protocol}; headline: {bench.headline}), each subset "
        "scored as its own corpus, every caption tokenised once. The numbers equal `omnidiff eval` on the same "
        "captions.\n"
    )
