"""Data contracts of the lab: scenarios, traces and scored results.

Every contract is a pydantic model with ``extra="forbid"``, so a misspelt field in a
hand-written scenario file or a results log is an error, never silently dropped.
These models are what the stages hand each other and what lands on disk as JSON/JSONL.
They hold no behaviour beyond small derived properties.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Split = Literal["train", "dev", "test"]
Category = Literal[
    "single_call",
    "multi_call",
    "multi_turn",
    "clarify",
    "no_tool",
    "knowledge",
    "error_recovery",
    "distractor",
]
CATEGORIES: tuple[Category, ...] = (
    "single_call",
    "multi_call",
    "multi_turn",
    "clarify",
    "no_tool",
    "knowledge",
    "error_recovery",
    "distractor",
)
Arguments = dict[str, JsonValue]


class Contract(BaseModel):
    """Base of every data contract: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- scenarios


class ExpectedCall(Contract):
    """One API call the agent must make in a turn.

    ``arguments`` is the gold call as the oracle makes it and the replay runs it. ``any_of``
    lists further acceptable values of an argument and ``may_omit`` names arguments a made call
    may leave out (BFCL's possible answers: a list of values per argument, "" for "may be
    omitted", become ``arguments`` = the first value, ``any_of`` = the others, ``may_omit``).
    ``error`` names the error code the tool is expected to return (error_recovery
    scenarios); ``None`` means the call must succeed when the gold calls are replayed.
    ``result`` is what the tool returns for this call where the domain has no implementation
    (a schema-only catalog); a domain that runs its tools ignores it.
    ``key_terms`` says what a free-text argument must contain instead of its exact wording: per
    argument, terms that must all appear, each a string or a list of alternative strings
    (``{"subject": ["INV-4417", ["zipper", "zip"]]}``; docs/scoring.md says how they are matched).
    """

    name: str
    arguments: Arguments = Field(default_factory=dict)
    any_of: dict[str, list[JsonValue]] = Field(
        default_factory=dict, description="argument -> further acceptable values (besides arguments')"
    )
    may_omit: list[str] = Field(default_factory=list, description="arguments a made call may leave out")
    error: str | None = None
    key_terms: dict[str, list[str | list[str]]] = Field(
        default_factory=dict, description="free-text argument -> terms it must contain (any wording)"
    )
    result: JsonValue | None = Field(
        default=None, description="the canned tool result of this call in a schema-only domain"
    )


class Clarify(Contract):
    """The agent must ask for a missing required detail instead of guessing."""

    field: str = Field(description="the missing argument, e.g. 'order_id'")
    keywords: list[str] = Field(
        min_length=1, description="words of which the question must contain at least one"
    )


class Expect(Contract):
    """What the agent must do in one turn: make calls, ask a question, or make no call."""

    kind: Literal["calls", "clarify", "no_call"]
    calls: list[ExpectedCall] = Field(default_factory=list)
    ordered: bool = False
    clarify: Clarify | None = None


class Turn(Contract):
    """One user message and what is expected of the agent in reply."""

    user: str = Field(min_length=1)
    expect: Expect


class Scenario(Contract):
    """One scripted dialogue with its database fixture and gold behaviour.

    The gold final state is the database after replaying every expected call, in order,
    on a fresh copy of ``db``.
    """

    id: str = Field(min_length=1)
    domain: str = Field(
        "shop", min_length=1, description="the domain the scenario is for (lab.domain); left out: the shop"
    )
    split: Split
    family: str = Field(min_length=1, description="phrasing family; never in two splits")
    category: Category
    intent: str = Field(min_length=1)
    db: dict[str, JsonValue] = Field(description="fixture the domain's state is built from")
    turns: list[Turn] = Field(min_length=1)
    tools: list[dict[str, JsonValue]] | None = Field(
        default=None,
        description="OpenAI tool schemas of this scenario alone: it runs on a schema-only catalog of them",
    )


# --------------------------------------------------------------------------- traces


class MadeCall(Contract):
    """A call the agent made, as parsed from the model's output, with its result.

    ``arguments`` is ``None`` when the arguments were not valid JSON (a malformed call).
    """

    id: str
    name: str
    arguments: Arguments | None
    raw_arguments: str = ""
    result: JsonValue = None
    error: str | None = Field(default=None, description="error code the tool returned")
    blocked: bool = Field(default=False, description="stopped by a workflow check before it reached the API")


class ModelCall(Contract):
    """One request to the model: timing, tokens and what came back."""

    started_s: float = Field(description="seconds since the scenario started")
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    content: str = ""
    tool_calls: int = 0
    malformed: bool = False
    error: str | None = None


class Decision(Contract):
    """One decision of the ``decide`` workflow (lab/decide.py): which node made it, how, and what."""

    node: Literal["route", "tool", "arguments"]
    choice: str = Field(description="act/ask/answer, a tool name, or the arguments as JSON")
    method: Literal["likelihood", "generation", "grounding"] = "likelihood"
    started_s: float = Field(default=0.0, description="seconds since the scenario started")
    latency_s: float = 0.0
    scores: dict[str, float] = Field(default_factory=dict, description="candidate -> score, if scored")


