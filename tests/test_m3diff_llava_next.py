"""The authors' release format: LLaVA-NeXT ``llava_qwen`` checkpoints converted, inspected and evaluated."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import make_record
from m3diff_helpers import (
    CPU32,
    batch_inputs,
    logits,
    qwen2_style_tokenizer,
    reference_bundle,
    single_thread,
    to_llava_hf_layout,
    with_image_tokens,
    write_llava_next_checkpoint,
)
from omnidiff.models.m3diff.errors import CheckpointKeyError, M3DiffError
from omnidiff.models.m3diff.pipeline import load_bundle, save_bundle

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

ROWS = 320  # embedding rows: the tokenizer's ~300 tokens plus Qwen2-style padding rows


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


@pytest.fixture(scope="module")
def plain_tokenizer():
    return qwen2_style_tokenizer()


@pytest.fixture(scope="module")
def reference(plain_tokenizer):
    return reference_bundle(with_image_tokens(plain_tokenizer), ROWS, seed=7)


@pytest.fixture(scope="module")
def own_save(tmp_path_factory, reference):
    folder = tmp_path_factory.mktemp("own") / "m3diff"
    save_bundle(reference, folder)
    return folder


@pytest.fixture(scope="module")
def llava_next(tmp_path_factory, reference, plain_tokenizer):
    return write_llava_next_checkpoint(reference, plain_tokenizer, tmp_path_factory.mktemp("ln") / "llava-qwen")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from annotations import Store

    created = Store.create(tmp_path_factory.mktemp("store") / "s", name="ln")
    created.append([make_record(i, split="test") for i in range(2)])
    return created.root


# Acceptance 1 ------------------------------------------------------------------------------------------
def test_a_llava_next_checkpoint_gives_the_logits_of_the_same_weights_in_the_own_layout(llava_next, own_save, plain_tokenizer):
    assert not (llava_next / "preprocessor_config.json").exists()
    assert "<image>" not in plain_tokenizer.get_vocab()
    converted, own = load_bundle(str(llava_next), CPU32), load_bundle(str(own_save), CPU32)
    a, b = batch_inputs(converted, count=2), batch_inputs(own, count=2)
    assert torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["pixel_values"], b["pixel_values"])
    assert torch.allclose(logits(converted, a), logits(own, b), atol=1e-5, rtol=0)
    # text ids and their embeddings unchanged; the image tokens fell into the padding rows
    tokenizer = converted.tokenizer
    assert tokenizer.convert_tokens_to_ids("<image>") == len(plain_tokenizer)
    assert tokenizer("the red cube")["input_ids"] == plain_tokenizer("the red cube")["input_ids"]
    assert converted.model.get_input_embeddings().weight.shape[0] == ROWS


def test_the_converted_config_equals_the_own_one(llava_next, own_save):
    from omnidiff.models.m3diff.loading import open_checkpoint

    converted, own = open_checkpoint(llava_next).config.to_dict(), open_checkpoint(own_save).config.to_dict()
    for key in ("text_config", "vision_config", "image_token_index", "video_token_index", "image_grid_pinpoints",
                "vision_aspect_ratio", "projector_hidden_act", "multimodal_projector_bias", "vision_feature_layer",
                "mdp_layers", "mdp_num_heads", "mdp_fusion_mlp_ratio", "mdp_scale_mlp_ratio", "mdp_gate",
                "mdp_layer_weights", "tie_word_embeddings"):
        assert converted[key] == own[key], key


def test_eval_runs_on_the_llava_next_folder(run_cli, llava_next, store, tmp_path):
    res = run_cli("eval", "--model", "m3diff", "--model-arg", f"path={llava_next}", "--model-arg", "device=cpu",
                  "--model-arg", "max_new_tokens=3", "--benchmark", "omnidiff", "--data", store,
                  "--results", tmp_path / "results", "--no-spice", "--no-progress")
    assert res.code == 0, res.err
    lines = (tmp_path / "results" / "m3diff" / "omnidiff" / "test" / "predictions.jsonl").read_text().splitlines()
    assert [json.loads(line)["pair_id"] for line in lines] == ["pair-0000", "pair-0001"]


@pytest.mark.parametrize("gate, weights", [("per_image", "scalar"), ("shared", "per_channel")])
def test_mdp_variants_are_read_from_the_shapes(tmp_path, plain_tokenizer, gate, weights):
    bundle = reference_bundle(with_image_tokens(plain_tokenizer), ROWS, seed=1, mdp_gate=gate, mdp_layer_weights=weights)
    folder = write_llava_next_checkpoint(bundle, plain_tokenizer, tmp_path / "ckpt", mdp_prefix="model.mm_projector.mdp.")
    assert "mdp_gate" not in json.loads((folder / "config.json").read_text())
    loaded = load_bundle(str(folder), CPU32)
    assert (loaded.model.config.mdp_gate, loaded.model.config.mdp_layer_weights) == (gate, weights)
    inputs = batch_inputs(loaded, count=1)
    assert torch.allclose(logits(loaded, inputs), logits(bundle, inputs), atol=1e-5, rtol=0)


def test_a_tokenizer_without_padding_rows_gets_two_mean_rows(tmp_path, plain_tokenizer):
    rows = len(plain_tokenizer)
    bundle = reference_bundle(with_image_tokens(plain_tokenizer), rows + 2, seed=2)
    with torch.no_grad():  # what the release would hold: exactly one row per text token
        for module in (bundle.model.get_input_embeddings(), bundle.model.get_output_embeddings()):
            module.weight = torch.nn.Parameter(module.weight[:rows].clone())
    bundle.model.config.text_config.vocab_size = rows
    folder = write_llava_next_checkpoint(bundle, plain_tokenizer, tmp_path / "ckpt", shards=1)
    loaded = load_bundle(str(folder), CPU32)
    embedding = loaded.model.get_input_embeddings().weight
    assert embedding.shape[0] == len(loaded.tokenizer) == rows + 2
    assert torch.equal(embedding[:rows], bundle.model.get_input_embeddings().weight)
    assert torch.allclose(embedding[rows], embedding[:rows].mean(0)) and torch.equal(embedding[rows], embedding[rows + 1])
    assert loaded.model.config.text_config.vocab_size == rows + 2


@pytest.mark.parametrize("field, value, message", [
    ("mm_projector_type", "linear", "mm_projector_type='linear' is not supported"),
    ("mm_patch_merge_type", "flat", "mm_patch_merge_type='flat' is not supported"),
    ("mm_use_im_start_end", True, "mm_use_im_start_end=True is not supported"),
    ("mm_frobnicate", 3, "mm_frobnicate=3 is unknown"),
    ("mm_vision_tower", "openai/clip-vit-large-patch14", "only SigLIP towers"),
    ("mm_vision_tower", "someone/siglip-custom", "cannot tell its attention heads"),
    ("mm_hidden_size", 64, "mm_hidden_size=64 but the saved vision tower is 32 wide"),
    ("mdp_layers", [1, 2], "names 2 layers but the checkpoint has 3 MDP blocks"),
])
def test_unsupported_llava_qwen_settings_are_named(run_cli, tmp_path, reference, plain_tokenizer, store, field, value, message):
    folder = write_llava_next_checkpoint(reference, plain_tokenizer, tmp_path / "ckpt", shards=1)
    config = json.loads((folder / "config.json").read_text())
    config[field] = value
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(M3DiffError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_bundle(str(folder), CPU32)
    res = run_cli("eval", "--model", "m3diff", "--model-arg", f"path={folder}", "--model-arg", "device=cpu",
                  "--benchmark", "omnidiff", "--data", store, "--results", tmp_path / "r", "--no-spice", "--no-progress")
    assert res.code == 1 and message.split("'")[0] in res.err and len(res.err.strip().splitlines()) == 1


def test_grid_pinpoints_are_converted_from_width_height_and_the_string_form():
    from omnidiff.models.m3diff.llava_next import grid_pinpoints

    assert grid_pinpoints([[384, 768]], 384) == [[768, 384]]
    spelled = grid_pinpoints("(1x1),...,(2x3)", 384)
    assert len(spelled) == 6 and [768, 1152] not in spelled and [1152, 768] in spelled
    with pytest.raises(M3DiffError, match="image_grid_pinpoints"):
        grid_pinpoints("big", 384)


# Acceptance 2 ------------------------------------------------------------------------------------------
def test_inspect_shows_what_maps_on_the_three_layouts(run_cli, llava_next, own_save, tmp_path):
    from safetensors.torch import load_file, save_file

    res = run_cli("models", "inspect", llava_next)
    assert res.code == 0, res.err
    assert "llava_qwen" in res.out and "model.diff_perception.* -> model.multi_modal_projector.mdp.*" in res.out
    assert "model.mm_projector.0.* -> model.multi_modal_projector.linear_1.*" in res.out
    assert "left over: none" in res.out and "missing: none" in res.out

    own = run_cli("models", "inspect", own_save, "--json")
    assert own.code == 0, own.err
    report = json.loads(own.out)
    assert report["config_type"] == "m3diff" and report["unexpected"] == [] and report["missing"] == []
    assert {g["name"] for g in report["groups"]} == {"vision tower", "projector", "image newline", "MDP",
                                                     "language model", "lm head"}
    assert sum(g["tensors"] for g in report["groups"]) == len(load_file(str(own_save / "model.safetensors")))

    hf = tmp_path / "llava-hf"  # a llava-hf LLaVA-OneVision folder: no MDP, top-level sub-models
    hf.mkdir()
    weights = load_file(str(own_save / "model.safetensors"))
    save_file({to_llava_hf_layout(k): v for k, v in weights.items() if ".mdp." not in k}, str(hf / "model.safetensors"))
    config = json.loads((own_save / "config.json").read_text())
    config.update(model_type="llava_onevision", vision_feature_layer=-1)
    (hf / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k not in ("mdp_gate", "mdp_layer_weights")}))
    res = run_cli("models", "inspect", hf)
    assert res.code == 0, res.err
    assert "language_model.model.* -> model.language_model.*" in res.out
    assert "no MDP weights" in res.out and "left over: none" in res.out


def test_an_unknown_mdp_layout_fails_with_the_grouped_key_list(run_cli, tmp_path, reference, plain_tokenizer, store):
    folder = write_llava_next_checkpoint(reference, plain_tokenizer, tmp_path / "ckpt", mdp_prefix="model.dpm.",
                                         rename_mdp=lambda rel: rel.replace("blocks.", "stage").replace("gate.proj", "w_gate"))
    res = run_cli("models", "inspect", folder)
    assert res.code == 1
    assert "model.dpm.stage{0-2}.w_gate.weight [32, 64] x3" in res.out  # grouped, with shapes
    assert "model.dpm.scale.mlp.0.weight [8, 32]" in res.out
    assert res.err.strip().startswith("error:") and "unmatched" in res.err and len(res.err.strip().splitlines()) == 1
    with pytest.raises(CheckpointKeyError) as caught:
        load_bundle(str(folder), CPU32)
    assert "model.dpm.stage{0-2}.w_gate.weight [32, 64] x3" in str(caught.value)
    assert caught.value.missing and all(".mdp." in k for k in caught.value.missing)
    run = run_cli("eval", "--model", "m3diff", "--model-arg", f"path={folder}", "--model-arg", "device=cpu",
                  "--benchmark", "omnidiff", "--data", store, "--results", tmp_path / "r", "--no-spice", "--no-progress")
    assert run.code == 1 and "model.dpm.stage{0-2}.w_gate.weight" in run.err and len(run.err.strip().splitlines()) == 1


def test_inspect_reads_headers_only(run_cli, llava_next, monkeypatch):
    import safetensors
    import safetensors.torch

    def refuse(*_args, **_kwargs):
        raise AssertionError("inspect must not load tensors")

    monkeypatch.setattr(safetensors, "safe_open", refuse)
    monkeypatch.setattr(safetensors.torch, "load_file", refuse)
    assert run_cli("models", "inspect", llava_next).code == 0


def test_inspect_refuses_what_is_not_a_checkpoint(run_cli, tmp_path):
    assert run_cli("models", "inspect", tmp_path / "absent").code == 1
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "model.safetensors").write_bytes(b"\xff" * 64)
    (tmp_path / "x" / "config.json").write_text('{"model_type": "m3diff"}')
    res = run_cli("models", "inspect", tmp_path / "x")
    assert res.code == 1 and "not a safetensors file" in res.err and len(res.err.strip().splitlines()) == 1


# Acceptance 3 ------------------------------------------------------------------------------------------
def test_a_folder_without_processor_config_preprocesses_as_siglip(llava_next):
    """LLaVA-NeXT for a multi-image sample: pad to square with the mean colour (int(0.5 * 255) = 127), bicubic
    resize to the tower's size, x / 255, then (x - 0.5) / 0.5; computed here with PIL and numpy only."""
    bundle = load_bundle(str(llava_next), CPU32)
    size = bundle.model.config.vision_config.image_size
    before = Image.new("RGB", (60, 36), (10, 200, 40))
    before.paste((250, 20, 90), (5, 5, 30, 20))
    after = Image.new("RGB", (30, 50), (90, 90, 240))
    inputs = bundle.processor.pair_inputs([(before, after)], ["<image><image>"])
    for index, image in enumerate((before, after)):
        side = max(image.size)
        square = Image.new("RGB", (side, side), (127, 127, 127))
        square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        pixels = np.asarray(square.resize((size, size), Image.BICUBIC), dtype=np.float64) / 255.0
        expected = torch.tensor(((pixels - 0.5) / 0.5).transpose(2, 0, 1), dtype=torch.float32)
        assert torch.allclose(inputs["pixel_values"][index, 0], expected, atol=1e-6)


def test_the_prompt_is_conv_qwen_with_the_images_placed_as_llava_next_places_two(llava_next):
    from omnidiff.harness.prompts import prompt_for
    from omnidiff.models.m3diff.pipeline import chat_texts

    bundle = load_bundle(str(llava_next), CPU32)
    prompt = prompt_for("omnidiff")
    assert chat_texts(bundle.tokenizer, [prompt]) == [
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        f"<|im_start|>user\n<image>\n<image>\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
    ]
    with pytest.raises(M3DiffError, match="non-empty prompt"):
        chat_texts(bundle.tokenizer, [""])
