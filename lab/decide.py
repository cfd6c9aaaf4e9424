"""The ``decide`` workflow: a turn as small decisions, each its own graph node, before a checked call.

``route`` decides to act, ask or answer; ``tool`` which catalog tool; ``arguments`` its arguments;
``call`` writes the call, which then goes through the workflow's ``check`` and ``tools`` nodes
(``lab.graph.wire_checks``) and back to ``route``. ``ask`` writes a clarifying question, ``answer`` a
plain reply. Every decision is recorded in ``TurnTrace.decisions`` (a span each, lab/spans.py).

A model with likelihoods (``local/...``) decides by scoring, never by free generation of a call:

- tools are scored by pointwise mutual information with the customer's request: their messages
  since the last tool result, so an id given in reply to a clarifying question is read with what it
  answers. Where the model serves it (the local model does) this is the noisy channel: how likely
  the request is after a system message describing the tool (its name in words and its
  description's first sentence) minus after a content-free one, which weighs every tool by how well
  it explains what was said (Min et al., 2022: channel scoring is steadier than direct scoring for
  small models), less the same tool's mean over a few unlabeled customer messages of the domain
  (``Decide.calibration``, from its train pack), which removes what a description adds to any
  message (contextual calibration, Zhao et al., 2021, with in-domain inputs). Otherwise it is the
  direct form: the log-likelihood of the call's tool name after the dialogue minus after a
  content-free message (``N/A``), which removes the model's preference for some names whatever is
  asked;
- the dialogue's grounded values (``lab.grounding``) bound the candidates: when the customer's latest
  message brings a value a tool can take, the call is one of those tools; otherwise the turn acts only
  when the best tool scores above ``ACT_PMI``, and asks for the first required argument the
  dialogue cannot fill when that tool lacks one; else it answers;
- copied and date arguments take the allowed values (the latest message's first, one call per value
  it brings for the same argument), enum arguments the likeliest value, other required arguments a
  short greedy continuation of the call written so far (guided: free text copies what the customer
  said, ``lab.models.guide``); optional arguments only a value just given;
- a turn ends after its calls' results (no second decision round on results).

Any other model (hosted, scripted) makes the same decisions by generation: ``route`` asks it for its
reply as the workflow does, and the decisions are read off that reply. This module does not score
calls against the gold ones or parse model text.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import TYPE_CHECKING, Any

from langgraph.graph import END
from langgraph.runtime import Runtime

from lab.graph import AgentState, Pending, Run, ask_model, wire_checks
from lab.grounding import constraints
from lab.models.gateway import RawToolCall
from lab.models.likelihood import continue_reply, has_likelihoods, logprobs, message_logprobs
from lab.strategies import clarifying_question
from lab.types import Decision, ModelCall

if TYPE_CHECKING:
    from langgraph.graph import StateGraph

# Act without a value just given only when the best tool's calibrated score reaches this (nats): it
# explains the request at least as well as it explains the domain's messages on average. Chosen on
# held-out train scenarios (first customer messages other than the calibration ones).
ACT_PMI = 0.0
NEUTRAL = "N/A"
NEUTRAL_CONTEXT = "The customer is chatting."
FREE_TOKENS = 24
ANSWER_TOKENS = 48
_neutral: dict[tuple[str, str], dict[str, float]] = {}
_neutral_lock = threading.Lock()
_calibrated: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[float]] = {}
_calibration_lock = threading.Lock()
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def wire_decisions(graph: StateGraph) -> None:
    """The decide graph: route -> tool -> arguments -> call -> check -> tools -> route, ask, answer."""
    wire_checks(graph, entry="route")
    graph.add_node("route", route_node)
    graph.add_node("tool", tool_node)
    graph.add_node("arguments", arguments_node)
    graph.add_node("call", call_node)
    graph.add_node("ask", ask_node)
    graph.add_node("answer", answer_node)
    graph.add_conditional_edges("route", after_route, ["tool", "ask", "answer", "text_check", END])
    graph.add_edge("tool", "arguments")
    graph.add_edge("arguments", "call")
    graph.add_conditional_edges("call", lambda state: "check" if state["pending"] else END, ["check", END])
    graph.add_edge("ask", END)
    graph.add_edge("answer", END)


# --------------------------------------------------------------------------- nodes


def route_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """Act, ask or answer (and the scores the tool decision uses)."""
    run = runtime.context
    started = time.perf_counter()
    if not has_likelihoods(run.model):
        out = ask_model(state, run, workflow=True)
        choice = "act" if out["pending"] else "answer"
        _decide(run, "route", choice, "generation", started)
        return {**out, "plan": {"route": choice, "mode": "generation"}}
    plan = _route_by_scores(run, state["messages"])
    method = "grounding" if "scores" not in plan else "likelihood"
    _decide(run, "route", plan["route"], method, started, plan.get("scores", {}))
    return {"plan": plan, "steps": state["steps"] + 1}


def after_route(state: AgentState, runtime: Runtime[Run]) -> str:
    plan = state["plan"]
    if plan["mode"] == "generation":
        if state["pending"]:
            return "tool"
        if state["text_call"] and runtime.context.strategy.max_retries > state["retries"]:
            return "text_check"
        return END
    return {"act": "tool", "ask": "ask", "answer": "answer"}[plan["route"]]


def tool_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """Which tool: the best-scored candidate, or the tool the model's reply named."""
    run, plan, started = runtime.context, state["plan"], time.perf_counter()
    if plan["mode"] == "generation":
        _decide(run, "tool", ",".join(p.call.name for p in state["pending"]), "generation", started)
        return {}
    scores = {name: plan["scores"][name] for name in plan["candidates"]}
    tool = max(scores, key=scores.__getitem__)
    _decide(run, "tool", tool, "likelihood", started, scores)
    return {"plan": {**plan, "tool": tool}}


