"""Shared test helpers: in-process CLI runs and small synthetic pair records."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from annotations import PairRecord

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SHARED_BENCHMARKS = SHARED / "benchmarks"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    """Run ``omnidiff ARGS`` in-process through ``cli.main`` (the real entry point)."""
    import cli

    def _run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            cli.main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def make_pair_images(seed: int, size: tuple[int, int] = (48, 32)) -> tuple[bytes, bytes, bytes, bytes]:
    """A before/after pair with one planted square and its masks, deterministic in ``seed``."""
    rng = random.Random(seed)
    w, h = size
    before = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    after = before.copy()
    x0, y0 = rng.randrange(w // 2), rng.randrange(h // 2)
    box = (x0, y0, x0 + w // 4, y0 + h // 4)
    ImageDraw.Draw(after).rectangle(box, fill=(255, 0, 0))
    mask_after = Image.new("L", size, 0)
    ImageDraw.Draw(mask_after).rectangle(box, fill=255)
    mask_before = Image.new("L", size, 0)
    return png_bytes(before), png_bytes(after), png_bytes(mask_before), png_bytes(mask_after)


def make_record(i: int, split: str = "test", benchmark: str = "omnidiff", domain: str = "render", **kw) -> PairRecord:
    before, after, mb, ma = make_pair_images(i)
    fields = dict(
        pair_id=f"pair-{i:04d}",
        scene_id=f"scene-{i // 2:03d}",
        benchmark=benchmark,
        split=split,
        domain=domain,
        setting="tabletop",
        image_before=before,
        image_after=after,
        mask_before=mb,
        mask_after=ma,
        captions=[f"a red square appeared in pair {i}.", "something red was added."],
        change_types=["addition"],
        provenance={"generator": "tests", "seed": i},
    )
    fields.update(kw)
    return PairRecord(**fields)


@pytest.fixture
def small_store(tmp_path):
    """A store with 6 test pairs and 4 train pairs."""
    from annotations import Store

    store = Store.create(tmp_path / "store", name="small")
    store.append([make_record(i, split="test") for i in range(6)])
    store.append([make_record(i, split="train") for i in range(6, 10)])
    return store


# -- one warm METEOR JVM per test process (see tests/metrics_helpers.py) ------------------------------
@pytest.fixture(scope="session")
def _warm_meteors():
    from tests.metrics_helpers import WarmMeteors

    warm = WarmMeteors()
    yield warm
    warm.close()


@pytest.fixture
def meteor_session(_warm_meteors):
    """A running ``MeteorSession`` to pass as ``score_captions(..., meteor=meteor_session)``."""
    return _warm_meteors.session()


@pytest.fixture
def shared_meteor(_warm_meteors, monkeypatch):
    """In-process ``omnidiff score``/``eval`` runs of this test borrow the warm METEOR JVM instead of starting one."""
    import omnidiff.metrics.meteor as meteor_module
    import omnidiff.metrics.scorer as scorer_module

    monkeypatch.setattr(scorer_module, "MeteorSession", _warm_meteors.borrow)
    monkeypatch.setattr(meteor_module, "MeteorSession", _warm_meteors.borrow)


@pytest.fixture
def stock_meteor(_warm_meteors):
    """pycocoevalcap's own ``Meteor``, running, for ``stock_scores(..., meteor=stock_meteor)``."""
    return _warm_meteors.stock()


# -- one rendered store per test process --------------------------------------------------------------
@pytest.fixture(scope="session")
def rendered_six(tmp_path_factory):
    """``omnidiff render --scenes 1 --profile test --seed 3 --split test --pairs-per-scene 6``, rendered once per
    test process (Blender is the slow part of the tests that read it). Read it; copy it to write into it."""
    import importlib.util

    if importlib.util.find_spec("bpy") is None:
        pytest.skip("bpy is not installed")
    import cli

    out = tmp_path_factory.mktemp("rendered-six") / "store"
    with pytest.raises(SystemExit) as exc:
        cli.main(["render", "--scenes", "1", "--profile", "test", "--seed", "3", "--split", "test",
                  "--pairs-per-scene", "6", "--out", str(out)])
    assert exc.value.code in (0, None)
    return out
