"""Scenario files (JSONL, one ``Scenario`` a line): load, validate against a catalog, count.

``load_scenarios`` reads a file strictly and raises ``BadInput("FILE:LINE", reason)`` on
the first problem: unreadable or non-UTF-8 bytes, a line over 1 MB, bad JSON, a line that
does not fit the ``Scenario`` contract, a duplicate id, or an empty file. Bad JSON includes
what Python's parser would let through: a key twice in one object, ``NaN`` and ``Infinity``
(and numbers too large for a float), integers over ``MAX_DIGITS`` digits and nesting deeper
than ``MAX_DEPTH``. ``validate_file`` reports every problem of a file instead, and also checks
each scenario against a tool catalog: the same domain, at most ``MAX_TURNS`` turns and
``MAX_CALLS`` gold calls a turn, known tools, gold arguments valid for the tool's schema, well-formed turn
expectations, and a replay of the gold calls on the fixture in which tools fail exactly
where ``ExpectedCall.error`` says, with that code. ``load_suite`` (what a run reads) does
both and raises on the first problem; it reads the file once (a FIFO works), hashing its
bytes as it goes, and with a limit parses only that many scenarios and hashes the rest
unparsed. Blank lines are skipped. Nothing here writes files or knows the shop's domain.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from lab.catalog import Catalog, error_code
from lab.domain import domain_problem
from lab.errors import BadInput
from lab.score import has_key_terms
from lab.types import ExpectedCall, Scenario

MAX_LINE_BYTES = 1_000_000
MAX_DEPTH = 64  # JSON nesting; a fixture needs about 6 levels
MAX_DIGITS = 100  # digits of a JSON integer
# Running a scenario (the agent sends the whole conversation at every step) grows faster than
# its turns, and pairing a turn's calls grows exponentially with its gold calls: both are capped.
MAX_TURNS = 100
MAX_CALLS = 10
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Suite:
    """A suite as a run reads it: its first scenarios and the sha256 (hex) of the whole file."""

    scenarios: list[Scenario]
    sha256: str


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read a JSONL scenario file; raises ``BadInput`` naming the line of the first problem."""
    scenarios = []
    with _open(Path(path)) as handle:
        for where, parsed in _parse(handle, Path(path)):
            if isinstance(parsed, str):
                raise BadInput(where, parsed)
            scenarios.append(parsed)
    return scenarios


def load_suite(path: str | Path, catalog: Catalog, limit: int | None = None) -> Suite:
    """Read a scenario file a run can use, once, from its first byte to its last.

    Strict like ``load_scenarios``, and every scenario read is checked against ``catalog`` as
    ``validate_file`` does; raises ``BadInput`` naming the line of the first problem. With a
    ``limit`` only the first ``limit`` scenarios are parsed and checked: the lines after them are
    hashed, not read as scenarios, so their problems are not reported. The sha256 is always of
    the whole file.
    """
    path, digest, scenarios = Path(path), hashlib.sha256(), []
    with _open(path) as handle:
        for where, parsed in _parse(handle, path, digest):
            problems = [parsed] if isinstance(parsed, str) else check_scenario(parsed, catalog)
            if problems:
                raise BadInput(where, problems[0])
            scenarios.append(parsed)
            if limit is not None and len(scenarios) >= limit:
                break
        for block in iter(lambda: _read(handle, path, _BLOCK), b""):
            digest.update(block)
    return Suite(scenarios, digest.hexdigest())


def validate_file(path: str | Path, catalog: Catalog) -> list[str]:
    """Every problem of a scenario file as ``"FILE:LINE: reason"``; empty when the file is valid.

    A file that cannot be opened or read raises ``BadInput`` instead: it has no lines to report on.
    """
    errors = []
    with _open(Path(path)) as handle:
        try:
            for where, parsed in _parse(handle, Path(path)):
                problems = [parsed] if isinstance(parsed, str) else check_scenario(parsed, catalog)
                errors.extend(f"{where}: {problem}" for problem in problems)
        except BadInput as exc:  # unreadable bytes: the rest of the file cannot be trusted
            if exc.where == str(path):  # the file itself failed to read, not one of its lines
                raise
            errors.append(f"{exc.where}: {exc.reason}")
    return errors


def _open(path: Path) -> IO[bytes]:
    """The file opened for reading bytes; ``BadInput`` naming it when that fails."""
    try:
        return path.open("rb")
    except OSError as exc:
        raise BadInput(str(path), f"cannot read: {exc.strerror or exc}") from exc


def _read(handle: IO[bytes], path: Path, size: int, line: bool = False) -> bytes:
    """Up to ``size`` bytes (up to the next newline when ``line``); ``BadInput`` on a read error."""
    try:
        return handle.readline(size) if line else handle.read(size)
    except OSError as exc:
        raise BadInput(str(path), f"cannot read: {exc.strerror or exc}") from exc


