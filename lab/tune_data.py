"""Training data for ``lab tune``: find an export's files, read its rows, turn them into token ids.

An export folder (lab/export.py) holds ``FORMAT/SPLIT.jsonl`` and a ``manifest.json`` mapping
formats to files. Every weight-1 assistant message of a row is a target; its prompt is the
conversation before it, rendered by lab/models/toolformat.py exactly as inference renders it, in
the export's prompt form (lab/models/promptform.py): a
shared prefix (system prompt and tool catalog, the same for every row of a strategy) and the
dialogue so far. All targets of a row ride in one sequence after the prefix; labels are -100 on
everything but the targets, so only they are learnt. A row that is the start of a longer row
rides in it (``fold``). Batches hold rows of one prefix, sorted by length. This module does not
train (lab/lora.py) and does not choose examples (lab/export.py).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.domain import DEFAULT_DOMAIN, load_domain
from lab.errors import BadInput
from lab.models import promptform, toolformat

IGNORE = -100
# The default LoRA recipe: lab.tune.tune, `lab tune`, `lab curve` and `lab pipeline` all start from it.
# Measured on dev (300 rows, the tuned model with the workflow strategy): batch 8 at lr 2e-3 0.373,
# batch 4 at 2e-3 0.324, batch 4 at 1e-3 0.422 call_accuracy; the same time on the CPU.
EPOCHS = 2
LR = 1e-3
RANK = 16
ALPHA = 32
BATCH_SIZE = 4


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


def segments(row: dict[str, Any], form: str = promptform.DEFAULT_FORM) -> Iterator[tuple[str, str, str]]:
    """``(prefix, suffix, target)`` for every weight-1 assistant message of a row: its prompt as
    inference renders it in prompt ``form`` (shared prefix, then the dialogue so far) and what the
    model must write."""
    messages, tools = row["messages"], row.get("tools") or []
    for i, message in enumerate(messages):
        if message.get("role") == "assistant" and message.get("weight", 1) == 1:
            prefix, suffix = toolformat.render_prompt(messages[:i], tools, form)
            yield prefix, suffix, toolformat.render_target(message)


def pieces(
    row: dict[str, Any], form: str = promptform.DEFAULT_FORM
) -> list[tuple[str, list[tuple[str, bool]]]]:
    """A row as few sequences as possible: ``(prefix, [(text, is_target), ...])``.

    The prompt of a later target is the earlier prompt + the earlier target + what came between,
    so one sequence carries every target of a row, each preceded by exactly the prompt inference
    would see. A target whose prompt does not continue the sequence starts a new one.
    """
    sequences: list[tuple[str, list[tuple[str, bool]]]] = []
    text = ""
    for prefix, suffix, target in segments(row, form):
        if sequences and sequences[-1][0] == prefix and suffix.startswith(text):
            sequences[-1][1].append((suffix[len(text) :], False))
        else:
            sequences.append((prefix, [(suffix, False)]))
        sequences[-1][1].append((target, True))
        text = suffix + target
    return sequences


@dataclass(frozen=True)
class Item:
    """One training sequence after a shared prefix: token ids and labels (-100: no loss there).

    ``prefix`` indexes ``Encoder.prefixes``; the sequence continues that prefix's tokens.
    """

    prefix: int
    input_ids: list[int]
    labels: list[int]


class Encoder:
    """Tokenizes like inference, in prompt ``form``: the shared prefix on its own, then each piece of
    the dialogue.

    Pieces are cut only where a target begins or ends; targets end with the end-of-turn special
    token, and the prompt before a target ends with a newline, so the ids equal those of the
    whole prompt tokenized at once (tests/test_tune.py checks this).
    """

    def __init__(self, tokenizer: Any, form: str = promptform.DEFAULT_FORM):
        self.tokenizer = tokenizer
        self.form = form
        self.prefixes: list[list[int]] = []
        self._index: dict[str, int] = {}
        self._items: dict[str, list[Item]] = {}

    def ids(self, text: str) -> list[int]:
        """Token ids of a text, without special tokens added around it."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prefix(self, text: str) -> int:
        """The index of a prefix's ids in ``prefixes``, tokenized once."""
        if text not in self._index:
            self._index[text] = len(self.prefixes)
            self.prefixes.append(self.ids(text))
        return self._index[text]

    def items(self, row: dict[str, Any]) -> list[Item]:
        """The training sequences of one row (tokenized once per distinct row)."""
        key = json.dumps(row, sort_keys=True)
        if key not in self._items:
            self._items[key] = self._encode(row)
        return self._items[key]

    def _encode(self, row: dict[str, Any]) -> list[Item]:
        result = []
        for prefix, parts in pieces(row, self.form):
            ids: list[int] = []
            labels: list[int] = []
            for text, is_target in parts:
                piece = self.ids(text)
                ids += piece
                labels += piece if is_target else [IGNORE] * len(piece)
            result.append(Item(self.prefix(prefix), ids, labels))
        return result


