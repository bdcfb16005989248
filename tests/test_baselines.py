"""The CPU baselines: ``pixel-diff`` (registration, regions, template) and ``nn-caption`` (descriptor, index)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from omnidiff.models.base import CaptionRequest, EvalContext
from omnidiff.models.nn_caption import describe_difference
from omnidiff.models.pixel_diff import describe, find_regions
from omnidiff.models.registry import load_model


def textured(size=(160, 120), seed=0) -> Image.Image:
    """A smooth random background (ECC needs texture to register)."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = (rng.random((size[1], size[0], 3)) * 80 + 90).astype(np.uint8)
    return Image.fromarray(cv2.GaussianBlur(noise, (9, 9), 0))


def caption(before, after, **options) -> str:
    model = load_model("pixel-diff", {k: str(v) for k, v in options.items()}).model
    return model.caption([CaptionRequest("p", before, after, "what changed")])[0]


def test_appearance_disappearance_and_colour_change_are_told_apart():
    before = textured()
    ImageDraw.Draw(before).rectangle((15, 15, 45, 45), fill=(210, 30, 30))  # red square, top left
    after = textured()
    ImageDraw.Draw(after).rectangle((15, 15, 45, 45), fill=(30, 40, 210))  # turned blue
    ImageDraw.Draw(after).ellipse((110, 75, 140, 105), fill=(240, 240, 20))  # new disc, bottom right
    text = caption(before, after)
    assert text.startswith("Two regions changed.")
    assert "changed colour in the top left" in text and "appeared in the bottom right" in text
    assert "vanished in the bottom right" in caption(after, before)


def test_identical_images_say_no_change():
    img = textured()
    assert caption(img, img) == "There is no visible change between the two images."


def test_a_small_camera_shift_is_registered_away():
    before = textured(seed=3)
    ImageDraw.Draw(before).rectangle((60, 40, 90, 70), fill=(20, 200, 40))
    after = before.copy()
    ImageDraw.Draw(after).rectangle((120, 20, 140, 40), fill=(250, 250, 250))  # the one real change
    shifted = after.transform(after.size, Image.AFFINE, (1, 0, 3, 0, 1, 2), resample=Image.BILINEAR)
    regions = find_regions(np.asarray(before), np.asarray(shifted))
    assert len(regions) == 1 and regions[0].kind == "appeared"
    unregistered = find_regions(np.asarray(before), np.asarray(shifted), register=False)
    assert len(unregistered) > 1  # without registration the jitter itself shows up as change


def test_threshold_and_max_regions_options_act():
    before = textured(seed=5)
    after = before.copy()
    draw = ImageDraw.Draw(after)
    for i in range(4):
        draw.rectangle((10 + 35 * i, 50, 30 + 35 * i, 70), fill=(255, 255, 255))
    assert caption(before, after).startswith("Four regions changed.")
    assert caption(before, after, max_regions=2).startswith("Two regions changed.")
    assert caption(before, after, threshold=254) == "There is no visible change between the two images."


def test_template_wording():
    assert describe([], 10, 10) == "There is no visible change between the two images."


def test_difference_descriptor_is_unit_length_and_zero_for_no_change():
    a, b = textured(seed=1), textured(seed=2)
    vec = describe_difference(a, b)
    assert abs(float(np.linalg.norm(vec)) - 1.0) < 1e-5
    assert float(np.abs(describe_difference(a, a)).sum()) == 0.0


def test_nn_caption_must_be_prepared():
    from annotations import OmniDiffError

    model = load_model("nn-caption", {}).model
    with pytest.raises(OmniDiffError, match="not fitted"):
        model.caption([CaptionRequest("p", textured(), textured(), "x")])


def test_nn_caption_index_is_reused_and_identity_tracks_the_train_data(small_store, tmp_path):
    from conftest import make_record

    context = EvalContext("omnidiff", "test", small_store.root, tmp_path / "cache")
    first = load_model("nn-caption", {}).model
    first.prepare(context)
    [index] = list((tmp_path / "cache").glob("nn-caption-*.npz"))
    stamp = index.stat().st_mtime_ns
    second = load_model("nn-caption", {}).model
    second.prepare(context)
    assert index.stat().st_mtime_ns == stamp and second.weights_identity() == first.weights_identity()
    small_store.append([make_record(50, split="train", captions=["a brand new caption"])])
    third = load_model("nn-caption", {}).model
    third.prepare(context)
    assert third.weights_identity() != first.weights_identity()
    assert len(list((tmp_path / "cache").glob("nn-caption-*.npz"))) == 2


def test_lighting_and_camera_moves_are_told_as_such():
    before = textured(seed=7)
    darker = Image.fromarray((np.asarray(before).astype(np.float32) * 0.6).astype(np.uint8))
    assert caption(before, darker).startswith("The lighting changed")
    big = textured(size=(200, 150), seed=8)
    draw = ImageDraw.Draw(big)
    for i in range(6):  # a scene with structure for the alignment to lock on
        draw.rectangle((15 + 30 * i, 20 + 15 * (i % 3), 35 + 30 * i, 50 + 15 * (i % 3)), fill=(40 * i, 200 - 30 * i, 90))
    moved = big.crop((10, 6, 170, 126))  # the camera panned by 10 and 6 pixels
    still = big.crop((0, 0, 160, 120))
    assert caption(still, moved) == "The camera viewpoint changed."
