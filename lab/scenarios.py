"""Scenario files (JSONL, one ``Scenario`` a line): load, validate against a catalog, count.

``load_scenarios`` reads a file strictly and raises ``BadInput("FILE:LINE", reason)`` on
the first problem: unreadable or non-UTF-8 bytes, a line over 1 MB, bad JSON, a line that
does not fit the ``Scenario`` contract, a duplicate id, or an empty file. ``validate_file``
reports every problem of a file instead, and also checks each scenario against a tool
catalog: the same domain, known tools, gold arguments valid for the tool's schema, well-formed turn
expectations, and a replay of the gold calls on the fixture in which tools fail exactly
where ``ExpectedCall.error`` says, with that code. ``load_suite`` (what a run reads) does
both and raises on the first problem. Blank lines are skipped. Nothing here
writes files or knows the shop's domain.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from lab.catalog import Catalog, error_code
from lab.domain import domain_problem
from lab.errors import BadInput
from lab.types import ExpectedCall, Scenario

MAX_LINE_BYTES = 1_000_000


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read a JSONL scenario file; raises ``BadInput`` naming the line of the first problem."""
    scenarios = []
    for where, parsed in _parse(Path(path)):
        if isinstance(parsed, str):
            raise BadInput(where, parsed)
        scenarios.append(parsed)
    return scenarios


def load_suite(path: str | Path, catalog: Catalog) -> list[Scenario]:
    """Read a scenario file a run can use: strict like ``load_scenarios``, and every scenario
    checked against ``catalog`` as ``validate_file`` does (known tools, valid gold arguments, gold
    replay); raises ``BadInput`` naming the line of the first problem."""
    scenarios = []
    for where, parsed in _parse(Path(path)):
        problems = [parsed] if isinstance(parsed, str) else check_scenario(parsed, catalog)
        if problems:
            raise BadInput(where, problems[0])
        scenarios.append(parsed)
    return scenarios


def validate_file(path: str | Path, catalog: Catalog) -> list[str]:
    """Every problem of a scenario file as ``"FILE:LINE: reason"``; empty when the file is valid."""
    errors = []
    try:
        for where, parsed in _parse(Path(path)):
            problems = [parsed] if isinstance(parsed, str) else check_scenario(parsed, catalog)
            errors.extend(f"{where}: {problem}" for problem in problems)
    except BadInput as exc:  # unreadable bytes: the rest of the file cannot be trusted
        errors.append(f"{exc.where}: {exc.reason}")
    return errors


def _parse(path: Path) -> Iterator[tuple[str, Scenario | str]]:
    """Yield ``(FILE:LINE, scenario or reason)`` per non-blank line; stops at unreadable bytes."""
    seen: dict[str, int] = {}
    lines = 0
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BadInput(str(path), f"cannot read: {exc.strerror or exc}") from exc
    with handle:
        for number, text in _lines(handle, path):
            lines += 1
            where = f"{path}:{number}"
            parsed = _scenario(text)
            if isinstance(parsed, Scenario):
                if parsed.id in seen:
                    parsed = f"duplicate id {parsed.id!r} (first on line {seen[parsed.id]})"
                else:
                    seen[parsed.id] = number
            yield where, parsed
    if not lines:
        yield f"{path}:1", "empty file: no scenarios"


def _lines(handle, path: Path) -> Iterator[tuple[int, str]]:
    """Decoded non-blank lines with their numbers; raises ``BadInput`` on long or non-UTF-8 lines."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise BadInput(f"{path}:{number}", f"line longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path}:{number}", f"not UTF-8 text (byte {exc.start})") from exc
        if text.strip():
            yield number, text


def _scenario(text: str) -> Scenario | str:
    """A scenario from one line of JSON, or the reason it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"bad JSON: {exc.msg} (column {exc.colno})"
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in err["loc"]) or "scenario"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{field}: {err['msg']}{more}"


