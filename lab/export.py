"""Export a train-split run as fine-tuning data: failing turns corrected by the gold answers.

``export_run`` reads a run's results log and its suite, refuses anything but the train split
(dev or test data in training would leak evaluation data), turns every failed turn into an
example (lab/examples.py), optionally adds a share of correct turns, or with ``from_passing``
(distillation) uses a strong model's correct turns instead. Examples are deduplicated by
normalised content, split into train/val by phrasing family, checked against both file
formats' rules (lab/ftformats.py), written to a temporary directory that replaces ``out_dir``
only when complete, and logged to MLflow through lab/tracking.py. What a killed export left (its
temporary folder, its export run still RUNNING) is cleaned up by the next one. It does not train
anything.
"""

from __future__ import annotations

import json
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lab import dataset, tracking
from lab.catalog import Catalog
from lab.domain import DEFAULT_DOMAIN, load_domain
from lab.errors import BadInput
from lab.examples import Example
from lab.graph import AgentSettings, Run
from lab.io import folder_in_place, process_alive
from lab.models import promptform
from lab.redact import redact
from lab.scenarios import load_scenarios, suite_sha256
from lab.strategies import DEFAULT_TRAIN, Strategy, make_strategy
from lab.types import ExportManifest, ExportSummary, ResultRecord, Scenario


@dataclass(frozen=True)
class RunSource:
    """A finished run as export needs it: what ran, its records and its scenarios by id."""

    run_id: str
    model: str
    strategy: str
    suite: str
    suite_sha256: str
    records: list[ResultRecord]
    scenarios: dict[str, Scenario]
    domain: str = DEFAULT_DOMAIN
    system_prompt: str = ""
    train_file: Path = DEFAULT_TRAIN


def check_train_split(source: RunSource) -> None:
    """Refuse a run whose scenarios are not all from the train split."""
    splits = sorted({source.scenarios[r.scored.scenario_id].split for r in source.records})
    if splits != ["train"]:
        raise BadInput(
            source.run_id,
            f"run is on the {'/'.join(splits) or 'empty'} split of {source.suite}; only train-split runs "
            "can be exported (dev/test examples would leak evaluation data into training)",
        )


def check_options(include_passing: float, from_passing: bool) -> None:
    """Reject option values that make no sense, naming the option."""
    if not 0.0 <= include_passing <= 1.0:
        raise BadInput("--include-passing", f"must be a share in [0, 1], got {include_passing}")
    if from_passing and include_passing:
        raise BadInput(
            "--include-passing", "cannot be combined with --from-passing (it uses every correct turn)"
        )


def check_out_dir(out: Path) -> None:
    """``out`` must be new, empty or an earlier export (which is replaced as a whole)."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())):
        raise BadInput("--out", f"{out} exists and is not an earlier export; choose another directory")


def load_source(run_id: str) -> RunSource:
    """The run's params, results and scenarios; the suite must be the file the run used."""
    run = tracking.find_run(run_id)
    params = run.params
    missing = [key for key in ("model", "strategy", "suite") if key not in params]
    if run.tags.get("lab.kind", "suite") != "suite" or missing:
        raise BadInput(
            run_id, f"not a suite run (a {run.tags.get('lab.kind')} run; use the id `lab run` printed)"
        )
    if run.status != "FINISHED":
        raise BadInput(
            run_id, f"the run is {run.status}; finish it (lab run --resume {run_id}) before exporting"
        )
    suite = Path(params["suite"])
    if not suite.exists():
        raise BadInput(run_id, f"the run's suite file {suite} does not exist")
    sha = suite_sha256(suite)
    if params.get("suite_sha256", sha) != sha:
        raise BadInput(run_id, f"suite file {suite} changed since the run (sha256 {sha[:12]}...)")
    scenarios = {s.id: s for s in load_scenarios(suite)}
    records = tracking.load_results(run_id)
    unknown = sorted({r.scored.scenario_id for r in records} - scenarios.keys())
    if unknown:
        raise BadInput(run_id, f"scenarios {unknown[:3]} of the run are not in {suite}")
    return RunSource(
        run_id=run_id,
        model=params["model"],
        strategy=params["strategy"],
        suite=str(suite),
        suite_sha256=sha,
        records=records,
        scenarios=scenarios,
        domain=params.get("domain") or DEFAULT_DOMAIN,
        system_prompt=params.get("system_prompt", ""),
        train_file=Path(params.get("train_file") or DEFAULT_TRAIN),
    )


