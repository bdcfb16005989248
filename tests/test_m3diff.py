"""M3Diff on CPU with the tiny configuration: MDP maths, layer taps, gradients, save/load, key checks."""

from __future__ import annotations

import math
import shutil

import pytest
import torch
from safetensors.torch import load_file

from m3diff_helpers import (
    single_thread,
    CPU32,
    batch_inputs,
    logits,
    rewrite_weights,
    set_model_type,
    tiny_bundle,
    to_llava_hf_layout,
    to_llava_next_layout,
)
from omnidiff.models.m3diff.errors import CheckpointKeyError, M3DiffError
from omnidiff.models.m3diff.mdp import ChannelGate, DifferenceProjection, MDPConfig, MultiScaleDifferentialPerception
from omnidiff.models.m3diff.modeling import ImagePairingError, mdp_parameter_names
from omnidiff.models.m3diff.pipeline import load_bundle, save_bundle


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


@pytest.fixture(scope="module")
def bundle():
    return tiny_bundle(seed=0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory, bundle):
    folder = tmp_path_factory.mktemp("m3diff") / "ckpt"
    save_bundle(bundle, folder)
    return folder


def copy_checkpoint(saved, tmp_path):
    target = tmp_path / "ckpt"
    shutil.copytree(saved, target)
    return target


# Acceptance 1 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layers", [[2, 4, 5], [1, 3]])
def test_mdp_is_fed_exactly_the_configured_encoder_layers(layers):
    bundle = tiny_bundle(seed=1, mdp_layers=layers)
    encoder_layers = bundle.model.model.vision_tower.encoder.layers
    outputs: dict[int, torch.Tensor] = {}
    for index, layer in enumerate(encoder_layers, start=1):
        layer.register_forward_hook(
            lambda _m, _a, out, index=index: outputs.__setitem__(index, (out[0] if isinstance(out, tuple) else out).clone())
        )
    fed: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []
    bundle.model.mdp.register_forward_pre_hook(lambda _m, args: fed.append(args))
    logits(bundle, batch_inputs(bundle, count=2))

    assert len(fed) == 1
    before, after = fed[0]
    assert len(before) == len(after) == len(layers)
    for slot, tensor in enumerate(before):
        # images 0, 2 are the "before" images of pairs 0, 1; images 1, 3 the "after" ones
        assert [k for k, out in outputs.items() if torch.equal(out[0::2], tensor)] == [layers[slot]]
        assert [k for k, out in outputs.items() if torch.equal(out[1::2], after[slot])] == [layers[slot]]
    assert bundle.model.config.vision_feature_layer == layers


def test_layers_outside_the_encoder_are_refused():
    with pytest.raises(ValueError, match="outside the vision encoder"):
        tiny_bundle(mdp_layers=[2, 9])


# Acceptance 2 ------------------------------------------------------------------------------------------
def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_gate_and_difference_projection_match_a_hand_computation():
    f1, f2 = [1.0, 2.0], [3.0, -1.0]
    w_m = [[0.5, -0.25, 0.1, 0.0], [-0.3, 0.2, 0.0, 0.4]]
    b_m = [0.1, -0.2]
    w_p = [[0.1, 0.2, -0.1, 0.3, 0.5, -0.5], [0.0, -0.2, 0.4, 0.1, -0.3, 0.2]]
    b_p = [0.05, -0.05]

    gate, projection = ChannelGate(2), DifferenceProjection(2)
    with torch.no_grad():
        gate.proj.weight.copy_(torch.tensor(w_m)); gate.proj.bias.copy_(torch.tensor(b_m))
        projection.proj.weight.copy_(torch.tensor(w_p)); projection.proj.bias.copy_(torch.tensor(b_p))
    g1, g2 = gate(torch.tensor([[f1]]), torch.tensor([[f2]]))
    diff = projection(g1, g2)

    stacked = f1 + f2
    lam = [_sigmoid(sum(w * x for w, x in zip(w_m[j], stacked)) + b_m[j]) for j in range(2)]
    h1 = [lam[j] * f1[j] for j in range(2)]
    h2 = [lam[j] * f2[j] for j in range(2)]
    features = h1 + h2 + [h1[j] - h2[j] for j in range(2)]
    expected = [sum(w * x for w, x in zip(w_p[j], features)) + b_p[j] for j in range(2)]

    assert g1[0, 0].tolist() == pytest.approx(h1, abs=1e-6)
    assert g2[0, 0].tolist() == pytest.approx(h2, abs=1e-6)
    assert diff[0, 0].tolist() == pytest.approx(expected, abs=1e-6)


