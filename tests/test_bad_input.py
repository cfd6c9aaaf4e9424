"""The bad-input catalogue, one test each, through the real `lab` command.

Every case must end in ONE message on stderr, ``error: WHERE: reason`` with WHERE the file and
line (``FILE:LINE``), the option (``--model``) or the run id, exit status 2, no traceback, and
nothing half-done: no MLflow run opened, no results log line, nothing in an ``--out`` folder.
Stores are throwaway SQLite files under tmp_path; the repository's mlruns/ is never touched.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from labcli import LAB, ROOT, Outcome, files_under, invoke, results_lines, run_count, run_lab, store_uri
from mlflow_store import fresh_store

DEV = ROOT / "scenarios" / "dev.jsonl"
GOOD = json.loads(DEV.read_text(encoding="utf-8").splitlines()[0])  # dev-0001: clarify, then list_orders
NO_SUCH_RUN = "0123456789abcdef0123456789abcdef"


def assert_bad_input(outcome: Outcome, where: str, *words: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``error: WHERE: ...`` line on stderr; returns the reason."""
    assert outcome.code == 2, outcome
    assert outcome.out == "", outcome
    lines = outcome.err.strip().splitlines()
    assert len(lines) == 1, outcome.err
    assert lines[0].startswith(f"error: {where}: "), lines[0]
    assert "Traceback" not in outcome.err
    reason = lines[0].removeprefix(f"error: {where}: ")
    for word in words:
        assert word in reason.lower(), reason
    return reason


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty throwaway store for commands that should fail before touching it."""
    folder = tmp_path / "store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store_uri(folder))
    return folder


def suite_file(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def lines(*scenarios: dict) -> str:
    return "".join(json.dumps(s) + "\n" for s in scenarios)


def second(**changes: object) -> dict:
    """A second scenario: dev-0001 under another id, with ``changes`` applied."""
    return {**GOOD, "id": "dev-9999", **changes}


def with_gold_call(**changes: object) -> dict:
    """dev-0001 under another id with its gold list_orders call changed."""
    scenario = json.loads(json.dumps(second()))
    call = scenario["turns"][1]["expect"]["calls"][0]
    assert call["name"] == "list_orders"
    call.update(changes)
    return scenario


def run_suite(suite: Path) -> Outcome:
    """`lab run --json` of the scripted oracle on ``suite``."""
    return invoke(
        "run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(suite), "--json"
    )


def assert_nothing_ran(store: Path) -> None:
    assert run_count(store) == 0
    assert results_lines(store) == 0


# --------------------------------------------------------------------------- scenario files


def test_malformed_json_line(store: Path, tmp_path: Path) -> None:
    text = json.dumps(GOOD) + "\n" + json.dumps(second())[:-25] + "\n"
    suite = suite_file(tmp_path, "malformed.jsonl", text)
    assert_bad_input(run_suite(suite), f"{suite}:2", "bad json")
    assert_nothing_ran(store)


def test_unknown_field(store: Path, tmp_path: Path) -> None:
    suite = suite_file(tmp_path, "unknown_field.jsonl", lines(GOOD, second(colour="red")))
    assert_bad_input(run_suite(suite), f"{suite}:2", "colour")
    assert_nothing_ran(store)


def test_wrong_type_of_a_field(store: Path, tmp_path: Path) -> None:
    suite = suite_file(tmp_path, "wrong_type.jsonl", lines(GOOD, second(turns="hello")))
    assert_bad_input(run_suite(suite), f"{suite}:2", "turns")
    assert_nothing_ran(store)


def test_wrong_type_of_a_gold_argument(store: Path, tmp_path: Path) -> None:
    bad = with_gold_call(arguments={"customer_id": 7068})
    suite = suite_file(tmp_path, "wrong_argument_type.jsonl", lines(GOOD, bad))
    assert_bad_input(run_suite(suite), f"{suite}:2", "list_orders")
    assert_nothing_ran(store)


def test_duplicate_ids(store: Path, tmp_path: Path) -> None:
    suite = suite_file(tmp_path, "duplicate.jsonl", lines(GOOD, second(), GOOD))
    assert_bad_input(run_suite(suite), f"{suite}:3", "duplicate", GOOD["id"].lower())
    assert_nothing_ran(store)


def test_unknown_tool_in_gold_calls(store: Path, tmp_path: Path) -> None:
    bad = with_gold_call(name="launch_rockets")
    suite = suite_file(tmp_path, "unknown_tool.jsonl", lines(GOOD, bad))
    assert_bad_input(run_suite(suite), f"{suite}:2", "unknown tool", "launch_rockets")
    assert_nothing_ran(store)


@pytest.mark.parametrize("content", ["", "\n  \n\t\n"], ids=["zero_bytes", "blank_lines"])
def test_empty_file(store: Path, tmp_path: Path, content: str) -> None:
    suite = suite_file(tmp_path, "empty.jsonl", content)
    assert_bad_input(run_suite(suite), f"{suite}:1", "empty")
    assert_nothing_ran(store)


def test_binary_garbage(store: Path, tmp_path: Path) -> None:
    garbage = b"\x89PNG\r\n\x1a\n" + random.Random(8).randbytes(64 * 1024)
    suite = suite_file(tmp_path, "garbage.jsonl", garbage)
    assert_bad_input(run_suite(suite), f"{suite}:1", "utf-8")
    assert_nothing_ran(store)


def test_very_long_line(store: Path, tmp_path: Path) -> None:
    huge = second(turns=[{"user": "x" * 3_000_000, "expect": {"kind": "no_call"}}])
    suite = suite_file(tmp_path, "long.jsonl", lines(GOOD, huge))
    assert_bad_input(run_suite(suite), f"{suite}:2", "longer than")
    assert_nothing_ran(store)


def good_text(old: str, new: str) -> str:
    """The JSON line of a second scenario (dev-0001 under another id) with one spot of its text
    replaced: how to write what ``json.dumps`` never writes (a key twice, NaN, deep nesting)."""
    text = json.dumps(second())
    assert text.count(old) == 1, old
    return json.dumps(GOOD) + "\n" + text.replace(old, new) + "\n"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('"split": "dev"', '"split": "test", "split": "dev"', "split"),
        ('"arguments": {"customer_id"', '"arguments": {"customer_id": "C-1", "customer_id"', "customer_id"),
        ('{"id": "C-7068"', '{"id": "C-1", "id": "C-7068"', "id"),
    ],
    ids=["scenario", "gold_arguments", "fixture"],
)
def test_a_key_twice_in_one_object(store: Path, tmp_path: Path, old: str, new: str, key: str) -> None:
    suite = suite_file(tmp_path, "twice.jsonl", good_text(old, new))
    assert_bad_input(run_suite(suite), f"{suite}:2", "bad json", f"'{key}' appears twice")
    assert_nothing_ran(store)


@pytest.mark.parametrize(
    ("old", "new", "word"),
    [
        ('"country": "NL"}}]', '"country": "NL"}, "store_credit": NaN}]', "nan"),
        ('"unit_price": 35.0', '"unit_price": Infinity', "infinity"),
        ('"shipping_fee": 4.99}, {"id": "A-7426"', '"shipping_fee": -Infinity}, {"id": "A-7426"',
         "-infinity"),
        ('"amount": 84.99', '"amount": 1e999', "too large"),
    ],
    ids=["nan", "infinity", "minus_infinity", "overflowing_float"],
)
def test_not_a_number_in_the_fixture(store: Path, tmp_path: Path, old: str, new: str, word: str) -> None:
    suite = suite_file(tmp_path, "nan.jsonl", good_text(old, new))
    assert_bad_input(run_suite(suite), f"{suite}:2", "bad json", word)
    assert_nothing_ran(store)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('"intent"', '"deep": ' + "[" * 5000 + "]" * 5000 + ', "intent"', ("nested deeper",)),
        ('"customer_id": "C-7068"}', '"customer_id": "C-7068", "x": ' + "[" * 65 + "]" * 65 + "}",
         ("nested",)),
        ('"quantity": 1,', '"quantity": ' + "7" * 5000 + ",", ("digits",)),
    ],
    ids=["5000_levels", "65_levels_in_gold_arguments", "5000_digits"],
)
def test_json_too_deep_or_too_long_a_number(
    store: Path, tmp_path: Path, old: str, new: str, words: tuple[str, ...]
) -> None:
    suite = suite_file(tmp_path, "deep.jsonl", good_text(old, new))
    assert_bad_input(run_suite(suite), f"{suite}:2", "bad json", *words)
    assert_nothing_ran(store)


def test_an_invalid_fixture_names_the_field(store: Path, tmp_path: Path) -> None:
    suite = suite_file(tmp_path, "fixture.jsonl", good_text('"2026-08-24"', '"2026-02-30"'))
    reason = assert_bad_input(run_suite(suite), f"{suite}:2", "not a valid fixture")
    assert reason.startswith("db: not a valid fixture: orders.1.placed_on: ")
    assert reason.endswith("day value is outside expected range")
    assert_nothing_ran(store)


def test_a_fixture_breaking_a_database_rule_names_the_rule(store: Path, tmp_path: Path) -> None:
    suite = suite_file(tmp_path, "fixture.jsonl", good_text('"customer_id": "C-7068", "status": "delivered"',
                                                            '"customer_id": "C-0001", "status": "delivered"'))
    reason = assert_bad_input(run_suite(suite), f"{suite}:2", "not a valid fixture")
    assert reason == "db: not a valid fixture: orders: unknown customer_id C-0001"
    assert_nothing_ran(store)


def test_a_scenario_with_too_many_turns(store: Path, tmp_path: Path) -> None:
    from lab.scenarios import MAX_TURNS

    turns = [{"user": f"thanks {i}", "expect": {"kind": "no_call"}} for i in range(MAX_TURNS + 1)]
    suite = suite_file(tmp_path, "long.jsonl", lines(GOOD, second(turns=turns)))
    assert_bad_input(run_suite(suite), f"{suite}:2", f"{MAX_TURNS + 1} turns", f"at most {MAX_TURNS}")
    assert_nothing_ran(store)


def test_a_turn_expecting_too_many_calls(store: Path, tmp_path: Path) -> None:
    from lab.scenarios import MAX_CALLS

    bad = json.loads(json.dumps(second()))
    bad["turns"][1]["expect"]["calls"] *= MAX_CALLS + 1
    suite = suite_file(tmp_path, "wide.jsonl", lines(GOOD, bad))
    assert_bad_input(run_suite(suite), f"{suite}:2", "turn 2", f"at most {MAX_CALLS}")
    assert_nothing_ran(store)


def validate(path: Path) -> Outcome:
    return invoke("scenarios", "validate", str(path))


def ladder(path: Path) -> Outcome:
    return invoke("ladder", "--model", "scripted/oracle", "--suite", str(path), "--target", "0.9")


@pytest.mark.parametrize("command", [run_suite, validate, ladder], ids=["run", "validate", "ladder"])
def test_a_directory_as_the_suite(store: Path, tmp_path: Path, command) -> None:
    folder = tmp_path / "a_folder.jsonl"
    folder.mkdir()
    assert_bad_input(command(folder), str(folder), "cannot read", "directory")
    assert_nothing_ran(store)


NO_READ_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                    "--bounding-set=-dac_override,-dac_read_search"]  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [["scenarios", "validate"], ["run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite"]],
    ids=["validate", "run"],
)
def test_an_unreadable_suite(tmp_path: Path, args: list[str]) -> None:
    """A file without read permission. Root reads it anyway, so as root the command runs without
    the capabilities that let it (``setpriv``); without setpriv the test is skipped."""
    suite = suite_file(tmp_path, "locked.jsonl", lines(GOOD))
    suite.chmod(0)
    env = {"MLFLOW_TRACKING_URI": store_uri(tmp_path / "store")}
    if os.geteuid() != 0:
        outcome = run_lab(*args, str(suite), env=env)
    elif shutil.which("setpriv"):
        full = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **env}
        done = subprocess.run([*NO_READ_OVERRIDE, str(LAB), *args, str(suite)], cwd=ROOT, env=full,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        outcome = Outcome(done.returncode, done.stdout, done.stderr)
    else:
        pytest.skip("running as root, which reads a chmod 000 file, and no setpriv to drop that")
    assert_bad_input(outcome, str(suite), "cannot read", "permission denied")
    assert not (tmp_path / "store").exists()


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ("nonsense", "'nonsense'"),
        ("openai/", "'openai/'"),
        ("scripted/bogus", "'bogus'"),
        ("madeup/some-model", "'madeup'"),
    ],
)
def test_bad_model_string(store: Path, model: str, named: str) -> None:
    outcome = invoke("run", "--model", model, "--strategy", "zero_shot", "--suite", str(DEV), "--json")
    assert_bad_input(outcome, "--model", named)
    assert_nothing_ran(store)


@pytest.mark.parametrize("limit", ["0", "-1"])
@pytest.mark.parametrize("command", ["run", "ladder", "curve"])
def test_a_limit_below_one_is_refused_before_any_run(
    store: Path, tmp_path: Path, command: str, limit: str
) -> None:
    data = tmp_path / "data"
    (data / "hf").mkdir(parents=True)
    (data / "hf" / "train.jsonl").write_text(json.dumps({"messages": [{"role": "user", "content": "hi"}]}))
    options = {
        "run": ["--model", "scripted/oracle", "--strategy", "zero_shot"],
        "ladder": ["--model", "scripted/oracle", "--target", "0.9"],
        "curve": ["--data", str(data), "--out", str(tmp_path / "curve")],
    }[command]
    outcome = invoke(command, *options, "--suite", str(DEV), "--limit", limit, "--json")
    assert_bad_input(outcome, "--limit", "at least 1")
    assert_nothing_ran(store)
    assert not (tmp_path / "curve").exists()


def test_unknown_tuned_strategy_is_refused_before_the_pipeline_starts(store: Path) -> None:
    outcome = invoke("pipeline", "--tuned-strategy", "telepathy", "--json")
    assert_bad_input(outcome, "--tuned-strategy", "'telepathy'", "workflow")
    assert_nothing_ran(store)


def test_bad_model_string_in_the_console_script(tmp_path: Path) -> None:
    """The installed `lab` script itself: the same single line, no traceback, no run."""
    store = tmp_path / "store"
    outcome = run_lab(
        "run", "--model", "nonsense", "--strategy", "zero_shot", "--suite", str(DEV),
        env={"MLFLOW_TRACKING_URI": store_uri(store)},
    )  # fmt: skip
    assert_bad_input(outcome, "--model", "'nonsense'")
    assert not store.exists()


# --------------------------------------------------------------------------- run ids


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    """A store with one tiny finished run on the dev pack and one on the test pack."""
    folder = tmp_path_factory.mktemp("runs") / "store"
    with pytest.MonkeyPatch.context() as mp:
        fresh_store(folder, mp)
        ids = {}
        for split in ("dev", "test"):
            suite = ROOT / "scenarios" / f"{split}.jsonl"
            outcome = invoke(
                "run", "--model", "scripted/oracle", "--strategy", "zero_shot", "--suite", str(suite),
                "--limit", "1", "--retry-delay", "0", "--json",
            )  # fmt: skip
            assert outcome.code == 0, outcome
            ids[split] = json.loads(outcome.out)["run_id"]
        yield folder, ids, mp


def unchanged(folder: Path, action) -> Outcome:
    """Run ``action`` and check it opened no MLflow run and wrote no results line."""
    before = (run_count(folder), results_lines(folder))
    outcome = action()
    assert (run_count(folder), results_lines(folder)) == before
    return outcome


def test_export_of_a_run_id_that_does_not_exist(runs, tmp_path: Path) -> None:
    folder, _, _ = runs
    out = tmp_path / "export"
    outcome = unchanged(folder, lambda: invoke("export", "--run", NO_SUCH_RUN, "--out", str(out)))
    assert_bad_input(outcome, NO_SUCH_RUN, "no mlflow run")
    assert files_under(out) == [] and list(tmp_path.iterdir()) == []


def test_compare_with_a_run_id_that_does_not_exist(runs) -> None:
    folder, ids, _ = runs
    for baseline, candidate in ((NO_SUCH_RUN, ids["dev"]), (ids["dev"], NO_SUCH_RUN)):
        compare = ("compare", "--baseline", baseline, "--candidate", candidate)
        assert_bad_input(unchanged(folder, lambda c=compare: invoke(*c)), NO_SUCH_RUN, "no mlflow run")


def test_resume_of_a_run_id_that_does_not_exist(runs) -> None:
    folder, _, _ = runs
    outcome = unchanged(folder, lambda: invoke("run", "--resume", NO_SUCH_RUN, "--json"))
    assert_bad_input(outcome, "--resume", "no mlflow run")


@pytest.mark.parametrize("split", ["dev", "test"])
def test_export_of_a_dev_or_test_run(runs, tmp_path: Path, split: str) -> None:
    folder, ids, _ = runs
    out = tmp_path / "export"
    outcome = unchanged(folder, lambda: invoke("export", "--run", ids[split], "--out", str(out)))
    assert_bad_input(outcome, ids[split], f"{split} split", "train")
    assert files_under(out) == [] and list(tmp_path.iterdir()) == []


def test_comparison_across_suites(runs) -> None:
    folder, ids, _ = runs
    compare = ("compare", "--baseline", ids["dev"], "--candidate", ids["test"])
    assert_bad_input(unchanged(folder, lambda: invoke(*compare)), "--candidate", "same suite")


# --------------------------------------------------------------------------- datasets


def empty_export(folder: Path) -> Path:
    """A `lab export` folder whose train and val files, in both formats, hold no example."""
    for fmt in ("openai", "hf"):
        (folder / fmt).mkdir(parents=True)
        for split in ("train", "val"):
            (folder / fmt / f"{split}.jsonl").write_text("", encoding="utf-8")
    return folder


@pytest.mark.parametrize(("provider", "fmt"), [("local", "hf"), ("openai", "openai")])
def test_tuning_on_an_empty_dataset(store: Path, tmp_path: Path, provider: str, fmt: str) -> None:
    data, out = empty_export(tmp_path / "export"), tmp_path / "adapter"
    base = "local/smollm2-135m" if provider == "local" else "openai/gpt-4o-mini-2024-07-18"
    outcome = invoke(
        "tune", "--data", str(data), "--base", base, "--provider", provider, "--out", str(out), "--json"
    )
    assert_bad_input(outcome, f"{data / fmt / 'train.jsonl'}:1", "no training examples")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]  # no adapter, no temporary folder
    assert_nothing_ran(store)


@pytest.mark.parametrize("kind", ["BadInput", "StoreError"])
def test_the_lab_errors_pickle_whole(kind: str) -> None:
    import pickle

    from lab import errors

    error = pickle.loads(pickle.dumps(getattr(errors, kind)("run.jsonl:3", "not JSON")))
    assert type(error).__name__ == kind and (error.where, error.reason) == ("run.jsonl:3", "not JSON")
    assert str(error) == "run.jsonl:3: not JSON"