def arguments_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """The chosen tool's arguments, from the values the dialogue grounds (one set per call)."""
    run, plan, started = runtime.context, state["plan"], time.perf_counter()
    if plan["mode"] == "generation":
        made = [p.arguments for p in state["pending"]]
        _decide(run, "arguments", json.dumps(made, default=str), "generation", started)
        return {}
    calls = fill_arguments(run, state["messages"], plan)
    _decide(run, "arguments", json.dumps(calls), "likelihood", started)
    return {"plan": {**plan, "calls": calls}}


def call_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """The decided calls as the assistant's message, pending the workflow's checks."""
    run, plan = runtime.context, state["plan"]
    if plan["mode"] == "generation":
        return {}
    from lab.graph import _assistant

    index = len(run.turn.calls)
    pending = [
        Pending(
            RawToolCall(f"call_decide_{len(run.turn.model_calls)}_{index + i}", plan["tool"], json.dumps(a)),
            a,
        )
        for i, a in enumerate(plan["calls"])
    ]
    _record_step(run, plan, "", len(pending))
    return {"messages": [_assistant("", pending)], "pending": pending}


def ask_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """A clarifying question for the argument the chosen tool lacks."""
    run, plan = runtime.context, state["plan"]
    question = clarifying_question(plan["missing"], run.strategy.field_words)
    run.turn.workflow_reply = "clarify"
    _record_step(run, plan, question, 0)
    return {"messages": [{"role": "assistant", "content": question}], "stop": True}


def answer_node(state: AgentState, runtime: Runtime[Run]) -> dict[str, Any]:
    """A plain reply: the model's short continuation, cut before anything that looks like a call."""
    run = runtime.context
    started = time.perf_counter()
    text, prompt, new = continue_reply(
        run.model, [*run.system(), *state["messages"]], run.tools, "", ANSWER_TOKENS
    )
    text = text.split("<tool_call>")[0].split("{")[0].strip() or "How else can I help you?"
    latency = time.perf_counter() - started
    run.turn.model_calls.append(
        ModelCall(started_s=started - run.started, latency_s=latency, prompt_tokens=prompt,
                  completion_tokens=new, content=text)
    )  # fmt: skip
    return {"messages": [{"role": "assistant", "content": text}], "stop": True}


# --------------------------------------------------------------------------- decisions by scoring


