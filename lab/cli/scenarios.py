"""`lab scenarios`: generate the scenario packs, validate scenario files, count what is in them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lab.cli.common import DOMAIN_OPTION, JSON_OPTION, emit
from lab.domain import load_domain

if TYPE_CHECKING:
    from lab.types import Scenario

app = typer.Typer(no_args_is_help=True, help="Scenario packs: generate, validate, count.")

# readable=False: lab.scenarios reports an unreadable file as one error line, not a usage panel.
FILES_ARGUMENT = typer.Argument(..., readable=False, help="Scenario JSONL files.")
SEED_OPTION = typer.Option(..., "--seed", help="Random seed; the same seed gives identical files.")
SHOWN_ERRORS = 10  # per file, in the text output
OUT_OPTION = typer.Option(..., "--out", help="Folder to write train.jsonl, dev.jsonl, test.jsonl to.")
TRAIN_SIZE = typer.Option(
    None, "--train-size", min=1, help="Train scenarios (default 540); dev and test are unchanged."
)


@app.command("generate")
def generate_command(
    seed: int = SEED_OPTION,
    out: Path = OUT_OPTION,
    domain: str = DOMAIN_OPTION,
    train_size: int | None = TRAIN_SIZE,
    json_output: bool = JSON_OPTION,
) -> None:
    """Generate the train/dev/test scenario packs into OUT/{train,dev,test}.jsonl."""
    from lab.families import SPLITS
    from lab.generate import generate
    from lab.io import write_jsonl_atomic

    packs = generate(seed, load_domain(domain), train_size)
    files = {}
    for split in SPLITS:
        path = out / f"{split}.jsonl"
        write_jsonl_atomic(path, [s.model_dump(mode="json", exclude_defaults=True) for s in packs[split]])
        files[str(path)] = len(packs[split])
    if json_output:
        emit({"files": files})
        return
    for path, count in files.items():
        print(f"{path}: {count} scenarios")


@app.command("validate")
def validate_command(
    files: list[Path] = FILES_ARGUMENT, domain: str = DOMAIN_OPTION, json_output: bool = JSON_OPTION
) -> None:
    """Check scenario files line by line; exit 2 when any has a problem.

    Prints FILE:LINE: reason for the first problems of each file and how many more it has (a file
    that is not a scenario pack at all fails on every line); --json lists every problem.
    """
    from lab.scenarios import validate_file

    tools = load_domain(domain).catalog
    errors = {str(path): validate_file(path, tools) for path in files}
    if json_output:
        emit({"valid": not any(errors.values()), "errors": [e for found in errors.values() for e in found]})
    else:
        for path, found in errors.items():
            for error in found[:SHOWN_ERRORS]:
                print(error)
            if len(found) > SHOWN_ERRORS:
                print(f"... and {len(found) - SHOWN_ERRORS} more errors in {path}")
        if not any(errors.values()):
            print(f"{len(files)} file(s) valid")
    if any(errors.values()):
        raise typer.Exit(2)


@app.command("stats")
def stats_command(
    files: list[Path] = FILES_ARGUMENT, domain: str = DOMAIN_OPTION, json_output: bool = JSON_OPTION
) -> None:
    """Count scenarios, turns and calls, per category, per tool and per split."""
    from lab.scenarios import stats

    name = load_domain(domain).name
    scenarios = [s for path in files for s in _of_domain(path, name)]
    counts = stats(scenarios)
    if json_output:
        emit(counts)
        return
    for key in ("scenarios", "turns", "calls", "families", "tools_covered"):
        print(f"{key}: {counts[key]}")
    for key in ("splits", "categories", "tools"):
        print(f"{key}: " + ", ".join(f"{name} {n}" for name, n in counts[key].items()))


def _of_domain(path: Path, name: str) -> list[Scenario]:
    """A file's scenarios; BadInput at FILE:LINE for the first one for another domain than ``name``."""
    from lab.domain import domain_problem
    from lab.errors import BadInput
    from lab.scenarios import load_scenarios

    scenarios = load_scenarios(path)
    lines = [n for n, text in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if text.strip()]
    for scenario, line in zip(scenarios, lines, strict=False):
        if (problem := domain_problem(scenario.domain, name)) is not None:
            raise BadInput(f"{path}:{line}", problem)
    return scenarios