class TurnTrace(Contract):
    """Everything that happened in one turn."""

    user: str
    model_calls: list[ModelCall] = Field(default_factory=list)
    calls: list[MadeCall] = Field(default_factory=list)
    reply: str = ""
    malformed: int = Field(default=0, description="model outputs that tried to call but did not parse")
    step_limit_hit: bool = False
    sent_back: int = Field(
        default=0, description="outputs that looked like a failed call, sent back by a workflow check"
    )
    workflow_reply: Literal["clarify", "give_up"] | None = Field(
        default=None, description="set when a workflow check, not the model, wrote the reply"
    )
    decisions: list[Decision] = Field(default_factory=list, description="the decide workflow's choices")
    state_hash: str = Field(
        default="", description="the state's hash after the turn, where the catalog compares state per turn"
    )


class Trace(Contract):
    """The whole conversation of one scenario trial."""

    scenario_id: str
    trial: int = 0
    model: str
    strategy: str
    messages: list[dict[str, JsonValue]] = Field(description="OpenAI-format chat messages")
    turns: list[TurnTrace]
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    final_state_hash: str = ""
    error: str | None = Field(default=None, description="set when the trial failed outright")


# --------------------------------------------------------------------------- scores

BlockKind = Literal["malformed", "hallucinated", "invalid", "valid"]
BLOCK_KINDS: tuple[BlockKind, ...] = ("malformed", "hallucinated", "invalid", "valid")
Verdict = Literal["matched", "wrong_tool", "wrong_arguments", "missing", "extra", "hallucinated", "malformed"]


class CallOutcome(Contract):
    """One expected call paired with what the agent did about it (or one unmatched call)."""

    verdict: Verdict
    tool: str = Field(description="the expected tool, or the called one for extra/hallucinated/malformed")
    expected: ExpectedCall | None = None
    made: MadeCall | None = None
    wrong_arguments: list[str] = Field(default_factory=list)


class TurnScore(Contract):
    """The verdict on one turn, and what a workflow's checks stopped in it.

    ``blocked`` counts the turn's blocked calls by kind (outputs a workflow sent back count as
    ``malformed``); ``saved_by_block`` marks a right turn that would be wrong if its blocked calls
    and sent-back outputs counted as made; ``workflow_clarified`` a reply the workflow wrote as a question.
    """

    index: int
    kind: Literal["calls", "clarify", "no_call"]
    correct: bool
    outcomes: list[CallOutcome] = Field(default_factory=list)
    malformed: int = 0
    clarify_ok: bool | None = None
    no_call_ok: bool | None = None
    blocked: dict[BlockKind, int] = Field(default_factory=dict)
    saved_by_block: bool = False
    workflow_clarified: bool = False


class ScoredScenario(Contract):
    """A scenario trial with its verdicts; one line of a run's results log."""

    scenario_id: str
    category: Category
    intent: str
    family: str
    trial: int = 0
    turns: list[TurnScore]
    state_match: bool | None = Field(description="None: not applicable (the domain has no state hash)")
    success: bool
    latency_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


class ResultRecord(Contract):
    """One line of a run's results log: the scored trial and the trace it was scored from."""

    scored: ScoredScenario
    trace: Trace


# --------------------------------------------------------------------------- fine-tuning exports


class ExportManifest(Contract):
    """What a fine-tuning export holds and where it came from (its ``manifest.json``).

    ``candidates`` = ``failing_turns`` + ``passing_turns`` (one example each) and
    ``examples`` = ``candidates`` - ``duplicates``; ``per_error_type`` counts examples that
    show each error type, ``per_tool`` the calls the examples teach. ``files`` maps a format
    to its split files, relative to the export folder.
    """

    source_run: str
    model: str
    strategy: str = Field(description="the strategy whose system prompt the examples use")
    prompt: str = Field(
        default="full", description="the prompt form (lab.models.promptform) the rows are rendered in"
    )
    domain: str = Field(default="shop", description="the domain of the exported run (lab.domain)")
    suite: str
    suite_sha256: str
    split: Literal["train"] = "train"
    mode: Literal["failures", "distill"]
    include_passing: float
    seed: int
    failing_turns: int
    passing_turns: int
    candidates: int
    duplicates: int
    examples: int
    train: int
    val: int
    train_families: list[str]
    val_families: list[str]
    per_tool: dict[str, int]
    per_category: dict[str, int]
    per_error_type: dict[str, int]
    files: dict[str, dict[str, str]]


class ExportSummary(Contract):
    """What an export did: the counts, the folder of each format and the MLflow export run."""

    run_id: str
    export_run_id: str | None
    out_dir: str
    examples: int
    train: int
    val: int
    formats: dict[str, str]
    manifest: ExportManifest
