"""Phrasing families: named, split-assigned sets of templates for one (category, intent).

``families(tables)`` reads a domain's template tables (``{(category, intent): [(register,
*templates), ...]}``) and gives every family a stable name (``track_parcel/angry-2``:
intent, register, running number) and exactly one split. Within a category, each
(category, intent) group of three or more families is spread over the splits by a
rotating pattern, so a group always has a test family; groups of two follow a rotating
list of split pairs. The assignment depends only on the table order, never on a seed.
Families of the ``train_only`` tables all go to train and are numbered after the others, so
adding one changes neither another family's name nor its split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

SPLITS = ("train", "dev", "test")
_PATTERN = (
    "train",
    "test",
    "dev",
    "train",
    "train",
    "test",
    "train",
    "dev",
    "test",
    "train",
    "train",
    "test",
    "dev",
    "train",
)
_PAIRS = (
    ("train", "test"),
    ("test", "train"),
    ("train", "dev"),
    ("test", "train"),
    ("train", "test"),
    ("dev", "test"),
)


@dataclass(frozen=True)
class Family:
    """One phrasing family.

    Attributes:
        name: stable name, ``intent/register-N``.
        category: the scenario category it phrases.
        intent: the intent (tool or no-tool intent) it phrases.
        register: one of ``lab.phrasing.REGISTERS`` (terse, chatty, polite, angry, or a style).
        templates: one template per turn.
        split: the one split whose scenarios use it.
        meta: extra data of knowledge families (``article``, ``query``).
    """

    name: str
    category: str
    intent: str
    register: str
    templates: tuple[str, ...]
    split: str
    meta: tuple[tuple[str, str], ...] = ()


Table = Mapping[tuple[str, str], Sequence[Sequence[str]]]


def families(
    tables: Iterable[Table],
    meta_keys: Mapping[str, Sequence[str]] | None = None,
    train_only: Iterable[Table] = (),
) -> list[Family]:
    """Every family of the template tables, named and assigned to a split, in table order.

    Args:
        tables: the domain's template tables, each ``{(category, intent): [(register, *templates)]}``.
        meta_keys: per category, the names of the values an entry gives between its register and
            its templates (the shop's knowledge entries: ``("article", "query")``).
        train_only: tables of the same shape whose families all go to the train split (more
            phrasings to tune on, with dev and test left as they are).
    """
    numbers: Counter[tuple[str, str]] = Counter()
    out: list[Family] = []
    for (category, intent), entries, splits in _assigned(tables, train_only):
        keys = tuple((meta_keys or {}).get(category, ()))
        for entry, split in zip(entries, splits, strict=True):
            register, rest = entry[0], tuple(entry[1:])
            meta = tuple(zip(keys, rest, strict=False))
            rest = rest[len(keys) :]
            numbers[(intent, register)] += 1
            name = f"{intent}/{register}-{numbers[(intent, register)]}"
            out.append(Family(name, category, intent, register, tuple(rest), split, meta))
    return out


def _assigned(
    tables: Iterable[Table], train_only: Iterable[Table]
) -> Iterator[tuple[tuple[str, str], Sequence[Sequence[str]], tuple[str, ...]]]:
    """Each group of the tables, then of the train-only tables, with the splits of its entries."""
    groups_seen: Counter[str] = Counter()
    for table in tables:
        for (category, intent), entries in table.items():
            yield (category, intent), entries, _group_splits(len(entries), groups_seen[category])
            groups_seen[category] += 1
    for table in train_only:
        for key, entries in table.items():
            yield key, entries, ("train",) * len(entries)


def _group_splits(size: int, index: int) -> tuple[str, ...]:
    """The splits of a group's families: a rotation of the pattern, or a pair for two."""
    if size == 1:
        return ("train",)
    if size == 2:
        return _PAIRS[index % len(_PAIRS)]
    head = tuple(_PATTERN[i % len(_PATTERN)] for i in range(size))
    shift = index % size
    return head[shift:] + head[:shift]
