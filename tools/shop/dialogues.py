"""Gold behaviour of two-turn scenarios: multi_turn, clarify and error_recovery.

multi_turn: the second turn refers back to what the first one looked up ("ok, cancel
it"). clarify: the first turn lacks a required detail, so the agent must ask about that
field; the second turn supplies it and the call follows. error_recovery: the first call
fails with a known error code (``ExpectedCall.error``), the second turn is the defined way
forward. Specs follow ``tools.shop.draft``; phrasing lives in the family tables.
"""

from __future__ import annotations

from lab.phrasing import say_email, say_quantity
from tools.shop.draft import (
    CANCEL_REASONS,
    COMPLAINTS,
    CREDITS,
    ORDER_KEYWORDS,
    RETURN_REASONS,
    Draft,
    ask,
    call,
    calls,
    newest,
    spec,
    total,
)
from tools.shop.say import say_order

# --------------------------------------------------------------------------- multi_turn


@spec("multi_turn", "cancel_order")
def look_then_cancel(d: Draft) -> list:
    o = d.order("pending", "processing")
    args = {"order_id": o["id"]}
    if d.wants("reason"):
        args["reason"] = d.choose("reason", CANCEL_REASONS)
    return [calls(call("get_order", order_id=o["id"])), calls(call("cancel_order", **args))]


@spec("multi_turn", "pause_subscription")
def look_then_pause(d: Draft) -> list:
    s = d.subscription()
    pause = call("pause_subscription", subscription_id=s["id"], until=d.until())
    return [calls(call("get_subscription", customer_id=d.customer["id"])), calls(pause)]


@spec("multi_turn", "cancel_subscription")
def look_then_unsubscribe(d: Draft) -> list:
    s = d.subscription()
    look = call("get_subscription", customer_id=d.customer["id"])
    return [calls(look), calls(call("cancel_subscription", subscription_id=s["id"]))]


@spec("multi_turn", "refund_payment")
def look_then_refund(d: Draft) -> list:
    o = d.order("delivered", "shipped")
    refund = call("refund_payment", order_id=o["id"], amount=total(o))
    return [calls(call("get_payment", order_id=o["id"])), calls(refund)]


@spec("multi_turn", "change_order_item")
def look_then_change_item(d: Draft) -> list:
    o = d.order("pending", items=d.rng.randint(2, 3))
    line = d.item(o)
    quantity = d.rng.choice([q for q in range(1, 6) if q != line["quantity"]])
    d.slots["qty"] = say_quantity(quantity, d.rng)
    change = call("change_order_item", order_id=o["id"], sku=line["sku"], quantity=quantity)
    return [calls(call("get_order", order_id=o["id"])), calls(change)]


@spec("multi_turn", "start_return")
def look_then_return(d: Draft) -> list:
    o = d.order("delivered", items=d.rng.randint(1, 3))
    line = d.item(o)
    reason = d.choose("why", RETURN_REASONS)
    back = call("start_return", order_id=o["id"], sku=line["sku"], reason=reason)
    return [calls(call("get_order", order_id=o["id"])), calls(back)]


@spec("multi_turn", "change_shipping_address")
def look_then_redirect(d: Draft) -> list:
    o = d.order("pending")
    move = call("change_shipping_address", order_id=o["id"], **d.address())
    return [calls(call("get_order", order_id=o["id"])), calls(move)]


@spec("multi_turn", "get_order")
def list_then_open_newest(d: Draft) -> list:
    c = d.customer
    d.order("pending")["placed_on"] = d.w.today.isoformat()  # placed today: the newest, without a tie
    latest = newest(d.w, c["id"])
    return [calls(call("list_orders", customer_id=c["id"])), calls(call("get_order", order_id=latest["id"]))]


