"""The scenario generator, the scenario file reader/validator and `lab scenarios`.

Properties over seeds (generated packs validate, replay is deterministic, splits share
no family and no entity value), the committed packs against a regeneration, and every
kind of bad scenario file rejected with its line number.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from labcli import invoke
from mlflow_store import fresh_store
from pack_seeds import FEW, SEEDS
from typer.testing import CliRunner

from lab.cli.scenarios import app
from lab.errors import BadInput
from lab.families import SPLITS, families
from lab.generate import generate, generate_split
from lab.io import write_jsonl_atomic
from lab.phrasing import REGISTERS, render, until_phrase
from lab.scenarios import MAX_DEPTH, load_scenarios, load_suite, stats, suite_sha256, validate_file
from lab.types import CATEGORIES, Scenario
from tools.shop import CATALOG, DOMAIN

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = DOMAIN.generator.families


def rows(scenarios: list[Scenario]) -> list[dict]:
    """Scenarios as the JSON rows the CLI writes."""
    return [s.model_dump(mode="json", exclude_defaults=True) for s in scenarios]


def entity_values(scenario: Scenario) -> set[str]:
    """Every value a customer could type that the fixture holds: names, emails, phones, ids, skus."""
    db = scenario.db
    values = set()
    for c in db.get("customers", []):
        values |= {c["id"], c["name"], c["email"], c["phone"], c["address"]["street"]}
    for o in db.get("orders", []):
        values |= {o["id"], *(i["sku"] for i in o["items"])}
    values |= {s["id"] for s in db.get("subscriptions", [])}
    return values


@pytest.fixture(scope="module")
def packs() -> dict[str, list[Scenario]]:
    return generate(7)


# --------------------------------------------------------------------------- generator properties


@FEW
@given(seed=SEEDS)
def test_generated_packs_validate_and_splits_share_no_family_or_entity(seed: int, tmp_path_factory) -> None:
    generated = generate(seed)
    folder = tmp_path_factory.mktemp("packs")
    families_of = {split: {s.family for s in generated[split]} for split in SPLITS}
    entities_of = {split: set().union(*(entity_values(s) for s in generated[split])) for split in SPLITS}
    for split in SPLITS:
        path = folder / f"{split}.jsonl"
        write_jsonl_atomic(path, rows(generated[split]))
        assert validate_file(path, CATALOG) == []
        assert {s.category for s in generated[split]} == set(CATEGORIES)
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        assert not families_of[a] & families_of[b]
        assert not entities_of[a] & entities_of[b]


@FEW
@given(seed=SEEDS)
def test_gold_replay_is_deterministic(seed: int) -> None:
    for scenario in generate_split(seed, "dev", FAMILIES(), DOMAIN):
        calls = [c for turn in scenario.turns for c in turn.expect.calls]
        first, results = CATALOG.replay(scenario.db, calls)
        second, again = CATALOG.replay(scenario.db, calls)
        assert first.state_hash() == second.state_hash()
        assert results == again


def test_same_seed_same_packs_other_seed_other_packs(packs) -> None:
    assert rows(generate_split(7, "test", FAMILIES(), DOMAIN)) == rows(packs["test"])
    assert rows(generate_split(8, "test", FAMILIES(), DOMAIN)) != rows(packs["test"])


def test_families_cover_every_tool_and_every_intent_has_six_with_one_in_test() -> None:
    table = FAMILIES()
    assert len({f.name for f in table}) == len(table)
    by_intent: dict[str, list] = {}
    for f in table:
        by_intent.setdefault(f.intent, []).append(f)
    assert set(CATALOG.names) <= set(by_intent)
    for intent, members in by_intent.items():
        assert len(members) >= 6, intent
        assert "test" in {f.split for f in members}, intent
        assert set(REGISTERS[:4]) <= {f.register for f in members} <= set(REGISTERS), intent  # plain + styles
    for category in CATEGORIES:
        assert {f.split for f in table if f.category == category} == set(SPLITS), category


@settings(max_examples=40, deadline=None)
@given(
    spread=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    extra=st.lists(st.tuples(st.integers(0, 5), st.integers(1, 4)), max_size=4),
)
def test_train_only_families_go_to_train_and_move_no_other_family(spread, extra) -> None:
    """Adding train-only families (to a group of its own or next to an existing one) changes no other
    family's name or split."""

    def table(sizes, text):
        return {("single_call", f"i{i}"): [("terse", f"{text}{i}-{j}") for j in range(n)] for i, n in sizes}

    tables, train_only = [table(enumerate(spread), "t")], [table(extra, "x")]
    before = families(tables)
    after = families(tables, train_only=train_only)
    assert after[: len(before)] == before
    added = after[len(before) :]
    assert len(added) == sum(dict(extra).values()) and {f.split for f in added} <= {"train"}
    assert len({f.name for f in after}) == len(after)


