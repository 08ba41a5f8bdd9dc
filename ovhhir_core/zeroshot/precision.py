"""Precision of a loaded video-LLM: the vision side's dtype and int8 weights for the text model.

Two settings of the ``zeroshot`` preset section, applied once after loading
(:func:`apply_precision`):

- ``dtype`` (``auto``, ``float32``, ``bfloat16``, ``float16``): the vision tower and connector.
  ``auto`` is :func:`ovhhir_core.device.fast_dtype`: bfloat16 where the hardware computes it
  natively (CUDA with bf16, CPUs with AVX-512 BF16 or AMX), else float32. Inputs are cast to the
  vision side's dtype and its output back to the text model's, so the two may differ.
- ``quantize`` (``none``, ``int8``): ``int8`` stores every linear layer of the text model (and
  its output head) as int8 weights with one scale per output row, and multiplies with int8
  activations quantised per call, one scale per tensor (dynamic quantisation), through PyTorch's
  own fbgemm kernels (``torch.ops.quantized.linear_dynamic``; PyTorch marks quantized tensors as
  deprecated). It is off by default: on a trained model of the SmolVLM2 text family
  (SmolLM2-135M-Instruct, ``benchmarks/bench_zeroshot_precision.py agreement``) it kept the first
  greedy token on only 5 of 12 prompts and the greedy argmax at 130 of 259 positions; on CPUs
  without VNNI the activations get 7 bits, and language models' activation outliers then
  swamp a per-tensor scale. torchao 0.18's CPU int8 layouts, which keep activations in float,
  ran 1.3-17x slower than float32 on such CPUs without ``torch.compile``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ovhhir_core.config.zeroshot import QUANTIZE
from ovhhir_core.device import DTYPES, fast_dtype
from ovhhir_core.errors import UserError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Precision:
    """What :func:`apply_precision` did: the vision side's and text model's number formats."""

    vision: str
    text: str

    def describe(self) -> str:
        """One phrase for captions and ``info``, e.g. ``vision float32, text int8``."""
        return f"vision {self.vision}, text {self.text}"


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def int8_available() -> bool:
    """True when PyTorch has its dynamic int8 linear kernels (fbgemm, x86 CPUs)."""
    return "fbgemm" in torch.backends.quantized.supported_engines and hasattr(
        torch.ops.quantized, "linear_dynamic"
    )


def resolve_quantize(name: str | None, device: torch.device) -> str:
    """``none`` (or None) or ``int8``; ``int8`` off the CPU, or where the kernels are missing,
    is a :class:`UserError`."""
    name = name or "none"
    if name not in QUANTIZE:
        raise UserError(f"unknown quantize {name!r}; use one of {', '.join(QUANTIZE)}")
    if name == "int8" and (device.type != "cpu" or not int8_available()):
        where = "a GPU" if device.type in ("cuda", "mps") else f"device {device}"
        if device.type == "cpu":
            where = "this PyTorch build (it has no fbgemm int8 kernels)"
        raise UserError(
            f"--quantize int8 runs on CPUs with PyTorch's int8 kernels, not on {where}; "
            "use --quantize none (on a GPU the bfloat16 default is already fast)"
        )
    return name


def resolve_vision_dtype(name: str | None, device: torch.device) -> torch.dtype:
    """``auto`` (or None): :func:`fast_dtype`; else the named dtype."""
    if name in (None, "", "auto"):
        return fast_dtype(device)
    if name not in DTYPES:
        raise UserError(f"unknown zeroshot.dtype {name!r}; use auto or one of {', '.join(DTYPES)}")
    return DTYPES[name]


class Int8Linear(nn.Module):
    """A linear layer with int8 weights (per output row) and int8 dynamic activations."""

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = (weight.abs().amax(dim=1) / 127.0).clamp_min(1e-12).double()
        zeros = torch.zeros(weight.shape[0], dtype=torch.long)
        bias = None if linear.bias is None else linear.bias.detach().float()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # quantized tensors: deprecated
            qweight = torch.quantize_per_channel(weight, scale, zeros, 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(qweight, bias)
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # reduce_range: 7-bit activations, as fbgemm needs on CPUs without VNNI
        out = torch.ops.quantized.linear_dynamic(x.float(), self._packed, True)
        return out.to(x.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8"


def quantize_int8(module: nn.Module) -> int:
    """Replace every ``nn.Linear`` under ``module`` by :class:`Int8Linear`; returns how many."""
    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Linear):
            setattr(module, name, Int8Linear(child))
            count += 1
        else:
            count += quantize_int8(child)
    return count


def text_side(model: Any) -> nn.Module:
    """The language model that reads the embeddings (its output head is ``model.lm_head``)."""
    return model.get_decoder()


def vision_side(model: Any) -> list[nn.Module]:
    """The modules beside the language model that turn frames into its embeddings (SmolVLM2:
    vision tower and connector; Qwen3-VL: the visual tower)."""
    text = text_side(model)
    return [
        m for m in model.model.children() if m is not text and any(True for _ in m.parameters())
    ]


def _cast_inputs(dtype: torch.dtype):
    def hook(module, args, kwargs):
        cast = [a.to(dtype) if torch.is_tensor(a) and a.is_floating_point() else a for a in args]
        kwargs = {
            k: v.to(dtype) if torch.is_tensor(v) and v.is_floating_point() else v
            for k, v in kwargs.items()
        }
        return tuple(cast), kwargs

    return hook


def _cast_tree(value: Any, dtype: torch.dtype) -> Any:
    """``value`` with every floating tensor in it (tuples, lists, dicts, model outputs) cast."""
    if torch.is_tensor(value):
        return value.to(dtype) if value.is_floating_point() else value
    if isinstance(value, dict):  # transformers' ModelOutput is a dict too
        for key in list(value.keys()):
            value[key] = _cast_tree(value[key], dtype)
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_cast_tree(v, dtype) for v in value)
    return value


def _cast_output(dtype: torch.dtype):
    def hook(module, args, output):
        return _cast_tree(output, dtype)

    return hook


def set_vision_dtype(model: Any, dtype: torch.dtype) -> None:
    """Run the vision side in ``dtype``; the text model keeps its own (each vision module's
    inputs are cast to ``dtype`` and its outputs back to the text model's)."""
    text_dtype = next(text_side(model).parameters()).dtype
    modules = vision_side(model)
    if all(next(m.parameters()).dtype == dtype for m in modules):
        return
    for module in modules:
        module.to(dtype)
        module.register_forward_pre_hook(_cast_inputs(dtype), with_kwargs=True)
        module.register_forward_hook(_cast_output(text_dtype))
    # transformers casts the vision features to ``model.model.dtype``, its first parameter's
    # dtype: list the text model first so that is the text model's
    children = model.model._modules
    text = text_side(model)
    ordered = sorted(children.items(), key=lambda item: item[1] is not text)
    children.clear()
    children.update(ordered)


def apply_precision(
    model: Any, device: torch.device, dtype: str | None, quantize: str | None
) -> Precision:
    """Apply the ``dtype`` (vision side) and ``quantize`` (text model) settings to ``model``, a
    transformers image-text-to-text model (``model.model`` holds the vision side and the
    language model, ``get_decoder()`` names the latter)."""
    vision_dtype = resolve_vision_dtype(dtype, device)
    mode = resolve_quantize(quantize, device)
    set_vision_dtype(model, vision_dtype)
    text = _name(next(text_side(model).parameters()).dtype)
    if mode == "int8":
        count = quantize_int8(text_side(model))
        if isinstance(model.lm_head, nn.Linear):
            model.lm_head = Int8Linear(model.lm_head)
            count += 1
        log.info("zero-shot text model: %d linear layers as int8", count)
        text = "int8"
    return Precision(vision=_name(vision_dtype), text=text)


def settings_line(dtype: str | None, quantize: str | None, device: torch.device) -> str:
    """What a preset's ``dtype`` and ``quantize`` resolve to on ``device``, without loading the
    model (for ``info``), e.g. ``vision float32 (dtype auto), text as --dtype (quantize none)``."""
    try:
        vision = _name(resolve_vision_dtype(dtype, device))
        text = resolve_quantize(quantize, device)
    except UserError as exc:
        return f"not usable here: {exc}"
    text = "int8" if text == "int8" else "as --dtype"
    return f"vision {vision} (dtype {dtype or 'auto'}), text {text} (quantize {quantize or 'none'})"
