"""What a workflow call may copy (``lab.grounding``): the ids, skus, emails and phones the dialogue
shows, the dates the customer names, and the values the customer's latest message brings in."""

from datetime import date

import pytest
from hypothesis import given
from pack_seeds import FEW, SEEDS

from lab.catalog import tool_content
from lab.domain import load_domain
from lab.generate import generate
from lab.grounding import allowed_values, constraints, dates, spans
from lab.scenarios import load_scenarios

CATALOG = load_domain().catalog


def test_what_the_customer_writes_is_allowed_in_its_canonical_form():
    messages = [
        {"role": "system", "content": "Orders look like A-9999; customer C-1111."},
        {
            "role": "user",
            "content": "hi, it's order #a1234 (and C-7068), mail Bob@Mail.example. or +1 (555) 123-4567",
        },
        {"role": "assistant", "content": "Is it A-5555?"},
        {"role": "tool", "content": '{"order_id":"A-2041","items":[{"sku":"MUG-101"}]}'},
    ]
    allowed = allowed_values(CATALOG, messages)
    assert allowed["get_order"]["order_id"] == ["A-1234", "A-2041"]  # not the system's, not the agent's
    assert allowed["get_customer"]["customer_id"] == ["C-7068"]  # "a1234" is an order's
    assert allowed["start_return"]["sku"] == ["MUG-101"]
    assert allowed["find_customer"] == {"email": ["bob@mail.example"], "phone": ["+15551234567"]}
    assert allowed["cancel_subscription"]["subscription_id"] == []
    assert allowed_values(CATALOG, [{"role": "user", "content": "it's 1234"}])["get_customer"][
        "customer_id"
    ] == ["C-1234"]  # a bare number fits every id


def test_a_dialogue_without_ids_allows_no_copied_value():
    allowed = allowed_values(CATALOG, [{"role": "user", "content": "SHOW ME MY ORDERS."}])
    assert all(values == [] for arguments in allowed.values() for values in arguments.values())
    assert spans("no digits here, nor at signs") == set()


MONDAY = date(2026, 7, 13)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Please pause S-7476 until January 21.", "2027-01-21"),  # the next January 21
        ("Then for the next 48 days, please.", "2026-08-30"),
        ("pause it until seven weeks from today instead?", "2026-08-31"),
        ("until tomorrow", "2026-07-14"),
        ("For a week", "2026-07-20"),
        ("for two weeks", "2026-07-27"),
        ("for four months", "2026-11-10"),  # a month counts 30 days
        ("until next friday", "2026-07-17"),
        ("until next monday", "2026-07-20"),
        ("until 2026-07-26", "2026-07-26"),
        ("until the 14th of May", "2027-05-14"),
        ("until 21 July", "2026-07-21"),
        ("I'm back in three weeks", "2026-08-03"),
        ("till friday", "2026-07-17"),
        ("pause it thru Monday", "2026-07-20"),  # the next Monday, never today
        ("through the 1st of August", "2026-08-01"),
    ],
)
def test_a_date_the_customer_names_is_resolved_from_today(text, named):
    assert dates(text, MONDAY) == {named}


@pytest.mark.parametrize(
    "text", ["until 2026-02-30", "until the 31st of June", "for a refund", "in July", "put me through to Sam"]
)
def test_no_date_is_made_of_what_names_none(text):
    assert dates(text, MONDAY) == set()


def test_dates_come_only_from_the_customer_and_only_when_today_is_known():
    messages = [
        {"role": "user", "content": "Pause S-1234 for 7 days."},
        {"role": "assistant", "content": "Until tomorrow?"},
        {"role": "tool", "content": '{"renews_on": "2026-07-30", "note": "until 2026-08-01"}'},
    ]
    assert allowed_values(CATALOG, messages, MONDAY)["pause_subscription"] == {
        "subscription_id": ["S-1234"], "until": ["2026-07-20"]
    }  # fmt: skip
    assert "until" not in allowed_values(CATALOG, messages)["pause_subscription"]
    assert allowed_values(CATALOG, messages[:1] + [{"role": "user", "content": "S-1234"}], MONDAY)[
        "pause_subscription"
    ]["until"] == ["2026-07-20"]


def test_fresh_values_are_what_the_customers_latest_message_brought_in():
    messages = [
        {"role": "user", "content": "I'm C-7068."},
        {"role": "user", "content": "Pause S-1234 for a week"},
    ]
    assert constraints(CATALOG, messages, MONDAY)["fresh"] == ["2026-07-20", "S-1234"]
    answered = [*messages, {"role": "tool", "content": '{"order_id": "A-2041"}'}]
    assert constraints(CATALOG, answered, MONDAY)["fresh"] == []  # not the first request of the turn


def test_after_names_the_calls_whose_results_end_the_dialogue():
    def call(id_: str, name: str) -> dict:
        return {"id": id_, "type": "function", "function": {"name": name, "arguments": "{}"}}

    messages = [
        {"role": "user", "content": "Where are A-2041 and A-2042?"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "get_order")]},
        {"role": "tool", "tool_call_id": "c1", "content": "{}"},
        {"role": "assistant", "content": None, "tool_calls": [call("c2", "track_shipment"),
                                                               call("c3", "get_order")]},
        {"role": "tool", "tool_call_id": "c2", "content": "{}"},
        {"role": "tool", "tool_call_id": "c3", "content": "{}"},
    ]  # fmt: skip
    assert constraints(CATALOG, messages, MONDAY)["after"] == ["get_order", "track_shipment"]
    assert constraints(CATALOG, messages[:3], MONDAY)["after"] == ["get_order"]
    assert constraints(CATALOG, [*messages, {"role": "user", "content": "thanks"}], MONDAY)["after"] == []


def gold_misses(scenarios) -> tuple[list, int]:
    """Replaying each gold dialogue: the gold calls with a copied or dated argument the workflow
    would not allow (a value no earlier user or tool message showed), and the turns whose message
    brings in a value but whose first call is of a tool that takes none (the first-call rule)."""
    unshown, first_call_misses = [], 0
    for scenario in scenarios:
        db, messages = CATALOG.new_db(scenario.db), []
        today = db.now.date()
        for turn in scenario.turns:
            messages.append({"role": "user", "content": turn.user})
            fresh = set(constraints(CATALOG, messages, today)["fresh"])
            if fresh and turn.expect.calls:
                first = turn.expect.calls[0].name
                first_call_misses += not any(
                    fresh & set(values) for values in allowed_values(CATALOG, messages, today)[first].values()
                )
            for call in turn.expect.calls:
                allowed = allowed_values(CATALOG, messages, today)
                canonical, _ = CATALOG.validate(call.name, call.arguments)
                grounded = set(CATALOG.dated(call.name)) | set(CATALOG.copied(call.name))
                for argument in grounded & set(call.arguments):
                    if canonical[argument] not in allowed[call.name][argument]:
                        unshown.append((scenario.id, call.name, argument, canonical[argument]))
                messages.append(
                    {"role": "tool", "content": tool_content(CATALOG.call(db, call.name, call.arguments))}
                )
    return unshown, first_call_misses


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_every_gold_value_the_committed_packs_need_is_shown_first(split):
    assert gold_misses(load_scenarios(f"scenarios/{split}.jsonl")) == ([], 0)


@FEW
@given(seed=SEEDS)
def test_every_gold_value_a_generated_pack_needs_is_shown_first(seed):
    """No gold call needs an id, sku, email, phone or date the customer or a tool has not shown."""
    packs = generate(seed)
    assert gold_misses([s for split in packs.values() for s in split]) == ([], 0)