# --------------------------------------------------------------------------- phrasing


@settings(max_examples=60, deadline=None)
@given(day=st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 31)), seed=st.integers(0, 10**6))
def test_relative_dates_resolve_against_the_scenario_clock(day: date, seed: int) -> None:
    phrase, iso = until_phrase(day, random.Random(seed))
    until = date.fromisoformat(iso)
    assert day < until <= day + timedelta(days=90)
    if phrase.startswith("until next "):
        assert until.strftime("%A").lower() == phrase.split()[-1]
        assert (until - day).days <= 7
    if phrase == "until tomorrow":
        assert until == day + timedelta(days=1)


@settings(max_examples=60, deadline=None)
@given(register=st.sampled_from(REGISTERS), seed=st.integers(0, 10**6))
def test_render_never_changes_slot_values(register: str, seed: int) -> None:
    slots = {"order": "#A-1234", "email": "Mia.Kim12@example.com"}
    text = render("Please cancel {order} today, my email is {email}", slots, register, random.Random(seed))
    assert "#A-1234" in text and "Mia.Kim12@example.com" in text


# --------------------------------------------------------------------------- shipped packs


def test_committed_packs_equal_a_regeneration_with_seed_7(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", "--seed", "7", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["files"] == {
        str(tmp_path / f"{split}.jsonl"): n for split, n in (("train", 540), ("dev", 108), ("test", 216))
    }
    for split in SPLITS:
        assert (tmp_path / f"{split}.jsonl").read_bytes() == (
            ROOT / "scenarios" / f"{split}.jsonl"
        ).read_bytes()


def test_committed_packs_meet_the_sizes_and_coverage() -> None:
    loaded = {split: load_scenarios(ROOT / "scenarios" / f"{split}.jsonl") for split in SPLITS}
    assert len(loaded["train"]) >= 500 and 100 <= len(loaded["dev"]) <= 120 and len(loaded["test"]) >= 200
    for split, scenarios in loaded.items():
        assert set(stats(scenarios)["categories"]) == set(CATEGORIES)
        assert all(s.split == split and 1 <= len(s.turns) <= 3 for s in scenarios)
    assert set(stats(loaded["test"])["tools"]) == set(CATALOG.names)


# --------------------------------------------------------------------------- bad scenario files


def write_lines(path: Path, lines: list) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8"
    )
    return path


def good(packs, index: int = 0) -> dict:
    """A valid single-call scenario row of the dev pack."""
    singles = [s for s in packs["dev"] if s.category == "single_call" and s.turns[0].expect.calls]
    return rows([singles[index]])[0]


def corrupt(row: dict, how: str) -> dict:
    row = json.loads(json.dumps(row))
    call = row["turns"][0]["expect"]["calls"][0]
    if how == "unknown tool":
        call["name"] = "teleport_parcel"
    elif how == "wrong arguments":
        call["arguments"] = {"nonsense": 1}
    elif how == "wrong replay":
        call["error"] = "not_found"
    elif how == "bad field":
        row["colour"] = "blue"
    return row


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("unknown tool", "unknown tool 'teleport_parcel'"),
        ("wrong arguments", "invalid arguments"),
        ("wrong replay", "expected error 'not_found'"),
        ("bad field", "colour: Extra inputs are not permitted"),
    ],
)
def test_a_bad_scenario_is_reported_with_its_line(packs, tmp_path: Path, how: str, reason: str) -> None:
    path = write_lines(
        tmp_path / "s.jsonl", [good(packs, 0), "", corrupt(good(packs, 1), how), good(packs, 2)]
    )
    errors = validate_file(path, CATALOG)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:3: ") and reason in errors[0], errors