def agent_system(strategy: Strategy, catalog: Catalog) -> Callable[[Scenario], list[dict]]:
    """The system messages the agent sends in a scenario: its strategy's prompt, then the clock."""

    def system(scenario: Scenario) -> list[dict]:
        db = catalog.new_db(scenario.db)
        run = Run(
            model="",
            strategy=strategy,
            catalog=catalog,
            db=db,
            settings=AgentSettings(),
            metadata={},
            tools=[],
        )
        return run.system()

    return system


def write_tree(folder: Path, rows: dict[str, dict[str, list[dict]]], manifest: ExportManifest) -> None:
    """Write ``FORMAT/SPLIT.jsonl`` for every format and split, and ``manifest.json``.

    Rows are written with secrets masked (lab/redact.py): a key a customer pasted into a scenario
    or a system prompt file must not be trained on, nor uploaded to a hosted tuning service.
    """
    for fmt, splits in rows.items():
        (folder / fmt).mkdir(parents=True, exist_ok=True)
        for split, items in splits.items():
            text = "".join(json.dumps(redact(row), ensure_ascii=False) + "\n" for row in items)
            (folder / fmt / f"{split}.jsonl").write_text(text, encoding="utf-8")
    (folder / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")


def export_run(
    run_id: str,
    out_dir: Path | str,
    include_passing: float = 0.0,
    from_passing: bool = False,
    seed: int = 0,
    domain_spec: str | None = None,
    prompt: str = promptform.DEFAULT_FORM,
) -> ExportSummary:
    """Export a train-split run as fine-tuning data in both formats, with a manifest.

    Args:
        run_id: the MLflow run to export; its suite must be the train split.
        out_dir: the folder to create (an earlier export there is replaced as a whole).
        include_passing: share of correct turns to add to the failing ones.
        from_passing: distillation: examples from correct turns only (a strong model's run).
        seed: seeds the sample of correct turns and the train/val family split.
        domain_spec: the domain (``--domain``); it must be the run's (default: the run's).
        prompt: the prompt form (``lab.models.promptform``) of the rows' system prompt and catalog;
            recorded in the manifest, so ``lab tune`` renders the rows in it and the adapter
            remembers it for ``lab run``.

    Raises:
        BadInput: a bad option, an unknown or non-train run, or an example that breaks a format.
    """
    check_options(include_passing, from_passing)
    promptform.check_form(prompt)
    out = Path(out_dir)
    check_out_dir(out)
    source = load_source(run_id)
    check_train_split(source)
    domain = load_domain(source.domain)
    asked = load_domain(domain_spec) if domain_spec is not None else domain
    if asked.name != domain.name:
        raise BadInput("--domain", f"run {run_id} ran on domain {domain.name}, not {asked.name}")
    catalog = domain.catalog
    strategy = make_strategy(
        source.strategy, domain, system_prompt_file=source.system_prompt or None,
        train_file=source.train_file, prompt=prompt,
    )  # fmt: skip
    turns, failing, passing = dataset.select_turns(source.records, include_passing, from_passing, seed)
    candidates = dataset.build_examples(source.scenarios, catalog, agent_system(strategy, catalog), turns)
    examples = dataset.deduplicate(candidates)
    if not examples:
        hint = "it has no correct turns" if from_passing else "it has no failing turns; try --include-passing"
        raise BadInput(run_id, f"nothing to export: {hint}")
    splits = dataset.split_examples(examples, seed)
    rendered = {split: dataset.render(items, catalog.schemas(), run_id) for split, items in splits.items()}
    rows = {fmt: {split: rendered[split][fmt] for split in splits} for fmt in dataset.FORMATS}
    manifest = build_manifest(
        source, examples, splits, (failing, passing, len(candidates)), include_passing, from_passing, seed
    ).model_copy(update={"prompt": prompt, "domain": domain.name})
    return publish(source, out, rows, manifest, examples)


def build_manifest(
    source: RunSource,
    examples: list[Example],
    splits: dict[str, list[Example]],
    turn_counts: tuple[int, int, int],
    include_passing: float,
    from_passing: bool,
    seed: int,
) -> ExportManifest:
    """The manifest of an export: provenance, counts and file layout."""
    failing, passing, candidates = turn_counts
    per_tool, per_category, per_error = dataset.counts(examples)
    return ExportManifest(
        source_run=source.run_id,
        model=source.model,
        strategy=source.strategy,
        suite=source.suite,
        suite_sha256=source.suite_sha256,
        mode="distill" if from_passing else "failures",
        include_passing=include_passing,
        seed=seed,
        failing_turns=failing,
        passing_turns=passing,
        candidates=candidates,
        duplicates=candidates - len(examples),
        examples=len(examples),
        train=len(splits["train"]),
        val=len(splits["val"]),
        train_families=sorted({e.family for e in splits["train"]}),
        val_families=sorted({e.family for e in splits["val"]}),
        per_tool=per_tool,
        per_category=per_category,
        per_error_type=per_error,
        files={fmt: {split: f"{fmt}/{split}.jsonl" for split in splits} for fmt in dataset.FORMATS},
    )


def publish(
    source: RunSource,
    out: Path,
    rows: dict[str, dict[str, list[dict]]],
    manifest: ExportManifest,
    examples: list[Example],
) -> ExportSummary:
    """Write everything to a temporary folder, log it to MLflow, then move it to ``out``."""
    with folder_in_place(out) as tmp:
        write_tree(tmp, rows, manifest)
        export_run_id = log_export(source, tmp, out, manifest, examples)
    return ExportSummary(
        run_id=source.run_id,
        export_run_id=export_run_id,
        out_dir=str(out),
        examples=manifest.examples,
        train=manifest.train,
        val=manifest.val,
        formats={fmt: str(out / fmt) for fmt in dataset.FORMATS},
        manifest=manifest,
    )


def log_export(
    source: RunSource, folder: Path, out: Path, manifest: ExportManifest, examples: list[Example]
) -> str:
    """An export run in the source run's experiment: params, the dataset as input, files, counts."""
    experiment = tracking.find_run(source.run_id).experiment
    close_stale_exports(experiment)
    params = {
        "source_run": source.run_id,
        "model": source.model,
        "strategy": source.strategy,
        "suite": source.suite,
        "suite_sha256": source.suite_sha256,
        "mode": manifest.mode,
        "include_passing": manifest.include_passing,
        "seed": manifest.seed,
        "prompt": manifest.prompt,
    }
    run = tracking.start_run(
        experiment,
        params,
        tags={
            "lab.kind": "export",
            "lab.source_run": source.run_id,
            "lab.host": socket.gethostname(),
            "lab.pid": str(os.getpid()),
        },
        run_name=f"export {source.model} {source.strategy}",
    )
    try:
        tracking.log_metrics(run.run_id, dataset.export_metrics(manifest))
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):  # all JSON text
            name = f"dataset/{path.relative_to(folder).as_posix()}"
            tracking.log_text(run.run_id, path.read_text(encoding="utf-8"), name)  # secrets masked
        with warnings.catch_warnings():  # MLflow warns about its own source registry and pandas
            warnings.simplefilter("ignore")
            tracking.log_dataset(
                run.run_id,
                dataset.dataset_rows(manifest, examples),
                name=f"export-{source.run_id[:8]}",
                source=str(out.resolve()),
            )
    except BaseException:
        tracking.set_status(run.run_id, "FAILED")
        raise
    tracking.set_status(run.run_id, "FINISHED")
    return run.run_id


def close_stale_exports(experiment: str) -> list[str]:
    """Mark KILLED the export runs of ``experiment`` still RUNNING whose process (on this host) is
    gone; returns their ids. Runs of other hosts or of live processes are left alone."""
    closed = []
    for run in tracking.running_runs(experiment, "export"):
        pid, host = run.tags.get("lab.pid", ""), run.tags.get("lab.host")
        if host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid)):
            tracking.set_status(run.run_id, "KILLED")
            closed.append(run.run_id)
    return closed


def latest_train_run(model: str) -> str:
    """The id of the most recent finished train-split suite run of ``model``."""
    found = tracking.latest_run(model=model, split="train")
    if found is None:
        raise BadInput(
            "--run", f"no finished train-split run of {model}; run it on scenarios/train.jsonl first"
        )
    return found.run_id