def mdp_on_random_features(**options: str):
    """A small MDP over three layers of random (before, after) features, and each block's output."""
    torch.manual_seed(0)
    mdp = MultiScaleDifferentialPerception(MDPConfig(hidden_size=8, layers=(1, 2, 3), num_heads=2, **options))
    before = [torch.randn(2, 5, 8) for _ in range(3)]
    after = [torch.randn(2, 5, 8) for _ in range(3)]
    return mdp, before, after, [block(b, a) for block, b, a in zip(mdp.blocks, before, after)]


def test_mdp_scale_weights_are_a_distribution_and_fusion_sees_the_other_image():
    mdp, before, after, per_layer = mdp_on_random_features()
    weights = mdp.scale(per_layer)
    assert weights.shape == (2, 3, 1)
    assert torch.allclose(weights.sum(1), torch.ones(2, 1))
    fused_before, _ = mdp(before, after)
    changed_after = [a + 1.0 for a in after]
    assert not torch.allclose(mdp(before, changed_after)[0], fused_before)


def test_per_image_gates_weight_each_image_by_its_own_half_of_the_gate():
    gate = ChannelGate(2, per_image=True)
    assert tuple(gate.proj.weight.shape) == (4, 4)
    f1, f2 = torch.tensor([[[1.0, 2.0]]]), torch.tensor([[[3.0, -1.0]]])
    g1, g2 = gate(f1, f2)
    lam = torch.sigmoid(gate.proj(torch.cat([f1, f2], dim=-1)))
    assert torch.allclose(g1, lam[..., :2] * f1) and torch.allclose(g2, lam[..., 2:] * f2)
    assert not torch.allclose(lam[..., :2], lam[..., 2:])  # two gates, not one


def test_per_channel_layer_weights_are_a_distribution_per_channel_and_a_checkpoint_can_carry_them():
    mdp, before, after, per_layer = mdp_on_random_features(layer_weights="per_channel", gate="per_image")
    weights = mdp.scale(per_layer)
    assert weights.shape == (2, 3, 8)
    assert torch.allclose(weights.sum(1), torch.ones(2, 8))
    fused_before, _ = mdp(before, after)
    expected = sum(weights[:, k, None, :] * per_layer[k][0] for k in range(3))
    assert torch.allclose(fused_before, expected, atol=1e-6)
    with pytest.raises(ValueError, match="gate 'both'"):
        MDPConfig(hidden_size=8, gate="both")
    model = tiny_bundle(seed=3, mdp_gate="per_image", mdp_layer_weights="per_channel").model
    assert model.config.mdp_gate == "per_image" and model.mdp.config.layer_weights == "per_channel"


def test_anything_but_two_images_per_sample_is_refused(bundle):
    features = torch.zeros(3, 17, 32 * 3)
    with pytest.raises(ImagePairingError, match="pairs"):
        bundle.model.model.multi_modal_projector(features)
    inputs = batch_inputs(bundle, count=1)
    with pytest.raises(ImagePairingError, match="exactly two images"):
        bundle.model(**{**inputs, "batch_num_images": None})
    with pytest.raises(ImagePairingError, match=r"got \[1, 1\]"):
        bundle.model(**{**inputs, "batch_num_images": torch.tensor([1, 1])})


# Acceptance 3 ------------------------------------------------------------------------------------------
def test_gradients_reach_every_mdp_parameter_and_one_step_lowers_the_loss():
    bundle = tiny_bundle(seed=2)
    model = bundle.model.train()
    inputs = batch_inputs(bundle, count=2, captions=["a red square appeared.", "the square moved left."])
    labels = inputs["input_ids"].clone()
    labels[inputs["attention_mask"] == 0] = -100
    inputs["labels"] = labels

    loss = model(**inputs).loss
    loss.backward()
    names = mdp_parameter_names(model)
    assert len(names) > 20
    params = dict(model.named_parameters())
    without_gradient = [n for n in names if params[n].grad is None or not params[n].grad.abs().sum() > 0]
    assert without_gradient == []

    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    optimizer.step()
    with torch.no_grad():
        after = model(**inputs).loss
    assert after.item() < loss.item()


# Acceptance 4 ------------------------------------------------------------------------------------------
def test_save_and_load_give_the_same_logits_bit_for_bit(bundle, saved):
    inputs = batch_inputs(bundle, count=2)
    loaded = load_bundle(str(saved), CPU32)
    assert torch.equal(logits(bundle, inputs), logits(loaded, inputs))
    assert loaded.identity.startswith(str(saved))