def test_duplicate_ids_are_rejected_with_the_second_line(packs, tmp_path: Path) -> None:
    row = good(packs)
    path = write_lines(tmp_path / "s.jsonl", [row, good(packs, 1), row])
    with pytest.raises(BadInput) as caught:
        load_scenarios(path)
    assert caught.value.where == f"{path}:3" and "duplicate id" in caught.value.reason
    assert validate_file(path, CATALOG) == [f"{path}:3: duplicate id {row['id']!r} (first on line 1)"]


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 1, "empty file"),
        (b"\n  \n", 1, "empty file"),
        (b'{"id": "x",\n', 1, "bad JSON"),
        (b"[1, 2]\n", 1, "expected a JSON object"),
        (b'{"id": "x"}\n', 1, "split: Field required"),
        (b"\n\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\n", 2, "not UTF-8"),
        (b"{" + b" " * 1_000_001 + b"}\n", 1, "line longer than"),
    ],
)
def test_unreadable_files_raise_bad_input_with_the_line(
    tmp_path: Path, content: bytes, line: int, reason: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(BadInput) as caught:
        load_scenarios(path)
    assert caught.value.where == f"{path}:{line}" and reason in caught.value.reason
    assert validate_file(path, CATALOG)[0].startswith(f"{path}:{line}: ")


def test_wrong_types_are_rejected(packs, tmp_path: Path) -> None:
    row = good(packs)
    row["turns"][0]["expect"]["ordered"] = "sometimes"
    with pytest.raises(BadInput, match="turns.0.expect.ordered"):
        load_scenarios(write_lines(tmp_path / "s.jsonl", [row]))


TOO_DEEP = f"bad JSON: nested deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"id": "a", "id": "b"}', "bad JSON: key 'id' appears twice in one object"),
        ('{"id": "a", "db": {"x": {"k": 1, "k": 1}}}', "bad JSON: key 'k' appears twice in one object"),
        ('{"id": NaN}', "bad JSON: NaN is not a JSON number"),
        ('{"id": [1, -Infinity]}', "bad JSON: -Infinity is not a JSON number"),
        ('{"id": -1e400}', "bad JSON: -1e400 is too large for a number"),
        ('{"id": ' + "9" * 101 + "}", "bad JSON: an integer of more than 100 digits"),
        ('{"id": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}", TOO_DEEP),
        ('{"id": ' + '{"a": ' * 3000 + "1" + "}" * 3001, TOO_DEEP),
    ],
)
def test_json_that_python_accepts_and_a_scenario_file_refuses(tmp_path: Path, text: str, reason: str) -> None:
    path = write_lines(tmp_path / "s.jsonl", [text])
    with pytest.raises(BadInput) as caught:
        load_scenarios(path)
    assert caught.value.where == f"{path}:1" and caught.value.reason == reason
    assert validate_file(path, CATALOG) == [f"{path}:1: {reason}"]


def test_json_nested_to_the_limit_is_read(packs, tmp_path: Path) -> None:
    row = good(packs)
    nest: object = "x"
    for _ in range(MAX_DEPTH - 3):  # the scenario, its turns list, a turn: three levels above
        nest = [nest]
    row["turns"][0]["user_note"] = nest
    path = write_lines(tmp_path / "s.jsonl", [row])
    with pytest.raises(BadInput, match="user_note: Extra inputs"):  # past the JSON checks
        load_scenarios(path)


def test_a_suite_is_read_once_so_a_fifo_works(packs, tmp_path: Path) -> None:
    """A named pipe can be read only once: the suite and its sha256 come from that one read."""
    data = "".join(json.dumps(good(packs, i)) + "\n" for i in range(3)).encode()
    fifo = tmp_path / "suite.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with open(fifo, "wb") as handle:
            handle.write(data)

    loaded: list = []
    writer = threading.Thread(target=write, daemon=True)
    reader = threading.Thread(target=lambda: loaded.append(load_suite(fifo, CATALOG)), daemon=True)
    writer.start()
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), "load_suite hung on the FIFO"
    suite = loaded[0]
    assert [s.id for s in suite.scenarios] == [good(packs, i)["id"] for i in range(3)]
    assert suite.sha256 == hashlib.sha256(data).hexdigest()