def _conversation(row: dict[str, Any]) -> tuple[str, ...]:
    """A row's tools and messages as comparable keys, ignoring what is learnt (the weights)."""
    tools = json.dumps(row.get("tools") or [], sort_keys=True)
    messages = ({k: v for k, v in m.items() if k != "weight"} for m in row["messages"])
    return (tools, *(json.dumps(m, sort_keys=True) for m in messages))


def fold(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each row whose conversation begins a longer row's merged into that row.

    An export has one row per turn, and a later turn's row carries the earlier turns as gold
    context; when an earlier turn's row is exactly that context, its targets become targets of
    the longer row (same tokens, same prompts), so they are learnt without running their tokens
    twice. Rows keep their order; the rows merged into another are dropped.
    """
    keys = [_conversation(row) for row in rows]
    host: dict[tuple[str, ...], int] = {}
    for i in sorted(range(len(rows)), key=lambda i: -len(keys[i])):
        if keys[i] not in host:
            for end in range(1, len(keys[i]) + 1):
                host.setdefault(keys[i][:end], i)
    merged = {i: [dict(m) for m in row["messages"]] for i, row in enumerate(rows) if host[keys[i]] == i}
    for i, row in enumerate(rows):
        messages = merged[host[keys[i]]]
        for position, message in enumerate(row["messages"]):
            if message.get("role") == "assistant" and message.get("weight", 1) == 1:
                messages[position]["weight"] = 1
    return [{**row, "messages": merged[i]} for i, row in enumerate(rows) if i in merged]


def encode_rows(rows: Sequence[dict[str, Any]], encoder: Encoder) -> list[Item]:
    """Every training sequence of the rows (folded: lab/tune_data.py ``fold``), in row order."""
    return [item for row in fold(rows) for item in encoder.items(row)]


def targets(items: Sequence[Item]) -> int:
    """How many tokens carry a loss."""
    return sum(1 for item in items for label in item.labels if label != IGNORE)


def batches(
    items: Sequence[Item], batch_size: int, pad_id: int, seed: int, epoch: int
) -> list[dict[str, Any]]:
    """Batches of one prefix and similar length (little padding), in a seeded order per epoch.

    Items are sorted by (prefix, length), cut into batches, and the batches shuffled. Each batch
    is right-padded: ``input_ids`` with ``pad_id``, ``labels`` with -100, ``attention_mask`` 0;
    ``prefix`` is the index of its shared prefix.
    """
    groups = _groups(items, batch_size)
    random.Random(seed * 1000 + epoch).shuffle(groups)
    return [_batch([items[i] for i in group], pad_id) for group in groups]


def _groups(items: Sequence[Item], batch_size: int) -> list[list[int]]:
    """Item indices in batches of one prefix, sorted by (prefix, length)."""
    order = sorted(range(len(items)), key=lambda i: (items[i].prefix, len(items[i].input_ids)))
    groups: list[list[int]] = []
    for i in order:
        if groups and len(groups[-1]) < batch_size and items[groups[-1][0]].prefix == items[i].prefix:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def batch_tokens(items: Sequence[Item], batch_size: int) -> list[int]:
    """The padded token count (rows x width, after the prefix) of each batch of one epoch, in sorted
    order: what a step's time grows with (lab/budget.py)."""
    return [len(group) * max(len(items[i].input_ids) for i in group) for group in _groups(items, batch_size)]


def _batch(group: Sequence[Item], pad_id: int) -> dict[str, Any]:
    width = max(len(item.input_ids) for item in group)
    return {
        "prefix": group[0].prefix,
        "input_ids": [_pad(item.input_ids, width, pad_id) for item in group],
        "labels": [_pad(item.labels, width, IGNORE) for item in group],
        "attention_mask": [_pad([1] * len(item.input_ids), width, 0) for item in group],
    }


def _pad(values: list[int], width: int, fill: int) -> list[int]:
    return values + [fill] * (width - len(values))


def check_domain(data_dir: str | Path, asked: str | None) -> str:
    """The export's domain (its manifest's; the default domain for a manifest from before domains);
    BadInput at ``--domain`` when ``asked`` names another one."""
    manifest = Path(data_dir) / "manifest.json"
    exported = DEFAULT_DOMAIN
    if manifest.is_file():
        exported = json.loads(manifest.read_text(encoding="utf-8")).get("domain") or DEFAULT_DOMAIN
    if asked is not None and (name := load_domain(asked).name) != exported:
        raise BadInput("--domain", f"{data_dir} was exported from a run on domain {exported}, not {name}")
    return exported
