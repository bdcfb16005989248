"""M3Diff training pieces: what is trained and how, the supervised tokens, the data across stores."""

from __future__ import annotations

import pytest
import torch

from conftest import make_record
from m3diff_helpers import single_thread
from omnidiff.models.m3diff.loading import resolve_placement
from omnidiff.models.m3diff.training import (
    IGNORE_INDEX,
    TrainConfig,
    build_training_model,
    collate,
    lr_factor,
    parameter_groups,
)
from omnidiff.models.m3diff.sampling import SampleOrder


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    yield from single_thread()


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    from annotations import Store

    root = tmp_path_factory.mktemp("m3dt")
    first = Store.create(root / "a", name="a")
    first.append([make_record(i, split="train") for i in range(2)])
    second = Store.create(root / "b", name="b")
    second.append([make_record(i, split="train", captions=[f"only caption {i}."]) for i in range(5, 8)])
    second.append([make_record(9, split="train", captions=[])])
    return first.root, second.root


def config_for(stores, tmp_path, **overrides) -> TrainConfig:
    fields = dict(data=tuple(str(s) for s in stores), out=str(tmp_path / "run"), preset="tiny-random", device="cpu",
                  dtype="bfloat16")
    fields.update(overrides)
    return TrainConfig(**fields)


def test_lora_on_the_language_model_and_full_training_elsewhere(stores, tmp_path):
    config = config_for(stores, tmp_path)
    bundle = build_training_model(config, resolve_placement("cpu", "bfloat16"))
    model = bundle.model
    lora = model.peft_config["default"]
    assert (lora.r, lora.lora_alpha) == (128, 256)
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    lora_names = [n for n in trainable if "lora_" in n]
    assert lora_names and all(".language_model.layers." in n for n in lora_names)
    assert {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"} == {
        n.split(".lora_")[0].rsplit(".", 1)[-1] for n in lora_names}
    for part in (".vision_tower.", ".multi_modal_projector.linear_1", ".mdp.", ".image_newline"):
        assert any(part in n for n in trainable), part
    # only what no loss reaches stays frozen outside the language model: the MDP reads hidden_states[k]
    assert [n for n in frozen if any(p in n for p in (".vision_tower.", ".multi_modal_projector.", "image_newline"))] == [
        n for n in frozen if ".vision_tower.post_layernorm." in n]
    assert len([n for n in frozen if ".vision_tower." in n]) == 2
    assert all(".language_model." in n or "lm_head" in n or ".post_layernorm." in n for n in frozen)
    assert all(p.dtype == torch.float32 for p in trainable.values())  # float32 master weights under bf16 autocast
    assert any(p.dtype == torch.bfloat16 for n, p in model.named_parameters() if n in frozen)
    assert model.base_model.model.is_activation_checkpointing
    groups = {g["name"]: g["lr"] for g in parameter_groups(model, config)}
    assert groups == {"lora": config.lr, "vision": config.vision_lr, "mdp": config.mdp_lr,
                      "projector": config.projector_lr}


def test_only_the_caption_and_its_end_token_are_supervised(stores, tmp_path):
    from omnidiff.models.m3diff.data import PairSamples

    config = config_for(stores, tmp_path, dtype="float32")
    bundle = build_training_model(config, resolve_placement("cpu", "float32"))
    samples = PairSamples([s for s in stores])
    chosen = [samples.samples[0], samples.samples[-1]]
    inputs = collate(bundle, samples, chosen)
    tokenizer = bundle.tokenizer
    for row, sample in enumerate(chosen):
        supervised = inputs["labels"][row][inputs["labels"][row] != IGNORE_INDEX]
        assert tokenizer.decode(supervised) == sample.caption + tokenizer.eos_token
    assert inputs["pixel_values"].shape[0] == 2 * len(chosen)


def test_samples_span_stores_in_a_stable_order_and_skip_uncaptioned_pairs(stores):
    from omnidiff.models.m3diff.data import PairSamples

    samples = PairSamples(list(stores))
    assert [(s.store_index, s.pair_id) for s in samples.samples] == [
        (0, "pair-0000"), (0, "pair-0000"), (0, "pair-0001"), (0, "pair-0001"),
        (1, "pair-0005"), (1, "pair-0006"), (1, "pair-0007"),
    ]
    before, after = samples.images(samples.samples[-1])
    assert before.size == after.size == (48, 32)
    assert before.tobytes() != after.tobytes()


def order(count: int, seed: int, epochs: int) -> list[int]:
    pool = SampleOrder([count], seed)
    return [pool[p] for p in range(count * epochs)]


def test_order_and_schedule_are_pure_functions_of_seed_and_step():
    assert order(7, seed=3, epochs=2) == order(7, seed=3, epochs=2)
    assert order(7, seed=3, epochs=1) != order(7, seed=4, epochs=1)
    assert sorted(order(7, seed=3, epochs=2)) == sorted(list(range(7)) * 2)
    assert sorted(order(7, seed=3, epochs=2)[:7]) == list(range(7))  # every sample once per epoch
    assert lr_factor(0, total=100, warmup=4) == pytest.approx(0.25)
    assert lr_factor(4, total=100, warmup=4) == pytest.approx(1.0)
    assert lr_factor(99, total=100, warmup=4) < 0.01
