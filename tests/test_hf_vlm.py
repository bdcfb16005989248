"""``hf-vlm`` with a tiny random Qwen2-VL / Qwen2.5-VL / LLaVA-OneVision saved to a folder and loaded by from_pretrained (nothing downloaded)."""

from __future__ import annotations

import json

import pytest
from PIL import Image, ImageDraw

from conftest import make_record

from annotations import OmniDiffError, Store
from omnidiff.models.base import CaptionRequest
from omnidiff.models.registry import load_model

# in-process `omnidiff score`/`eval` runs borrow one warm METEOR JVM (tests/metrics_helpers.py)
pytestmark = pytest.mark.usefixtures("shared_meteor")

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = ("the a red blue green cube sphere cylinder moved appeared disappeared changed colour left right "
         "there is no change scene object describe difference between two images what").split()
SPECIAL = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>",
           "<|image_pad|>", "<|video_pad|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|> {{ m['role'] }} {% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|> <|image_pad|> <|vision_end|> {% else %}{{ c['text'] }} {% endif %}"
    "{% endfor %}<|im_end|> {% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


def tiny_tokenizer(special: list[str] = SPECIAL, template: str = CHAT_TEMPLATE):
    """A word-level tokenizer built locally, wrapped as a fast tokenizer with a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(special + WORDS + ["user", "assistant", "in", "one", "sentence", ".", ","])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", unk_token="<unk>", eos_token="<|im_end|>")
    tok.add_special_tokens({"additional_special_tokens": special[2:]})
    tok.chat_template = template
    return tok


LLAVA_SPECIAL = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
LLAVA_TEMPLATE = CHAT_TEMPLATE.replace("<|vision_start|> <|image_pad|> <|vision_end|> ", "<image> ")


def build_tiny_llava_onevision(folder):
    """LLaVA-OneVision: SigLIP tower (28 px tiles of 14 px patches) + Qwen2, anyres tiling."""
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration
    from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
    from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor

    from omnidiff.models.hf_vlm import processor_without_video

    tok = tiny_tokenizer(LLAVA_SPECIAL, LLAVA_TEMPLATE)
    pins = [[28, 28], [28, 56], [56, 28], [56, 56]]
    config = LlavaOnevisionConfig(
        text_config=dict(model_type="qwen2", vocab_size=len(tok), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"), pad_token_id=0),
        vision_config=dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                           num_attention_heads=2, image_size=28, patch_size=14),
        image_token_id=tok.convert_tokens_to_ids("<image>"), video_token_id=tok.convert_tokens_to_ids("<video>"),
        image_grid_pinpoints=pins, vision_feature_layer=-1, vision_feature_select_strategy="full",
    )
    torch.manual_seed(0)
    LlavaOnevisionForConditionalGeneration(config).eval().save_pretrained(folder)
    image_processor = LlavaOnevisionImageProcessorPil(size={"height": 28, "width": 28}, image_grid_pinpoints=pins)
    processor_without_video(LlavaOnevisionProcessor)(
        image_processor=image_processor, tokenizer=tok, chat_template=LLAVA_TEMPLATE, num_image_tokens=4,
        vision_feature_select_strategy="full",
    ).save_pretrained(folder)
    return folder


def build_tiny_vlm(folder, family: str):
    """Save a tiny random ``family`` model, its tokenizer and image processor to ``folder``."""
    from omnidiff.models.hf_vlm import processor_without_video

    if family == "llava_onevision":
        return build_tiny_llava_onevision(folder)
    tok = tiny_tokenizer()
    ids = {name: tok.convert_tokens_to_ids(name) for name in SPECIAL}
    text = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=2, max_position_embeddings=512, eos_token_id=ids["<|im_end|>"],
                pad_token_id=ids["<pad>"], bos_token_id=None,
                rope_parameters={"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0})
    common = dict(image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
                  vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    if family == "qwen2_vl":
        from transformers import Qwen2VLConfig as Config, Qwen2VLForConditionalGeneration as Model
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil as ImageProcessor
        from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor as Processor

        vision = dict(depth=1, embed_dim=32, hidden_size=32, num_heads=2, mlp_ratio=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, in_channels=3)
    else:
        from transformers import Qwen2_5_VLConfig as Config, Qwen2_5_VLForConditionalGeneration as Model
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil as ImageProcessor
        from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor as Processor

        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, in_channels=3, window_size=56, fullatt_block_indexes=[0])
    config = Config(text_config=text, vision_config=vision, **common)
    torch.manual_seed(0)
    Model(config).eval().save_pretrained(folder)
    image_processor = ImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16)
    processor_without_video(Processor)(image_processor=image_processor, tokenizer=tok, chat_template=CHAT_TEMPLATE).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module", params=["qwen2_vl", "qwen2_5_vl", "llava_onevision"])
def tiny_vlm(request, tmp_path_factory):
    return build_tiny_vlm(tmp_path_factory.mktemp(request.param), request.param)


def pairs() -> list[CaptionRequest]:
    out = []
    for i, size in enumerate([(64, 48), (56, 56), (40, 70)]):
        before = Image.new("RGB", size, (30 * i, 90, 160))
        after = before.copy()
        ImageDraw.Draw(after).rectangle((5, 5, 20 + 3 * i, 20), fill=(250, 10 * i, 0))
        out.append(CaptionRequest(f"p{i}", before, after, ["what changed", "describe the difference", "a red cube"][i]))
    return out


def test_batched_and_unbatched_greedy_generation_agree(tiny_vlm):
    batched = load_model("hf-vlm", {"path": str(tiny_vlm), "batch_size": "3", "max_new_tokens": "6"})
    single = load_model("hf-vlm", {"path": str(tiny_vlm), "batch_size": "1", "max_new_tokens": "6"})
    together = batched.model.caption(pairs())
    one_by_one = single.model.caption(pairs())
    assert together == one_by_one
    assert len(together) == 3 and all(isinstance(c, str) and c for c in together)
    assert batched.fingerprint() == single.fingerprint()  # batch size does not change the output
    other = load_model("hf-vlm", {"path": str(tiny_vlm), "max_new_tokens": "7"})
    assert other.fingerprint() != batched.fingerprint()
    assert batched.model.model.config.model_type in ("qwen2_vl", "qwen2_5_vl", "llava_onevision")
    assert type(batched.model.processor).__name__.endswith("Processor")


def test_eval_with_a_tiny_vlm(run_cli, tmp_path):
    tiny_vlm = build_tiny_vlm(tmp_path / "qwen2-vl", "qwen2_vl")
    store = Store.create(tmp_path / "s", name="v")
    store.append([make_record(i) for i in range(3)])
    res = run_cli("eval", "--model", "hf-vlm", "--model-arg", f"path={tiny_vlm}", "--model-arg", "max_new_tokens=5",
                  "--model-arg", "dtype=float32", "--data", store.root, "--results", tmp_path / "r", "--no-spice",
                  "--no-progress", "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)[0]["n"] == 3


@pytest.mark.parametrize("args, message", [
    ({}, "needs --model-arg path"),
    ({"path": "/nonexistent/tiny-vlm"}, "cannot load"),
    ({"path": "x", "dtype": "float8"}, "dtype 'float8'"),
])
def test_bad_options_are_clear_errors(args, message):
    with pytest.raises(OmniDiffError, match=message):
        load_model("hf-vlm", args)