@pytest.mark.parametrize("convert", [to_llava_next_layout, to_llava_hf_layout])
def test_other_llava_layouts_load_through_the_key_mapping(bundle, saved, tmp_path, convert):
    folder = copy_checkpoint(saved, tmp_path)
    original = set(load_file(str(saved / "model.safetensors")))
    kept = {convert(k) for k in original} & original
    assert kept <= {"lm_head.weight", "model.image_newline"}  # everything else really is renamed
    rewrite_weights(folder, lambda w: {convert(k): v for k, v in w.items()})
    set_model_type(folder, "llava_onevision")
    inputs = batch_inputs(bundle, count=1)
    assert torch.equal(logits(bundle, inputs), logits(load_bundle(str(folder), CPU32), inputs))


# Acceptance 6 ------------------------------------------------------------------------------------------
def test_a_missing_key_fails_with_its_name(saved, tmp_path):
    folder = copy_checkpoint(saved, tmp_path)
    gone = "model.multi_modal_projector.mdp.blocks.1.gate.proj.weight"
    rewrite_weights(folder, lambda w: {k: v for k, v in w.items() if k != gone})
    with pytest.raises(CheckpointKeyError) as caught:
        load_bundle(str(folder), CPU32)
    assert caught.value.missing == [gone]
    assert gone in str(caught.value) and "1 missing key(s)" in str(caught.value)


def test_an_extra_key_fails_with_its_name(saved, tmp_path):
    folder = copy_checkpoint(saved, tmp_path)
    rewrite_weights(folder, lambda w: {**w, "model.mdp_extra.weight": torch.zeros(3)})
    with pytest.raises(CheckpointKeyError) as caught:
        load_bundle(str(folder), CPU32)
    assert caught.value.unexpected == ["model.mdp_extra.weight"]
    assert "1 unexpected key(s): model.mdp_extra.weight" in str(caught.value)


def test_a_wrong_shape_fails(saved, tmp_path):
    folder = copy_checkpoint(saved, tmp_path)
    rewrite_weights(folder, lambda w: {**w, "model.image_newline": torch.zeros(7)})
    with pytest.raises(M3DiffError, match="image_newline"):
        load_bundle(str(folder), CPU32)


def test_plain_llava_onevision_weights_need_the_mdp_unless_training_allows_it(saved, tmp_path):
    folder = copy_checkpoint(saved, tmp_path)
    rewrite_weights(folder, lambda w: {k: v for k, v in w.items() if ".mdp." not in k})
    with pytest.raises(CheckpointKeyError) as caught:
        load_bundle(str(folder), CPU32)
    assert caught.value.missing and all(".mdp." in k for k in caught.value.missing)
    assert load_bundle(str(folder), CPU32, allow_missing_mdp=True).model is not None


def test_pickle_only_folders_are_refused(tmp_path, saved):
    folder = copy_checkpoint(saved, tmp_path)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(M3DiffError, match="only pickle weights .*pytorch_model.bin"):
        load_bundle(str(folder), CPU32)


@pytest.mark.parametrize("config_text, message", [
    ("{not json", "not JSON"),
    ('{"model_type": "bert"}', "none of m3diff, llava_onevision, llava_qwen"),
    ("[1, 2]", "not a JSON object"),
])
def test_bad_configs_are_refused(saved, tmp_path, config_text, message):
    folder = copy_checkpoint(saved, tmp_path)
    (folder / "config.json").write_text(config_text)
    with pytest.raises(M3DiffError, match=message):
        load_bundle(str(folder), CPU32)


def test_missing_folder_and_uncached_hub_id_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(M3DiffError, match="no such folder"):
        load_bundle(str(tmp_path / "absent" / "weights"), CPU32)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(M3DiffError, match="neither a local folder nor available from the hub cache"):
        load_bundle("nobody-here/no-such-m3diff", CPU32)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without CUDA")
def test_without_cuda_only_an_explicit_cpu_is_accepted():
    from omnidiff.models.m3diff.loading import resolve_placement

    for device in ("auto", "cuda", "cuda:0"):
        with pytest.raises(M3DiffError, match="needs a CUDA GPU .*device=cpu"):
            resolve_placement(device, "auto")
    assert resolve_placement("cpu", "auto").dtype == torch.float32
    with pytest.raises(M3DiffError, match="expected auto, cuda"):
        resolve_placement("tpu", "auto")
    with pytest.raises(M3DiffError, match="dtype='int8'"):
        resolve_placement("cpu", "int8")