@spec("multi_turn", "update_contact_details")
def look_then_new_email(d: Draft) -> list:
    c = d.customer
    new = d.w.email()
    d.slots["new_email"] = say_email(new, d.rng)
    update = call("update_contact_details", customer_id=c["id"], email=new)
    return [calls(call("get_customer", customer_id=c["id"])), calls(update)]


@spec("multi_turn", "issue_store_credit")
def track_then_credit(d: Draft) -> list:
    c = d.customer
    o = d.order("shipped")
    credit = call(
        "issue_store_credit",
        customer_id=c["id"],
        amount=d.amount(d.rng.choice(CREDITS)),
        reason=d.text("complaint", COMPLAINTS),
    )
    return [calls(call("track_shipment", order_id=o["id"])), calls(credit)]


# --------------------------------------------------------------------------- clarify


def _ask_order(d: Draft, name: str, *statuses: str) -> list:
    o = d.order(*statuses)
    return [ask("order_id", *ORDER_KEYWORDS), calls(call(name, order_id=o["id"]))]


@spec("clarify", "cancel_order")
def which_order_to_cancel(d: Draft) -> list:
    return _ask_order(d, "cancel_order", "pending", "processing")


@spec("clarify", "track_shipment")
def which_parcel(d: Draft) -> list:
    return _ask_order(d, "track_shipment", "shipped")


@spec("clarify", "get_payment")
def which_payment(d: Draft) -> list:
    return _ask_order(d, "get_payment", "delivered", "shipped", "processing")


@spec("clarify", "pause_subscription")
def which_subscription_to_pause(d: Draft) -> list:
    s = d.subscription()
    pause = call("pause_subscription", subscription_id=s["id"], until=d.until())
    keywords = ("subscription", "id", "number", "account", "email")
    return [ask("subscription_id", *keywords), calls(pause)]


@spec("clarify", "start_return")
def why_return(d: Draft) -> list:
    o = d.order("delivered")
    line = d.item(o)
    reason = d.choose("why", RETURN_REASONS)
    back = call("start_return", order_id=o["id"], sku=line["sku"], reason=reason)
    return [ask("reason", "why", "reason", "wrong", "problem", "issue"), calls(back)]


@spec("clarify", "update_default_address")
def which_address(d: Draft) -> list:
    c = d.customer
    update = call("update_default_address", customer_id=c["id"], **d.address())
    return [ask("street", "address", "street", "where"), calls(update)]


@spec("clarify", "find_customer")
def which_account(d: Draft) -> list:
    c = d.customer
    return [ask("email", "email", "phone", "number"), calls(call("find_customer", email=c["email"]))]


@spec("clarify", "get_customer")
def whose_profile(d: Draft) -> list:
    c = d.customer
    keywords = ("customer", "id", "number", "account", "email")
    return [ask("customer_id", *keywords), calls(call("get_customer", customer_id=c["id"]))]


@spec("clarify", "list_orders")
def whose_orders(d: Draft) -> list:
    c = d.customer
    keywords = ("customer", "id", "number", "account", "email")
    return [ask("customer_id", *keywords), calls(call("list_orders", customer_id=c["id"]))]


# --------------------------------------------------------------------------- error_recovery


@spec("error_recovery", "cancel_order")
def too_late_to_cancel(d: Draft) -> list:
    if d.wants("why"):  # delivered: the way forward is a return, of an item only the order shows
        o = d.order("delivered")
        line = d.item(o)
        back = call("start_return", order_id=o["id"], sku=line["sku"], reason=d.choose("why", RETURN_REASONS))
        after = calls(call("get_order", order_id=o["id"]), back, ordered=True)
    else:  # on its way: the way forward is tracking it
        o = d.order("shipped")
        after = calls(call("track_shipment", order_id=o["id"]))
    return [calls(call("cancel_order", error="not_allowed", order_id=o["id"])), after]


def _wrong_number(d: Draft) -> str:
    wrong = d.w.number("A")  # reserved, never created: a well-formed number that does not exist
    d.slots["wrong_order"] = say_order(wrong, d.rng)
    return wrong


