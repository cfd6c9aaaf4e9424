"""`lab scenarios`: generate the scenario packs, validate scenario files, count what is in them."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli.common import JSON_OPTION, emit

app = typer.Typer(no_args_is_help=True, help="Scenario packs: generate, validate, count.")

CATALOG_OPTION = typer.Option("tools", "--catalog", help="Module whose CATALOG holds the tools.")
FILES_ARGUMENT = typer.Argument(..., help="Scenario JSONL files.")
SEED_OPTION = typer.Option(..., "--seed", help="Random seed; the same seed gives identical files.")
SHOWN_ERRORS = 10  # per file, in the text output
OUT_OPTION = typer.Option(..., "--out", help="Folder to write train.jsonl, dev.jsonl, test.jsonl to.")


@app.command("generate")
def generate_command(
    seed: int = SEED_OPTION,
    out: Path = OUT_OPTION,
    catalog: str = CATALOG_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Generate the train/dev/test scenario packs into OUT/{train,dev,test}.jsonl."""
    from lab.catalog import load_catalog
    from lab.families import SPLITS
    from lab.generate import generate
    from lab.io import write_jsonl_atomic

    packs = generate(seed, load_catalog(catalog))
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
    files: list[Path] = FILES_ARGUMENT, catalog: str = CATALOG_OPTION, json_output: bool = JSON_OPTION
) -> None:
    """Check scenario files line by line; exit 2 when any has a problem.

    Prints FILE:LINE: reason for the first problems of each file and how many more it has (a file
    that is not a scenario pack at all fails on every line); --json lists every problem.
    """
    from lab.catalog import load_catalog
    from lab.scenarios import validate_file

    tools = load_catalog(catalog)
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
def stats_command(files: list[Path] = FILES_ARGUMENT, json_output: bool = JSON_OPTION) -> None:
    """Count scenarios, turns and calls, per category, per tool and per split."""
    from lab.scenarios import load_scenarios, stats

    scenarios = [s for path in files for s in load_scenarios(path)]
    counts = stats(scenarios)
    if json_output:
        emit(counts)
        return
    for key in ("scenarios", "turns", "calls", "families", "tools_covered"):
        print(f"{key}: {counts[key]}")
    for key in ("splits", "categories", "tools"):
        print(f"{key}: " + ", ".join(f"{name} {n}" for name, n in counts[key].items()))