def _route_by_scores(run: Run, messages: list[dict[str, Any]]) -> dict[str, Any]:
    plan: dict[str, Any] = {"mode": "likelihood", "started": time.perf_counter()}
    if (messages and messages[-1].get("role") == "tool") or run.turn.calls:
        return {**plan, "route": "answer"}
    metadata = constraints(run.catalog, messages, run.today())
    allowed, fresh = metadata["allowed"], set(metadata["fresh"])
    scores = tool_scores(run, messages)
    ready = [name for name in run.catalog.names if not _missing(run, name, allowed)]
    takes_fresh = [n for n in ready if any(set(v) & fresh for v in allowed.get(n, {}).values())]
    plan |= {"scores": scores, "allowed": allowed, "fresh": sorted(fresh)}
    if takes_fresh:
        return {**plan, "route": "act", "candidates": takes_fresh}
    best = max(scores, key=scores.__getitem__)
    if scores[best] <= ACT_PMI:
        return {**plan, "route": "answer"}
    missing = _missing(run, best, allowed)
    if missing:
        return {**plan, "route": "ask", "missing": missing[0]}
    return {**plan, "route": "act", "candidates": ready}


def tool_scores(run: Run, messages: list[dict[str, Any]]) -> dict[str, float]:
    """Each tool's PMI with the customer's request, by the noisy channel where the model serves it:
    log p(request | the tool's description) - log p(request | a content-free context), less the
    tool's mean of the same over the domain's calibration messages (``_calibration``); else by the
    call's name: log p(name | dialogue) - log p(name | content-free message)."""
    names = list(run.catalog.names)
    text = request(messages)
    contexts = [_describe(run, name) for name in names] + [NEUTRAL_CONTEXT]
    channel = message_logprobs(run.model, contexts, text) if text else None
    if channel is not None:
        bias = _calibration(run, contexts)
        pmi = [s - channel[-1] - b for s, b in zip(channel, bias, strict=True)]
        return {name: round(value, 4) for name, value in zip(names, pmi, strict=False)}
    heads = [f'<tool_call>{{"name": "{name}"' for name in names]
    scored = logprobs(run.model, [*run.system(), *messages], run.tools, heads) or [0.0] * len(names)
    base = _neutral_scores(run, names, heads)
    return {name: round(s - base[name], 4) for name, s in zip(names, scored, strict=True)}


def request(messages: list[dict[str, Any]]) -> str:
    """The customer's messages since the last tool result (one per line): the request the turn serves,
    with what a clarifying question got in reply ("C-7068.") read together with what it answers."""
    since = []
    for message in reversed(messages):
        if message.get("role") == "tool":
            break
        if message.get("role") == "user" and message.get("content"):
            since.append(message["content"])
    return "\n".join(reversed(since))


def _calibration(run: Run, contexts: list[str]) -> list[float]:
    """Per context, its mean PMI (as ``tool_scores`` computes it) over the strategy's calibration
    messages, or over the content-free message where it has none: how well the context explains any
    message of the domain, which a tool's score then has to beat (contextual calibration, Zhao et
    al., 2021, with in-domain inputs). Computed once per model, contexts and messages."""
    texts = tuple(getattr(run.strategy, "calibration", ())) or (NEUTRAL,)
    key = (run.model, tuple(contexts), texts)
    with _calibration_lock:
        if key not in _calibrated:
            rows = [message_logprobs(run.model, contexts, text) or [0.0] * len(contexts) for text in texts]
            _calibrated[key] = [
                sum(row[i] - row[-1] for row in rows) / len(rows) for i in range(len(contexts))
            ]
        return _calibrated[key]


def _describe(run: Run, name: str) -> str:
    """The context a tool gives a customer's message: its name in words and its description's first
    sentence (later sentences tend to name other tools: "to return money use refund_payment")."""
    description = run.catalog.schema(name).get("function", {}).get("description") or ""
    first = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0]
    return f"The customer wants this service: {name.replace('_', ' ')}. {first}"


def _neutral_scores(run: Run, names: list[str], heads: list[str]) -> dict[str, float]:
    key = (run.model, run.strategy.system_prompt)
    with _neutral_lock:
        if key in _neutral:
            return _neutral[key]
    system = [{"role": "system", "content": run.strategy.system_prompt}]
    scored = logprobs(run.model, [*system, {"role": "user", "content": NEUTRAL}], run.tools, heads) or []
    values = dict(zip(names, scored or [0.0] * len(names), strict=True))
    with _neutral_lock:
        _neutral[key] = values
    return values


def _parameters(run: Run, name: str) -> dict[str, Any]:
    """The JSON schema of a tool's arguments (empty where it takes none)."""
    return run.catalog.schema(name).get("function", {}).get("parameters") or {}