@spec("error_recovery", "get_order")
def mistyped_order(d: Draft) -> list:
    wrong = _wrong_number(d)
    o = d.order("pending", "processing", "shipped", "delivered")
    return [
        calls(call("get_order", error="not_found", order_id=wrong)),
        calls(call("get_order", order_id=o["id"])),
    ]


@spec("error_recovery", "track_shipment")
def not_shipped_yet(d: Draft) -> list:
    o = d.order("processing", "pending")
    first = call("track_shipment", error="not_found", order_id=o["id"])
    return [calls(first), calls(call("cancel_order", order_id=o["id"]))]


@spec("error_recovery", "find_customer")
def unknown_email(d: Draft) -> list:
    c = d.customer
    old = d.w.email()
    d.slots["old_email"] = say_email(old, d.rng)
    first = call("find_customer", error="not_found", email=old)
    return [calls(first), calls(call("find_customer", phone=c["phone"]))]


@spec("error_recovery", "start_return")
def return_too_late(d: Draft) -> list:
    o = d.order("delivered", delivered_ago=d.rng.randint(35, 80))
    line = d.item(o)
    back = call(
        "start_return",
        error="outside_window",
        order_id=o["id"],
        sku=line["sku"],
        reason=d.choose("why", RETURN_REASONS),
    )
    reason = d.text("complaint", ("late return", "refused return", "return problem"))
    human = call("escalate_to_human", customer_id=d.customer["id"], reason=reason)
    return [calls(back), calls(human)]


@spec("error_recovery", "refund_payment")
def refund_too_much(d: Draft) -> list:
    o = d.order("delivered")
    too_much = d.amount(round(total(o) + d.rng.choice((10.0, 20.0, 50.0)), 2))
    credit = call(
        "issue_store_credit",
        customer_id=d.customer["id"],
        amount=d.amount(d.rng.choice(CREDITS), "credit"),
        reason=d.text("complaint", COMPLAINTS),
    )
    return [
        calls(call("refund_payment", error="limit_exceeded", order_id=o["id"], amount=too_much)),
        calls(credit),
    ]


@spec("error_recovery", "pause_subscription")
def pause_too_long(d: Draft) -> list:
    s = d.subscription()
    far = call(
        "pause_subscription", error="outside_window", subscription_id=s["id"], until=d.until(True, "far")
    )
    return [calls(far), calls(call("pause_subscription", subscription_id=s["id"], until=d.until()))]


@spec("error_recovery", "change_order_item")
def item_change_too_late(d: Draft) -> list:
    o = d.order("processing", items=d.rng.randint(2, 3))
    line = d.item(o)
    quantity = d.rng.choice([q for q in range(1, 6) if q != line["quantity"]])
    d.slots["qty"] = say_quantity(quantity, d.rng)
    first = call(
        "change_order_item", error="not_allowed", order_id=o["id"], sku=line["sku"], quantity=quantity
    )
    return [calls(first), calls(call("cancel_order", order_id=o["id"]))]


@spec("error_recovery", "change_shipping_address")
def redirect_too_late(d: Draft) -> list:
    o = d.order("shipped")
    address = d.address()
    first = call("change_shipping_address", error="not_allowed", order_id=o["id"], **address)
    profile = call("update_default_address", customer_id=d.customer["id"], **address)
    return [calls(first), calls(profile)]


@spec("error_recovery", "issue_store_credit")
def credit_over_limit(d: Draft) -> list:
    c = d.customer
    reason = d.text("complaint", COMPLAINTS)
    big = d.amount(float(d.rng.choice((600, 750, 800, 1000))))
    first = call("issue_store_credit", error="limit_exceeded", customer_id=c["id"], amount=big, reason=reason)
    return [calls(first), calls(call("issue_store_credit", customer_id=c["id"], amount=500.0, reason=reason))]
