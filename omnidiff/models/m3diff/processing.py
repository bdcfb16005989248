"""Inputs for M3Diff: the chat format, a local byte-level tokenizer for the tiny preset, and the processor.

The chat format is LLaVA-NeXT's ``conv_qwen`` (ChatML, system "You are a helpful assistant."), with the two
image placeholders where LLaVA-NeXT's multi-image code puts them: each ``<image>`` followed by a newline,
before the instruction (``"<image>\n" * 2 + text``). The instruction itself is the benchmark's prompt from the
one prompt registry (``omnidiff.harness.prompts.prompt_for``), in training as in evaluation.

transformers 5's ``LlavaOnevisionProcessor`` insists on a video processor, and its only video processor
needs torchvision (not installed here: M3Diff captions image pairs, never videos), so
:class:`M3DiffProcessor` is a small subclass that accepts ``video_processor=None``. Images go through the
PIL image processor in multi-image mode: each pair is ``[before, after]``, padded to a square with the mean
colour, one view each, as LLaVA-NeXT does for multi-image samples. A checkpoint folder without
``preprocessor_config.json`` (a LLaVA-NeXT one) gets SigLIP's normalisation (mean = std = 0.5), which is what
its ``SigLipImageProcessor`` applies; CLIP's mean and std would shift every pixel the model sees.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image
from transformers import PreTrainedTokenizerFast
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil
from transformers.models.llava_onevision.processing_llava_onevision import LlavaOnevisionProcessor

IMAGE_TOKEN = "<image>"
VIDEO_TOKEN = "<video>"
SIGLIP_MEAN = SIGLIP_STD = (0.5, 0.5, 0.5)

# LLaVA-NeXT's conv_qwen (ChatML); each image placeholder is followed by a newline, before the text.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}{{ '<image>\n' }}{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SYSTEM_PROMPT = "You are a helpful assistant."
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>", IMAGE_TOKEN, VIDEO_TOKEN)


def pair_conversation(prompt: str, answer: str | None = None) -> list[dict[str, Any]]:
    """One pair as a chat: the two images then the instruction; the reference caption as the answer in training."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": prompt}]},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def build_byte_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level tokenizer (256 byte tokens + the chat/image specials) built in memory: nothing downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {symbol: index for index, symbol in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        additional_special_tokens=list(SPECIAL_TOKENS[1:]),
    )
    tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIAL_TOKENS[1:])})
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


class M3DiffProcessor(LlavaOnevisionProcessor):
    """LLaVA-OneVision's processor without a video processor (image pairs only)."""

    @classmethod
    def get_attributes(cls) -> list[str]:
        return ["image_processor", "tokenizer"]

    def __init__(self, image_processor=None, tokenizer=None, video_processor=None, **kwargs: Any) -> None:
        super().__init__(image_processor=image_processor, tokenizer=tokenizer, **kwargs)

    def pair_inputs(self, pairs: list[tuple[Image.Image, Image.Image]], texts: list[str]) -> dict[str, Any]:
        """Tensors for a batch of (before, after) pairs and their already templated texts."""
        images = [[before.convert("RGB"), after.convert("RGB")] for before, after in pairs]
        return self(images=images, text=texts, return_tensors="pt", padding=True)


def image_processor_for(image_size: int) -> LlavaOnevisionImageProcessorPil:
    """SigLIP's preprocessing at the tower's size: bicubic resize, x/255, mean = std = 0.5 (the pad colour
    of multi-image samples is that mean, 127)."""
    return LlavaOnevisionImageProcessorPil(
        size={"height": image_size, "width": image_size}, image_grid_pinpoints=[[image_size, image_size]],
        image_mean=list(SIGLIP_MEAN), image_std=list(SIGLIP_STD),
    )


def build_processor(tokenizer: PreTrainedTokenizerFast, image_size: int, patch_size: int) -> M3DiffProcessor:
    side = image_size // patch_size
    return M3DiffProcessor(
        image_processor=image_processor_for(image_size),
        tokenizer=tokenizer,
        num_image_tokens=side * side,
        vision_feature_select_strategy="full",
        chat_template=CHAT_TEMPLATE,
    )


def load_processor(path: Path, image_size: int, patch_size: int, tokenizer: Any = None) -> M3DiffProcessor:
    """Tokenizer from the checkpoint folder (unless given); the image processor from its
    preprocessor_config.json if any, else SigLIP's. The chat format is always M3Diff's own (conv_qwen):
    a Qwen2 tokenizer's template has no image parts and LLaVA-NeXT never used it."""
    from transformers import AutoTokenizer

    tokenizer = tokenizer if tokenizer is not None else AutoTokenizer.from_pretrained(str(path))
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    processor = build_processor(tokenizer, image_size, patch_size)
    if (path / "preprocessor_config.json").is_file():
        processor.image_processor = LlavaOnevisionImageProcessorPil.from_pretrained(str(path))
    return processor