def _parse(handle: IO[bytes], path: Path, digest: Any = None) -> Iterator[tuple[str, Scenario | str]]:
    """Yield ``(FILE:LINE, scenario or reason)`` per non-blank line; stops at unreadable bytes.
    Every byte read is fed to ``digest`` (a hashlib object) when one is given."""
    seen: dict[str, int] = {}
    lines = 0
    for number, text in _lines(handle, path, digest):
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


def _lines(handle: IO[bytes], path: Path, digest: Any = None) -> Iterator[tuple[int, str]]:
    """Decoded non-blank lines with their numbers; raises ``BadInput`` on long or non-UTF-8 lines."""
    number = 0
    while True:
        raw = _read(handle, path, MAX_LINE_BYTES + 1, line=True)
        if not raw:
            return
        if digest is not None:
            digest.update(raw)
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise BadInput(f"{path}:{number}", f"line longer than {MAX_LINE_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadInput(f"{path}:{number}", f"not UTF-8 text (byte {exc.start})") from exc
        if text.strip():
            yield number, text


class _Refused(ValueError):
    """JSON that Python's parser accepts and a scenario file must not hold."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refused when a key comes twice (json keeps the last one silently)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        twice = next(key for key, n in Counter(key for key, _ in pairs).items() if n > 1)
        raise _Refused(f"key {twice!r} appears twice in one object")
    return data


def _constant(name: str) -> float:
    raise _Refused(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"{text} is too large for a number")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"an integer of more than {MAX_DIGITS} digits")
    return int(text)


def _depth(value: Any) -> int:
    """How deeply a parsed JSON value nests (a scalar is 0), walked without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is not None:
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _json(text: str) -> Any:
    """One line of strict JSON; raises ``_Refused`` (a ValueError) for what a scenario must not hold."""
    try:
        data = json.loads(
            text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_float, parse_int=_int
        )
    except RecursionError as exc:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels") from exc
    if _depth(data) > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
    return data


def first_error(exc: ValidationError, whole: str | None = "scenario") -> str:
    """A pydantic error in one line: the first problem's field path (``whole`` when the problem is
    with the whole object; nothing when that is None) and message, and how many more there are."""
    err = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in err["loc"]) or whole
    cause = err.get("ctx", {}).get("error") if err["type"] == "value_error" else None
    message = str(cause) if cause is not None else err["msg"]
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{field}: {message}{more}" if field else f"{message}{more}"


def _scenario(text: str) -> Scenario | str:
    """A scenario from one line of JSON, or the reason it is not one."""
    try:
        data = _json(text)
    except json.JSONDecodeError as exc:
        return f"bad JSON: {exc.msg} (column {exc.colno})"
    except _Refused as exc:
        return f"bad JSON: {exc}"
    if not isinstance(data, dict):
        return f"expected a JSON object, got {type(data).__name__}"
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        return first_error(exc)


def check_scenario(scenario: Scenario, catalog: Catalog) -> list[str]:
    """Problems of a well-formed scenario against a catalog (empty when there are none); a scenario
    for another domain than the catalog's has only that problem."""
    if (wrong_domain := domain_problem(scenario.domain, catalog.name)) is not None:
        return [wrong_domain]
    if len(scenario.turns) > MAX_TURNS:
        return [f"{len(scenario.turns)} turns: a scenario may have at most {MAX_TURNS}"]
    try:
        catalog = catalog.for_scenario(scenario)
    except ValueError as exc:
        return [f"tools: {exc}"]
    problems = []
    for t, turn in enumerate(scenario.turns, 1):
        expect = turn.expect
        if len(expect.calls) > MAX_CALLS:
            problems.append(f"turn {t}: {len(expect.calls)} calls: a turn may expect at most {MAX_CALLS}")
            continue
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
    """Problems of a gold call's ``any_of``, ``may_omit`` and ``key_terms``: each names an argument
    of the gold call (or one it may omit), each acceptable value is valid, leaving out a ``may_omit``
    argument is valid, and key terms are of a free-text argument whose gold value contains them."""
    if call.error is not None:
        return []
    problems = []
    for argument in call.may_omit:
        rest = {k: v for k, v in call.arguments.items() if k != argument}
        if (error := catalog.validate(call.name, rest)[1]) is not None:
            problems.append(f"may_omit {argument!r}: without it, {error['error']['message']}")
    for argument, terms in call.key_terms.items():
        if argument not in catalog.free_text(call.name):
            problems.append(f"key_terms {argument!r}: not a free-text argument of {call.name}")
        elif not has_key_terms(call.arguments.get(argument), terms):
            problems.append(f"key_terms {argument!r}: the gold value does not contain them all")
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
    except ValidationError as exc:
        return [f"db: not a valid fixture: {first_error(exc, None)}"]
    except (ValueError, TypeError) as exc:
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
