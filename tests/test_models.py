"""The registry: manifests, lazy loading, entry points, ``--model-arg`` checks, fingerprints."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO
from harness_helpers import TESTS_DIR, install_test_models

from omnidiff.models.registry import MANIFESTS, ModelError, all_manifests, load_model, parse_model_args


def test_bundled_manifests_are_sorted_unique_and_resolvable_lazily():
    names = [m.name for m in MANIFESTS]
    assert names == sorted(names) and len(set(names)) == len(names)
    assert {"pixel-diff", "nn-caption", "hf-vlm", "openai"} <= set(names)
    for m in MANIFESTS:
        assert ":" in m.target and m.needs


def test_loading_a_baseline_imports_no_deep_learning_stack():
    probe = ("import sys\nfrom omnidiff.models.registry import load_model\n"
             "load_model('pixel-diff', {}); load_model('nn-caption', {})\n"
             "print('HEAVY', [m for m in ('torch', 'transformers') if m in sys.modules])\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_entry_point_models_are_found_and_cannot_shadow_bundled_ones(tmp_path, monkeypatch):
    folder = install_test_models(tmp_path / "site")
    dist = folder / "omnidiff_test_models-0.0.dist-info"
    (dist / "entry_points.txt").write_text((dist / "entry_points.txt").read_text() + "pixel-diff = harness_helpers:InstantModel\n")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.syspath_prepend(str(TESTS_DIR))
    manifests = all_manifests()
    assert manifests["instant"].source == "omnidiff-test-models"
    assert manifests["pixel-diff"].source == "bundled"
    assert type(load_model("instant").model).__name__ == "InstantModel"


def test_model_args_are_parsed_and_converted():
    assert parse_model_args(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ModelError, match="given twice"):
        parse_model_args(["a=1", "a=2"])
    loaded = load_model("pixel-diff", {"threshold": "12", "register": "no", "min_area": "0.5"})
    assert loaded.options["threshold"] == 12 and loaded.options["register"] is False and loaded.options["min_area"] == 0.5
    with pytest.raises(ModelError, match="expected true or false"):
        load_model("pixel-diff", {"register": "maybe"})
    with pytest.raises(ModelError, match="known options: camera_fraction, global_fraction, max_regions, min_area, register, threshold, work_size"):
        load_model("pixel-diff", {"size": "3"})


def test_fingerprint_includes_name_version_and_output_options():
    a = load_model("pixel-diff", {}).fingerprint()
    assert a == load_model("pixel-diff", {}).fingerprint()
    assert a != load_model("pixel-diff", {"threshold": "31"}).fingerprint()
    assert a.startswith("pixel-diff-")


def test_openai_options_outside_the_output_do_not_change_the_fingerprint(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    base = load_model("openai", {"base_url": "http://127.0.0.1:9/v1"}).fingerprint()
    assert base == load_model("openai", {"base_url": "http://127.0.0.1:9/v1", "concurrency": "9", "timeout": "3"}).fingerprint()
    assert base != load_model("openai", {"base_url": "http://127.0.0.1:9/v1", "model": "other"}).fingerprint()
    with pytest.raises(ModelError, match="known options: api_key_env, backoff, base_url, concurrency"):
        load_model("openai", {"api_key": "secret"})
