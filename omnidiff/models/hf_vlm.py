"""``hf-vlm``: any Hugging Face image-text-to-text / chat VLM (Qwen2-VL, Qwen2.5-VL, LLaVA-OneVision,
InternVL, Idefics and the like), both images in one user message, batched greedy generation.

Everything is loaded through the ordinary ``from_pretrained`` path from ``path`` (a local folder or a
hub id already in the local cache; nothing is fetched by the tests). ``trust_remote_code`` is off
unless asked. Without torchvision, transformers 5.x cannot build a VLM processor that names a video
processor; ``processor_without_video`` builds the same processor class with the video part left out.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from annotations.errors import OmniDiffError
from omnidiff.models.base import CaptionModel, CaptionRequest, ModelParam

DTYPES = ("auto", "float32", "bfloat16", "float16")


def processor_without_video(processor_cls: type) -> type:
    """A subclass of a VLM processor class whose constructor takes no video processor.

    Its signature is the parent's without ``video_processor`` (transformers reads the signature to
    know the sub-processors and the settings to save), so nothing else about the processor changes.
    """
    import inspect

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        kwargs.pop("video_processor", None)
        processor_cls.__init__(
            self, image_processor=image_processor, tokenizer=tokenizer, video_processor=None,
            chat_template=chat_template, **kwargs,
        )

    parent = inspect.signature(processor_cls.__init__)
    __init__.__signature__ = parent.replace(
        parameters=[p for name, p in parent.parameters.items() if name != "video_processor"]
    )
    return type(processor_cls.__name__, (processor_cls,), {"__init__": __init__, "__module__": __name__})


def _processor_class(path: str, trust_remote_code: bool) -> type:
    import transformers
    from transformers import AutoConfig

    config_file = Path(path) / "processor_config.json"
    name = None
    if config_file.is_file():
        name = json.loads(config_file.read_text()).get("processor_class")
    if name is None:
        from transformers.models.auto.processing_auto import PROCESSOR_MAPPING

        config = AutoConfig.from_pretrained(path, trust_remote_code=trust_remote_code)
        return PROCESSOR_MAPPING[type(config)]
    if not hasattr(transformers, name):
        raise OmniDiffError(f"hf-vlm: {path}: unknown processor class {name}")
    return getattr(transformers, name)


def load_processor(path: str, trust_remote_code: bool = False):
    """``AutoProcessor`` when it builds; else the processor class rebuilt without its video part."""
    from transformers import AutoImageProcessor, AutoProcessor, AutoTokenizer

    try:
        return AutoProcessor.from_pretrained(path, trust_remote_code=trust_remote_code)
    except (ImportError, AttributeError, ValueError, TypeError, OSError):
        pass
    cls = processor_without_video(_processor_class(path, trust_remote_code))
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    image_processor = AutoImageProcessor.from_pretrained(path, trust_remote_code=trust_remote_code, backend="pil")
    extra: dict[str, Any] = {}
    config_file = Path(path) / "processor_config.json"
    if config_file.is_file():
        extra = {k: v for k, v in json.loads(config_file.read_text()).items()
                 if k not in ("processor_class", "image_processor", "video_processor", "auto_map")}
    template = getattr(tokenizer, "chat_template", None)
    template_file = Path(path) / "chat_template.jinja"
    if template_file.is_file():
        template = template_file.read_text()
    extra.pop("chat_template", None)
    return cls(image_processor=image_processor, tokenizer=tokenizer, chat_template=template, **extra)


def _weights_hash(path: str) -> str:
    """Hash of the weight files' names and sizes plus the config (cheap; no full read of the weights)."""
    folder = Path(path)
    if not folder.is_dir():
        return f"hub:{path}"
    digest = hashlib.sha256()
    for file in sorted(folder.iterdir()):
        if file.suffix in (".safetensors", ".bin") or file.name == "config.json":
            digest.update(file.name.encode())
            digest.update(str(file.stat().st_size).encode())
            if file.name == "config.json" or file.stat().st_size < 64 * 1024 * 1024:
                digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:16]


class HFVisionLanguageModel(CaptionModel):
    """A chat VLM from ``transformers``; two images and the prompt in one user turn."""

    version = "1"
    params = (
        ModelParam("path", str, None, "local folder or hub id of the model (required)"),
        ModelParam("device", str, "cpu", "cpu, cuda, cuda:N or auto"),
        ModelParam("dtype", str, "auto", "auto, float32, bfloat16 or float16"),
        ModelParam("batch_size", int, 4, "pairs per generate() call", affects_output=False),
        ModelParam("max_new_tokens", int, 128, "longest caption in tokens"),
        ModelParam("trust_remote_code", bool, False, "run code shipped with the model (off unless asked)"),
    )

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not options.get("path"):
            raise OmniDiffError("hf-vlm needs --model-arg path=FOLDER_OR_HUB_ID")
        if options["dtype"] not in DTYPES:
            raise OmniDiffError(f"hf-vlm: dtype {options['dtype']!r} is not one of {', '.join(DTYPES)}")
        if options["batch_size"] < 1 or options["max_new_tokens"] < 1:
            raise OmniDiffError("hf-vlm: batch_size and max_new_tokens must be at least 1")
        import torch
        from transformers import AutoModelForImageTextToText

        path, remote = options["path"], options["trust_remote_code"]
        dtype = "auto" if options["dtype"] == "auto" else getattr(torch, options["dtype"])
        device = options["device"]
        try:
            self.processor = load_processor(path, trust_remote_code=remote)
            self.model = AutoModelForImageTextToText.from_pretrained(
                path, dtype=dtype, trust_remote_code=remote, device_map=device if device == "auto" else None
            )
        except OSError as exc:
            raise OmniDiffError(f"hf-vlm: cannot load {path} ({str(exc).splitlines()[0]})") from None
        if device != "auto":
            self.model.to(device)
        self.model.eval()
        tokenizer = self.processor.tokenizer
        tokenizer.padding_side = "left"  # decoder-only batched generation
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not (getattr(self.processor, "chat_template", None) or getattr(tokenizer, "chat_template", None)):
            raise OmniDiffError(f"hf-vlm: {path} has no chat template")
        self._identity = _weights_hash(path)

    def weights_identity(self) -> str:
        return self._identity

    def _messages(self, prompt: str) -> list[dict[str, Any]]:
        return [{"role": "user", "content": [{"type": "image"}, {"type": "image"}, {"type": "text", "text": prompt}]}]

    def caption(self, batch: list[CaptionRequest]) -> list[str]:
        size = self.options["batch_size"]
        captions: list[str] = []
        for start in range(0, len(batch), size):
            captions.extend(self._generate(batch[start:start + size]))
        return captions

    def _generate(self, chunk: list[CaptionRequest]) -> list[str]:
        import torch

        texts = [self.processor.apply_chat_template(self._messages(r.prompt), add_generation_prompt=True, tokenize=False)
                 for r in chunk]
        images = [[r.image_before.convert("RGB"), r.image_after.convert("RGB")] for r in chunk]
        inputs = self.processor(images=images, text=texts, return_tensors="pt", padding=True)
        inputs = inputs.to(self.model.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.options["max_new_tokens"], do_sample=False)
        new_tokens = out[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self.processor.batch_decode(new_tokens, skip_special_tokens=True)]

    def close(self) -> None:
        self.model = None
