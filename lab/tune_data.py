"""Training data for ``lab tune``: find an export's files, read its rows, turn them into token ids.

An export folder (lab/export.py) holds ``FORMAT/SPLIT.jsonl`` and a ``manifest.json`` mapping
formats to files. Every weight-1 assistant message of a row becomes one training item: the prompt
is the conversation before it, rendered by lab/models/toolformat.py exactly as inference renders
it (shared prefix + suffix, each tokenized as inference tokenizes it), and the target is that
message as the model must write it. Labels are -100 on prompt tokens, so only targets are learnt.
This module does not train (lab/tune.py) and does not choose examples (lab/export.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.errors import BadInput
from lab.models import toolformat

IGNORE = -100


@dataclass(frozen=True)
class Item:
    """One training sequence: token ids and labels (-100 where no loss is taken)."""

    input_ids: list[int]
    labels: list[int]


def data_file(data_dir: str | Path, fmt: str = "hf", split: str = "train") -> Path:
    """The ``fmt``/``split`` file of an export folder (from its manifest when it has one).

    Raises:
        BadInput: at the folder when it or the file is missing.
    """
    folder = Path(data_dir)
    manifest = folder / "manifest.json"
    relative = f"{fmt}/{split}.jsonl"
    if manifest.is_file():
        relative = (
            json.loads(manifest.read_text(encoding="utf-8"))
            .get("files", {})
            .get(fmt, {})
            .get(split, relative)
        )
    path = folder / relative
    if not path.is_file():
        raise BadInput(str(folder), f"no {fmt} {split} file ({relative}); is this a `lab export` folder?")
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file, each with ``messages``.

    Raises:
        BadInput: ``FILE:LINE`` of a line that is not such an object.
    """
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise BadInput(f"{path}:{number}", f"not valid JSON: {exc}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
            raise BadInput(f"{path}:{number}", "a row must be an object with a 'messages' list")
        rows.append(row)
    return rows


def subset(rows: Sequence[dict[str, Any]], n: int | None, seed: int) -> list[dict[str, Any]]:
    """The first ``n`` rows of a seeded shuffle (all when ``n`` is None); nested for growing ``n``."""
    order = list(rows)
    random.Random(seed).shuffle(order)
    return order if n is None else order[:n]


def segments(row: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(prefix, suffix, target)`` for every weight-1 assistant message of a row."""
    messages, tools = row["messages"], row.get("tools") or []
    for i, message in enumerate(messages):
        if message.get("role") == "assistant" and message.get("weight", 1) == 1:
            prefix, suffix = toolformat.render_prompt(messages[:i], tools)
            yield prefix, suffix, toolformat.render_target(message)


class Encoder:
    """Tokenizes prompts the way inference does, caching the shared prefix's ids."""

    def __init__(self, tokenizer: Any, max_tokens: int | None = None):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self._prefixes: dict[str, list[int]] = {}

    def ids(self, text: str) -> list[int]:
        """Token ids of a text, without special tokens added around it."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def item(self, prefix: str, suffix: str, target: str) -> Item:
        """One training item; the prompt is cut from the left when ``max_tokens`` is exceeded."""
        if prefix not in self._prefixes:
            self._prefixes[prefix] = self.ids(prefix)
        prompt = self._prefixes[prefix] + self.ids(suffix)
        answer = self.ids(target)
        if self.max_tokens is not None and len(prompt) + len(answer) > self.max_tokens:
            prompt = prompt[max(0, len(prompt) + len(answer) - self.max_tokens) :]
        return Item(prompt + answer, [IGNORE] * len(prompt) + answer)


def encode_rows(rows: Sequence[dict[str, Any]], encoder: Encoder) -> list[Item]:
    """Every training item of the rows, in row order."""
    return [encoder.item(*segment) for row in rows for segment in segments(row)]


def batches(
    items: Sequence[Item], batch_size: int, pad_id: int, seed: int, epoch: int
) -> list[dict[str, list]]:
    """Batches of similar length (little padding), in a seeded order that changes per epoch.

    Items are sorted by length, cut into batches, and the batches shuffled. Each batch is
    right-padded: ``input_ids`` with ``pad_id``, ``labels`` with -100, ``attention_mask`` 0.
    """
    order = sorted(range(len(items)), key=lambda i: len(items[i].input_ids))
    groups = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    random.Random(seed * 1000 + epoch).shuffle(groups)
    result = []
    for group in groups:
        width = max(len(items[i].input_ids) for i in group)
        result.append(
            {
                "input_ids": [_pad(items[i].input_ids, width, pad_id) for i in group],
                "labels": [_pad(items[i].labels, width, IGNORE) for i in group],
                "attention_mask": [_pad([1] * len(items[i].input_ids), width, 0) for i in group],
            }
        )
    return result


def _pad(values: list[int], width: int, fill: int) -> list[int]:
    return values + [fill] * (width - len(values))