def _missing(run: Run, name: str, allowed: dict[str, dict[str, list[str]]]) -> list[str]:
    """The required copied/date arguments of ``name`` that no value of the dialogue can fill. A tool
    that requires none but takes only such arguments (one of several ids, as ``track_shipment``
    takes an order id or a tracking number) misses its first one while none has a value: called
    with nothing, it has nothing to look up."""
    grounded, key = allowed.get(name, {}), run.catalog.lookup_key(name)
    if key:
        return [] if any(grounded.get(a) for a in run.catalog.copied(name)) else [key]
    required = list(_parameters(run, name).get("required") or [])
    return [a for a in required if a in grounded and not grounded[a]]


def fill_arguments(run: Run, messages: list[dict[str, Any]], plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The argument sets of the chosen tool: one call per value just given for its one copied argument."""
    tool, allowed, fresh = plan["tool"], plan["allowed"].get(plan["tool"], {}), set(plan["fresh"])
    parameters = _parameters(run, tool)
    properties, required = parameters.get("properties") or {}, set(parameters.get("required") or ())
    base: dict[str, Any] = {}
    spread: tuple[str, list[str]] | None = None
    for argument, values in allowed.items():
        given = [v for v in values if v in fresh]
        if len(given) > 1 and argument in required and spread is None:
            spread = (argument, given)
        elif given or (values and argument in required):
            base[argument] = (given or _pick(run, messages, tool, base, argument, values))[0]
    sets = [{**base, spread[0]: v} for v in spread[1]] if spread else [base]
    for arguments in sets:
        for argument, schema in properties.items():
            if argument in arguments or argument in allowed or argument not in required:
                continue
            enum = schema.get("enum")
            values = [str(v) for v in enum] if enum else None
            value = (
                _pick(run, messages, tool, arguments, argument, values)[0] if values
                else _generate(run, messages, tool, arguments, argument, schema)
            )  # fmt: skip
            if value is not None:  # left out: the check asks the customer for it
                arguments[argument] = value
    return sets


def _call_text(tool: str, arguments: dict[str, Any], argument: str) -> str:
    written = "".join(f"{json.dumps(k)}: {json.dumps(v)}, " for k, v in arguments.items())
    return f'<tool_call>{{"name": "{tool}", "arguments": {{{written}"{argument}": '


def _pick(
    run: Run, messages: list, tool: str, arguments: dict, argument: str, values: list[str]
) -> list[str]:
    """The values ordered by the model's likelihood in the call written so far (ties: as given)."""
    if len(values) == 1:
        return values
    head = _call_text(tool, arguments, argument)
    scored = logprobs(
        run.model, [*run.system(), *messages], run.tools, [head + json.dumps(v) for v in values]
    )
    order = sorted(range(len(values)), key=lambda i: -(scored or [0.0] * len(values))[i])
    return [values[i] for i in order]


def _generate(run: Run, messages: list, tool: str, arguments: dict, argument: str, schema: dict) -> Any:
    """A short greedy continuation of the call for a free argument; None when nothing usable came."""
    quoted = schema.get("type") == "string"
    head = _call_text(tool, arguments, argument) + ('"' if quoted else "")
    dialogue = [*run.system(), *messages]
    text, _, _ = continue_reply(run.model, dialogue, run.tools, head, FREE_TOKENS, guided=True)
    if quoted:
        value = text.split('"')[0].strip()
        return value or None
    match = _NUMBER.match(text.strip())
    if match is None:
        return None
    number = float(match.group())
    return int(number) if schema.get("type") == "integer" or number.is_integer() else number


# --------------------------------------------------------------------------- records


def _decide(
    run: Run, node: str, choice: str, method: str, started: float, scores: dict[str, float] | None = None
) -> None:
    run.turn.decisions.append(
        Decision(
            node=node, choice=choice, method=method, started_s=started - run.started,
            latency_s=time.perf_counter() - started, scores=scores or {},
        )
    )  # fmt: skip


def _record_step(run: Run, plan: dict[str, Any], content: str, calls: int) -> None:
    """One model step for the decisions that wrote an assistant message (scoring, not a request)."""
    started = plan.get("started", time.perf_counter())
    run.turn.model_calls.append(
        ModelCall(started_s=started - run.started, latency_s=time.perf_counter() - started,
                  content=content, tool_calls=calls)
    )  # fmt: skip
