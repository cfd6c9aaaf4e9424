"""Hand-built shop scenarios, one or more per category, for the agent and strategy tests."""

from __future__ import annotations

from shop_fixture import sample_fixture

from lab.types import Scenario


def call(name: str, error: str | None = None, **arguments) -> dict:
    return {"name": name, "arguments": arguments, "error": error}


def calls_turn(user: str, *calls: dict, ordered: bool = False) -> dict:
    return {"user": user, "expect": {"kind": "calls", "calls": list(calls), "ordered": ordered}}


def scenario(sid: str, category: str, *turns: dict, split: str = "train") -> Scenario:
    return Scenario.model_validate(
        {
            "id": sid,
            "split": split,
            "family": f"fam-{category}",
            "category": category,
            "intent": sid,
            "db": sample_fixture(),
            "turns": list(turns),
        }
    )


CLARIFY = {"kind": "clarify", "clarify": {"field": "order_id", "keywords": ["order number", "order"]}}
SCENARIOS = [
    scenario(
        "t-single",
        "single_call",
        calls_turn("Where is my order A-1003?", call("track_shipment", order_id="A-1003")),
    ),
    scenario(
        "t-multi",
        "multi_call",
        calls_turn(
            "Cancel A-1001, I changed my mind, and show me the payment for A-1004.",
            call("cancel_order", order_id="A-1001", reason="changed_mind"),
            call("get_payment", order_id="A-1004"),
        ),
    ),
    scenario(
        "t-turns",
        "multi_turn",
        calls_turn(
            "The blue mug from A-1004 arrived damaged, I want to return it.",
            call("start_return", order_id="A-1004", sku="MUG-101", reason="damaged"),
        ),
        calls_turn(
            "Please also refund the 12.50 for it.", call("refund_payment", order_id="A-1004", amount=12.5)
        ),
    ),
    scenario(
        "t-clarify",
        "clarify",
        {"user": "Please cancel my order.", "expect": CLARIFY},
        calls_turn("It's A-1002.", call("cancel_order", order_id="A-1002")),
    ),
    scenario("t-none", "no_tool", {"user": "Thanks, that's all for today!", "expect": {"kind": "no_call"}}),
    scenario(
        "t-know",
        "knowledge",
        calls_turn("How long do I have to return something?", call("search_policies", query="return window")),
    ),
    scenario(
        "t-error",
        "error_recovery",
        calls_turn(
            "Cancel order A-1003 please.",
            call("get_order", order_id="A-1003"),
            call("cancel_order", "not_allowed", order_id="A-1003"),
            ordered=True,
        ),
        calls_turn(
            "OK, then open a ticket to stop the delivery.",
            call("create_ticket", customer_id="C-1001", subject="stop delivery of A-1003"),
        ),
    ),
    scenario(
        "t-distract",
        "distractor",
        calls_turn(
            "Pause my coffee subscription S-2001 until 2026-04-01.",
            call("pause_subscription", subscription_id="S-2001", until="2026-04-01"),
        ),
    ),
]
