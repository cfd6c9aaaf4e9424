"""What a workflow call may copy (``lab.grounding``): the ids, skus, emails and phones the dialogue shows."""

import re

import pytest

from lab.catalog import load_catalog, tool_content
from lab.grounding import allowed_values, spans
from lab.scenarios import load_scenarios

CATALOG = load_catalog()


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


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_every_gold_value_the_dialogue_shows_is_allowed(split):
    """Replaying the gold dialogue, each copied argument of each gold call is allowed, unless the
    dialogue never showed it in any form (its digits appear in no earlier message)."""
    unshown = 0
    for scenario in load_scenarios(f"scenarios/{split}.jsonl"):
        db, messages = CATALOG.new_db(scenario.db), []
        for turn in scenario.turns:
            messages.append({"role": "user", "content": turn.user})
            for call in turn.expect.calls:
                allowed = allowed_values(CATALOG, messages)
                canonical, _ = CATALOG.validate(call.name, call.arguments)
                for argument in set(CATALOG.copied(call.name)) & set(call.arguments):
                    value = canonical[argument]
                    if value not in allowed[call.name][argument]:
                        digits = re.sub(r"\D", "", value)
                        assert not any(digits in m["content"] for m in messages), (scenario.id, value)
                        unshown += 1
                messages.append(
                    {"role": "tool", "content": tool_content(CATALOG.call(db, call.name, call.arguments))}
                )
    assert unshown <= 10
