"""Birds-to-Words as a training source: its native TSV into a store, into `train m3diff`, never into `eval`."""

from __future__ import annotations

import json

import pytest

from benchmarks_helpers import write_image
from m3diff_helpers import single_thread

HEADER = ("img1ObservationURL\timg1ImgURL\timg1Species\timg1Selection\timg2ObservationURL\timg2ImgURL\t"
          "img2Species\timg2Selection\tsplit\tannN\tdescription")


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


def row(left: int, right: int, split: str, number: int, text: str) -> str:
    return "\t".join([
        f"https://www.inaturalist.org/observations/{left + 9}", f"https://static.inaturalist.org/photos/{left}/medium.jpg",
        "Turdus migratorius", "base", f"https://www.inaturalist.org/observations/{right + 9}",
        f"https://static.inaturalist.org/photos/{right}/medium.jpg", "Sialia sialis", "sameFamily", split, str(number), text,
    ])


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "birds-to-words"
    lines = [HEADER,
             row(647514, 5595152, "train", 1, "Animal 1 is brown and white; animal 2 is multi-colored."),
             row(647514, 5595152, "train", 2, "Animal 2 has a bright blue area around its eye."),
             row(111, 222, "train", 1, "Animal 1 is much smaller and shorter."),
             row(333, 444, "test", 1, "Animal 2 has turquoise head patches.")]
    src.mkdir()
    (src / "birds-to-words-v1.0.tsv").write_text("\n".join(lines) + "\n")
    for shade, photo in enumerate((647514, 5595152, 111, 222, 333, 444)):
        write_image(src / "images" / f"{photo}{'.png' if photo == 111 else '.jpg'}", 30 * shade)
    return src


def test_the_native_tsv_becomes_a_store_with_every_description_a_reference(run_cli, source, tmp_path):
    from annotations import Store
    from annotations.validate import validate_store

    out = tmp_path / "store"
    res = run_cli("benchmarks", "prepare", "birds-to-words", "--source", source, "--out", out)
    assert res.code == 0, res.err
    store = Store.open(out)
    records = {r.pair_id: r for r in store.records()}
    assert sorted(records) == ["111-222", "333-444", "647514-5595152"]
    pair = records["647514-5595152"]
    assert pair.benchmark == "birds_to_words" and pair.split == "train" and pair.domain == "real"
    assert pair.captions == ["Animal 1 is brown and white; animal 2 is multi-colored.",
                             "Animal 2 has a bright blue area around its eye."]
    assert json.loads(pair.provenance)["species"] == ["Turdus migratorius", "Sialia sialis"]
    assert validate_store(out).problems == []
    train_only = run_cli("benchmarks", "prepare", "birds-to-words", "--source", source, "--out", tmp_path / "t",
                         "--split", "train")
    assert train_only.code == 0 and len(Store.open(tmp_path / "t")) == 2


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("\ttrain\t1\t", "\tdev\t1\t", 1), "split 'dev' is none of train, val, test"),
    (lambda text: text + "only\tthree\tcolumns\n", "has 3 columns, expected the 11"),
    (lambda text: text + row(111, 222, "test", 2, "the same pair in test") + "\n", "is in both train and test"),
])
def test_bad_tables_are_one_line_errors_and_write_nothing(run_cli, source, tmp_path, edit, message):
    table = source / "birds-to-words-v1.0.tsv"
    table.write_text(edit(table.read_text()))
    res = run_cli("benchmarks", "prepare", "birds-to-words", "--source", source, "--out", tmp_path / "o")
    assert res.code == 1 and message in res.err and len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_photo_not_downloaded_is_named(run_cli, source, tmp_path):
    (source / "images" / "444.jpg").unlink()
    res = run_cli("benchmarks", "prepare", "birds-to-words", "--source", source, "--out", tmp_path / "o")
    assert res.code == 1 and "images/444.jpg" in res.err and not (tmp_path / "o").exists()


def test_it_trains_m3diff_with_its_own_prompt_and_is_never_evaluated(run_cli, source, tmp_path):
    from annotations import Store
    from omnidiff.harness.prompts import prompt_for
    from omnidiff.models.m3diff.data import PairSamples

    out = tmp_path / "store"
    assert run_cli("benchmarks", "prepare", "birds-to-words", "--source", source, "--out", out).code == 0
    samples = PairSamples([out])
    assert {s.benchmark for s in samples.samples} == {"birds_to_words"} and len(samples) == 3
    assert "bird" in prompt_for("birds-to-words")
    res = run_cli("train", "m3diff", "--data", out, "--out", tmp_path / "run", "--preset", "tiny-random", "--device",
                  "cpu", "--max-steps", "1", "--global-batch-size", "2", "--batch-size", "2")
    assert res.code == 0, res.err
    refused = run_cli("eval", "--model", "pixel-diff", "--benchmark", "birds-to-words", "--data", out, "--split", "test",
                      "--results", tmp_path / "results", "--no-spice", "--no-progress")
    assert refused.code == 1 and "a training source only" in refused.err
    nothing = run_cli("eval", "--model", "pixel-diff", "--data", out, "--split", "test", "--results", tmp_path / "r2",
                      "--no-spice", "--no-progress")
    assert nothing.code == 1 and "nothing to evaluate" in nothing.err
    assert len(Store.open(out)) == 3
