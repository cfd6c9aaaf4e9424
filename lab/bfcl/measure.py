"""Agreement of the lab's scorer with BFCL's checker over one category, counted.

``measure`` compares the two verdicts (``lab.bfcl.agreement.compare``) on every output of every
importable case of a category: ``scripted/oracle``, ``scripted/chaos-SEED`` for the seeds asked
for, and ``perturbations`` hypothesis draws per case (``lab.bfcl.perturb``; for a multi-turn
category, ``lab.bfcl.multi_agreement`` and ``lab.bfcl.multi_perturb``). It counts the
outputs, those where the verdicts agree (raw), and agreement with BFCL's issue #1362 cases set
aside (they leave the denominator too), and names each disagreement by the output's kind and
the two verdicts, with a few examples. Nothing here writes files.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lab.bfcl.agreement import Case, Output, compare, load_cases, scripted_output
from lab.bfcl.perturb import examples

EXAMPLES_PER_KIND = 3


class CategoryAgreement(BaseModel):
    """The counts of one category (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    category: str
    cases: int
    set_aside_on_import: dict[str, str]
    outputs: int
    agree: int
    issue_1362: int
    disagreements: dict[str, int] = Field(description="'kind: lab=<v> bfcl=<v>' -> outputs")
    examples: dict[str, list[dict[str, Any]]]

    @property
    def raw(self) -> float | None:
        """Agreement over every output."""
        return self.agree / self.outputs if self.outputs else None

    @property
    def set_aside(self) -> float | None:
        """Agreement with the #1362 outputs left out."""
        counted = self.outputs - self.issue_1362
        return self.agree / counted if counted else None


def outputs_of(case: Case, chaos_seeds: list[int], perturbations: int, seed: int) -> list[tuple[str, Output]]:
    """The outputs compared on one case, each with its kind."""
    found: list[tuple[str, Output]] = [("oracle", scripted_output(case.scenario, "oracle"))]
    found += [("chaos", scripted_output(case.scenario, f"chaos-{s}")) for s in chaos_seeds]
    return found + (examples(case, perturbations, seed) if perturbations else [])


def measure(
    category: str, limit: int | None = None, chaos_seeds: tuple[int, ...] = (0, 1, 2),
    perturbations: int = 8, seed: int = 0,
) -> CategoryAgreement:  # fmt: skip
    """Both verdicts on every output of the first ``limit`` entries of a category, counted."""
    from lab.bfcl.multi_turn import MULTI_TURN

    if category in MULTI_TURN:
        return measure_multi(category, limit, chaos_seeds, perturbations, seed)
    cases, aside = load_cases(category, limit)
    outputs = agree = issue = 0
    kinds: Counter[str] = Counter()
    shown: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        for kind, output in outputs_of(case, list(chaos_seeds), perturbations, seed):
            result = compare(case, output)
            outputs += 1
            agree += result.agree
            issue += result.issue_1362
            if not result.agree:
                key = f"{'issue_1362' if result.issue_1362 else kind}: lab={result.lab} bfcl={result.bfcl}"
                kinds[key] += 1
                if len(shown.setdefault(key, [])) < EXAMPLES_PER_KIND:
                    shown[key].append({"id": case.entry["id"], "output": output})
    return CategoryAgreement(
        category=category, cases=len(cases), set_aside_on_import=aside, outputs=outputs, agree=agree,
        issue_1362=issue, disagreements=dict(sorted(kinds.items())), examples=shown,
    )  # fmt: skip


def measure_multi(
    category: str, limit: int | None, chaos_seeds: tuple[int, ...], perturbations: int, seed: int
) -> CategoryAgreement:
    """``measure`` for a multi-turn category (``lab.bfcl.multi_agreement``; no #1362 cases there)."""
    from lab.bfcl.multi_agreement import (
        bfcl_multi_verdict,
        lab_multi_verdict,
        load_multi_cases,
        multi_outputs,
    )

    cases, aside = load_multi_cases(category, limit)
    outputs = agree = 0
    kinds: Counter[str] = Counter()
    shown: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        for kind, trace in multi_outputs(case, list(chaos_seeds), perturbations, seed):
            lab, bfcl = lab_multi_verdict(case, trace), bfcl_multi_verdict(case, trace)
            outputs += 1
            agree += lab == bfcl
            if lab != bfcl:
                key = f"{kind}: lab={lab} bfcl={bfcl}"
                kinds[key] += 1
                if len(shown.setdefault(key, [])) < EXAMPLES_PER_KIND:
                    calls = [[{c.name: c.arguments} for c in t.calls] for t in trace.turns]
                    shown[key].append({"id": case.entry["id"], "output": calls})
    return CategoryAgreement(
        category=category, cases=len(cases), set_aside_on_import=aside, outputs=outputs, agree=agree,
        issue_1362=0, disagreements=dict(sorted(kinds.items())), examples=shown,
    )  # fmt: skip