def check_scenario(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Problems of a well-formed scenario against a catalog (empty when there are none); a scenario
    for another domain than the catalog's has only that problem."""
    if (wrong_domain := domain_problem(scenario.domain, catalog.name)) is not None:
        return [wrong_domain]
    try:
        catalog = catalog.for_scenario(scenario)
    except ValueError as exc:
        return [f"tools: {exc}"]
    problems = []
    for t, turn in enumerate(scenario.turns, 1):
        expect = turn.expect
        if expect.kind == "calls" and not expect.calls:
            problems.append(f"turn {t}: kind 'calls' needs at least one call")
        if expect.kind != "calls" and expect.calls:
            problems.append(f"turn {t}: kind {expect.kind!r} must not list calls")
        if (expect.kind == "clarify") != (expect.clarify is not None):
            problems.append(f"turn {t}: 'clarify' is required for kind 'clarify' and only there")
        for c, call in enumerate(expect.calls, 1):
            if not catalog.has(call.name):
                problems.append(f"turn {t} call {c}: unknown tool {call.name!r}")
                continue
            _, error = catalog.validate(call.name, dict(call.arguments))
            if error is not None and error_code(error) != call.error:
                problems.append(
                    f"turn {t} call {c} {call.name}: invalid arguments: {error['error']['message']}"
                )
            located = f"turn {t} call {c} {call.name}"
            problems.extend(f"{located}: {problem}" for problem in alternative_problems(call, catalog))
    return problems or _replay_problems(scenario, catalog)


def alternative_problems(call: ExpectedCall, catalog: Catalog) -> list[str]:
    """Problems of a gold call's ``any_of`` and ``may_omit``: each names an argument of the gold
    call (or one it may omit), each acceptable value is valid, and leaving out a ``may_omit``
    argument is valid."""
    if call.error is not None:
        return []
    problems = []
    for argument in call.may_omit:
        rest = {k: v for k, v in call.arguments.items() if k != argument}
        if (error := catalog.validate(call.name, rest)[1]) is not None:
            problems.append(f"may_omit {argument!r}: without it, {error['error']['message']}")
    for argument, values in call.any_of.items():
        if argument not in call.arguments and argument not in call.may_omit:
            problems.append(f"any_of {argument!r}: not an argument of the gold call nor in may_omit")
        for value in values:
            if (error := catalog.validate(call.name, {**call.arguments, argument: value})[1]) is not None:
                problems.append(f"any_of {argument!r} value {value!r}: {error['error']['message']}")
    return problems


def _replay_problems(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Replay the gold calls on the fixture; a call fails exactly when and how it is expected to."""
    located = [
        (t, c, call)
        for t, turn in enumerate(scenario.turns, 1)
        for c, call in enumerate(turn.expect.calls, 1)
    ]
    try:
        _, results = catalog.replay(scenario.db, [call for _, _, call in located])
    except (ValidationError, ValueError, TypeError) as exc:
        return [f"db: not a valid fixture: {str(exc).splitlines()[0]}"]
    problems = []
    for (t, c, call), result in zip(located, results, strict=True):
        got = error_code(result)
        if got != call.error:
            expected = f"error {call.error!r}" if call.error else "success"
            actual = f"error {got!r}: {result['error']['message']}" if got else "success"
            problems.append(f"turn {t} call {c} {call.name}: replay gave {actual}, expected {expected}")
    return problems


def stats(scenarios: list[Scenario]) -> dict:
    """Counts: scenarios, turns, calls, per category, per tool, per split, families and tools covered."""
    tools: Counter[str] = Counter()
    for scenario in scenarios:
        tools.update(call.name for turn in scenario.turns for call in turn.expect.calls)
    categories = Counter(s.category for s in scenarios)
    return {
        "scenarios": len(scenarios),
        "turns": sum(len(s.turns) for s in scenarios),
        "calls": sum(tools.values()),
        "categories": dict(sorted(categories.items())),
        "families": len({s.family for s in scenarios}),
        "tools_covered": len(tools),
        "tools": dict(sorted(tools.items())),
        "intents": dict(sorted(Counter(s.intent for s in scenarios).items())),
        "splits": dict(sorted(Counter(s.split for s in scenarios).items())),
    }


def suite_sha256(path: str | Path) -> str:
    """sha256 (hex) of a scenario file's bytes: the suite's identity in run records."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
