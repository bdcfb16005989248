"""Publishing: the dry-run folder loads back with datasets; the upload goes through a recorder."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotations import OmniDiffError, Store
from annotations.publish import publish_store
from conftest import make_record

TOKEN = "hf_TESTSECRETtoken1234567890"


class RecordingHub:
    """Stands at the boundary of huggingface_hub.HfApi: records calls, keeps the uploaded files."""

    def __init__(self, exists: bool = False, fail_upload: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.exists = exists
        self.fail_upload = fail_upload
        self.uploaded: dict[str, bytes] = {}

    def repo_exists(self, repo_id, *, repo_type=None):
        self.calls.append(("repo_exists", repo_id))
        return self.exists

    def create_repo(self, repo_id, *, private=None, repo_type=None, exist_ok=False):
        assert repo_type == "dataset"
        self.calls.append(("create_repo", repo_id))

    def upload_folder(self, *, repo_id, folder_path, repo_type=None, commit_message=None, delete_patterns=None):
        self.calls.append(("upload_folder", repo_id))
        if self.fail_upload:
            raise RuntimeError(f"500 Server Error for token {TOKEN}")
        root = Path(folder_path)
        self.uploaded = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    def delete_repo(self, repo_id, *, repo_type=None, missing_ok=False):
        self.calls.append(("delete_repo", repo_id))


@pytest.fixture
def two_domain_store(tmp_path):
    store = Store.create(tmp_path / "store", name="demo-set")
    store.append([make_record(i, split="test") for i in range(3)] + [make_record(i, split="train") for i in range(3, 5)])
    store.append([make_record(i, split="test", domain="real") for i in range(5, 7)])
    return store


def test_dry_run_loads_back_with_datasets(run_cli, two_domain_store, tmp_path):
    import datasets
    from PIL import Image

    out = tmp_path / "repo"
    res = run_cli("publish", two_domain_store.root, "--repo", "org/demo", "--dry-run", out)
    assert res.code == 0, res.err
    card = (out / "README.md").read_text()
    for needle in ("license: cc-by-4.0", "- image-to-text", "- n<1K", "config_name: render", "config_name: real",
                   "## Change taxonomy", "## Citation", "2503.11093"):
        assert needle in card
    ds = datasets.load_dataset(str(out))
    assert {s: ds[s].num_rows for s in ds} == {"test": 5, "train": 2}
    stored = {r.pair_id: r for r in two_domain_store.records()}
    for split in ds:
        for row in ds[split]:
            rec = stored[row["pair_id"]]
            assert isinstance(row["image_before"], Image.Image) and isinstance(row["image_after"], Image.Image)
            assert row["captions"] == rec.captions and row["domain"] == rec.domain
            assert row["image_after"].tobytes() == Image.open(__import__("io").BytesIO(rec.image_after)).tobytes()
    real = datasets.load_dataset(str(out), "real")
    assert real["test"].num_rows == 2


def test_upload_goes_through_one_commit(two_domain_store, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub = RecordingHub()
    msg = publish_store(two_domain_store.root, "org/demo", api=hub)
    assert "published 7 pairs" in msg
    assert [c[0] for c in hub.calls] == ["repo_exists", "create_repo", "upload_folder"]
    assert set(hub.uploaded) == {"README.md", "render/test-00000.parquet", "render/train-00000.parquet",
                                 "real/test-00000.parquet"}
    assert all(TOKEN.encode() not in data for data in hub.uploaded.values())


def test_failed_upload_publishes_nothing_and_hides_the_token(two_domain_store, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub = RecordingHub(fail_upload=True)
    with pytest.raises(OmniDiffError) as err:
        publish_store(two_domain_store.root, "org/demo", api=hub)
    assert "nothing was published" in str(err.value) and TOKEN not in str(err.value) and "***" in str(err.value)
    assert [c[0] for c in hub.calls] == ["repo_exists", "create_repo", "upload_folder", "delete_repo"]
    assert hub.uploaded == {}
    assert TOKEN not in capsys.readouterr().out


def test_failed_upload_keeps_an_existing_repo(two_domain_store, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub = RecordingHub(exists=True, fail_upload=True)
    with pytest.raises(OmniDiffError):
        publish_store(two_domain_store.root, "org/demo", api=hub)
    assert "delete_repo" not in [c[0] for c in hub.calls]


def test_no_token_is_one_line(run_cli, two_domain_store, monkeypatch, tmp_path):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    res = run_cli("publish", two_domain_store.root, "--repo", "org/demo")
    assert res.code == 1 and "no Hugging Face token" in res.err


def test_bad_repo_name_and_invalid_store(run_cli, two_domain_store, tmp_path):
    assert run_cli("publish", two_domain_store.root, "--repo", "not a repo").code == 1
    (two_domain_store.root / "omnidiff.json").write_text("{")
    res = run_cli("publish", two_domain_store.root, "--repo", "org/demo", "--dry-run", tmp_path / "o")
    assert res.code == 1 and "manifest is not valid JSON" in res.err


def _front_matter(card: str) -> dict:
    import yaml

    head, sep, _ = card.partition("\n---\n")
    assert head.startswith("---\n") and sep
    return yaml.safe_load(head[4:])


@pytest.mark.parametrize("license", ["mit\nfoo: bar", "mit\n---\n# injected", "cc-by-4.0 # x", "{a: b}", "", "mit: x"])
def test_a_licence_with_newlines_or_yaml_specials_cannot_reach_the_card(run_cli, two_domain_store, tmp_path, license):
    out = tmp_path / "repo"
    res = run_cli("publish", two_domain_store.root, "--repo", "org/demo", "--dry-run", out, "--license", license)
    assert res.code == 1 and res.err.startswith("error: --license") and res.err.count("\n") == 1
    assert not out.exists()


def test_the_card_front_matter_holds_exactly_its_keys_whatever_the_store_name(run_cli, tmp_path):
    store = Store.create(tmp_path / "store", name='evil\nlicense: other\n---\n"quoted": [x]')
    store.append([make_record(0)])
    out = tmp_path / "repo"
    res = run_cli("publish", store.root, "--repo", "org/demo", "--dry-run", out, "--license", "apache-2.0")
    assert res.code == 0, res.err
    meta = _front_matter((out / "README.md").read_text())
    assert meta["license"] == "apache-2.0" and meta["pretty_name"] == store.name
    assert set(meta) == {"license", "task_categories", "language", "size_categories", "pretty_name", "tags", "configs"}