def test_lab_run_on_a_fifo_finishes(packs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`lab run --suite FIFO --limit 1`: the run reads the pipe once and records the sha256 of all of it."""
    fresh_store(tmp_path / "store", monkeypatch)
    data = "".join(json.dumps(good(packs, i)) + "\n" for i in range(3)).encode()
    fifo = tmp_path / "suite.fifo"
    os.mkfifo(fifo)
    args = ("run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", f"{fifo}", "--limit=1")
    outcomes: list = []
    writer = threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True)
    runner = threading.Thread(target=lambda: outcomes.append(invoke(*args, "--json")), daemon=True)
    writer.start()
    runner.start()
    runner.join(timeout=120)
    assert not runner.is_alive(), "lab run hung on the FIFO"
    assert outcomes[0].code == 0, outcomes[0]
    summary = json.loads(outcomes[0].out)
    assert summary["scenarios"] == 1 and summary["suite_sha256"] == hashlib.sha256(data).hexdigest()


def test_a_limit_parses_only_the_first_scenarios_and_hashes_the_whole_file(packs, tmp_path: Path) -> None:
    content = [good(packs, 0), "", good(packs, 1), "{not json", good(packs, 0)]
    path = write_lines(tmp_path / "s.jsonl", content)
    suite = load_suite(path, CATALOG, limit=2)
    assert [s.id for s in suite.scenarios] == [good(packs, 0)["id"], good(packs, 1)["id"]]
    assert suite.sha256 == suite_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(BadInput, match="bad JSON"):
        load_suite(path, CATALOG, limit=3)


@settings(max_examples=25, deadline=None)
@given(blanks=st.lists(st.sampled_from(["", " ", "\t"]), max_size=4), count=st.integers(1, 4),
       limit=st.one_of(st.none(), st.integers(1, 5)))  # fmt: skip
def test_the_suite_hash_is_of_every_byte_whatever_the_limit(
    packs, tmp_path_factory: pytest.TempPathFactory, blanks: list[str], count: int, limit: int | None
) -> None:
    content = [*blanks, *(good(packs, i) for i in range(count))]
    path = write_lines(tmp_path_factory.mktemp("h") / "s.jsonl", content)
    suite = load_suite(path, CATALOG, limit)
    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(suite.scenarios) == min(count, limit or count)


# --------------------------------------------------------------------------- CLI and stats


def test_cli_validate_exits_2_with_file_and_line(packs, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "s.jsonl", [good(packs, 0), corrupt(good(packs, 1), "unknown tool")])
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and f"{path}:2: turn 1 call 1: unknown tool" in result.output
    result = CliRunner().invoke(app, ["validate", str(path), "--json"])
    report = json.loads(result.output)
    assert result.exit_code == 2 and report["valid"] is False and report["errors"][0].startswith(f"{path}:2:")
    fine = write_lines(tmp_path / "ok.jsonl", [good(packs, 0)])
    result = CliRunner().invoke(app, ["validate", str(fine), "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == {"valid": True, "errors": []}


def test_stats_count_per_category_and_tool(packs, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "dev.jsonl", rows(packs["dev"]))
    result = CliRunner().invoke(app, ["stats", str(path), "--json"])
    counts = json.loads(result.output)
    tools = Counter(c.name for s in packs["dev"] for t in s.turns for c in t.expect.calls)
    assert counts["scenarios"] == len(packs["dev"]) == sum(counts["categories"].values())
    assert counts["turns"] == sum(len(s.turns) for s in packs["dev"])
    assert counts["calls"] == sum(tools.values()) and counts["tools"] == dict(sorted(tools.items()))
    assert counts["families"] == len({s.family for s in packs["dev"]})
    assert counts["tools_covered"] == len(tools)
    assert len(suite_sha256(path)) == 64
