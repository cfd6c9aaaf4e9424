"""Gold behaviour of one-turn scenarios: single_call, multi_call, knowledge, no_tool, distractor.

Each spec adds what its dialogue needs to the draft's world, fills the slots and returns
one ``Expect`` per turn (see ``tools.shop.draft``). Optional details enter a gold call only when
the family's templates mention them. Distractor scenarios reuse the single-call specs:
they differ in phrasing (the request sounds like a neighbouring tool), not in gold.
Multi-turn kinds live in ``tools.shop.dialogues``.
"""

from __future__ import annotations

from lab.phrasing import say_email, say_phone, say_quantity
from tools.shop.draft import (
    CANCEL_REASONS,
    COMPLAINTS,
    CREDITS,
    NO_CALL,
    RETURN_REASONS,
    SPECS,
    SUBJECTS,
    Draft,
    call,
    calls,
    spec,
)

STATUSES = ("pending", "processing", "shipped", "delivered", "cancelled")
PRIORITIES = {"low": ("low",), "high": ("high",), "urgent": ("urgent",)}


@spec("single_call", "find_customer")
def find_customer(d: Draft) -> list:
    c = d.customer
    by_email = d.wants("email")
    return [calls(call("find_customer", **({"email": c["email"]} if by_email else {"phone": c["phone"]})))]


@spec("single_call", "get_customer")
def get_customer(d: Draft) -> list:
    return [calls(call("get_customer", customer_id=d.customer["id"]))]


@spec("single_call", "update_contact_details")
def update_contact_details(d: Draft) -> list:
    c = d.customer
    if d.wants("new_email"):
        new = d.w.email()
        d.slots["new_email"] = say_email(new, d.rng)
        return [calls(call("update_contact_details", customer_id=c["id"], email=new))]
    new = d.w.phone()
    d.slots["new_phone"] = say_phone(new, d.rng)
    return [calls(call("update_contact_details", customer_id=c["id"], phone=new))]


@spec("single_call", "update_default_address")
def update_default_address(d: Draft) -> list:
    c = d.customer
    return [calls(call("update_default_address", customer_id=c["id"], **d.address()))]


@spec("single_call", "get_order")
def get_order(d: Draft) -> list:
    return [calls(call("get_order", order_id=d.order(*STATUSES)["id"]))]


@spec("single_call", "list_orders")
def list_orders(d: Draft) -> list:
    args = {"customer_id": d.customer["id"]}
    if d.wants("status"):
        args["status"] = d.slots["status"] = d.rng.choice(STATUSES)
    return [calls(call("list_orders", **args))]


@spec("single_call", "cancel_order")
def cancel_order(d: Draft) -> list:
    args = {"order_id": d.order("pending", "processing")["id"]}
    if d.wants("reason"):
        args["reason"] = d.choose("reason", CANCEL_REASONS)
    return [calls(call("cancel_order", **args))]


@spec("single_call", "change_order_item")
def change_order_item(d: Draft) -> list:
    o = d.order("pending", items=d.rng.randint(2, 3))
    line = d.item(o)
    quantity = d.rng.choice([q for q in range(1, 6) if q != line["quantity"]])
    d.slots["qty"] = say_quantity(quantity, d.rng)
    return [calls(call("change_order_item", order_id=o["id"], sku=line["sku"], quantity=quantity))]


@spec("single_call", "change_shipping_address")
def change_shipping_address(d: Draft) -> list:
    o = d.order("pending")
    return [calls(call("change_shipping_address", order_id=o["id"], **d.address()))]


@spec("single_call", "track_shipment")
def track_shipment(d: Draft) -> list:
    o = d.order("shipped", "delivered")
    if d.wants("tracking"):  # the carrier's number, pasted from the shipping email
        number = next(s["tracking_number"] for s in d.w.shipments if s["order_id"] == o["id"])
        d.slots["tracking"] = number
        return [calls(call("track_shipment", tracking_number=number))]
    return [calls(call("track_shipment", order_id=o["id"]))]


@spec("single_call", "get_payment")
def get_payment(d: Draft) -> list:
    return [calls(call("get_payment", order_id=d.order(*STATUSES)["id"]))]


@spec("single_call", "start_return")
def start_return(d: Draft) -> list:
    o = d.order("delivered")
    line = d.item(o)
    reason = d.choose("why", RETURN_REASONS)
    return [calls(call("start_return", order_id=o["id"], sku=line["sku"], reason=reason))]


@spec("single_call", "refund_payment")
def refund_payment(d: Draft) -> list:
    o = d.order("delivered", "shipped")
    amount = d.amount(d.rng.choice(o["items"])["unit_price"])
    return [calls(call("refund_payment", order_id=o["id"], amount=amount))]


@spec("single_call", "issue_store_credit")
def issue_store_credit(d: Draft) -> list:
    c = d.customer
    amount = d.amount(d.rng.choice(CREDITS))
    reason = d.text("complaint", COMPLAINTS)
    return [calls(call("issue_store_credit", customer_id=c["id"], amount=amount, reason=reason))]


@spec("single_call", "get_subscription")
def get_subscription(d: Draft) -> list:
    s = d.subscription()
    if d.wants("sub"):
        return [calls(call("get_subscription", subscription_id=s["id"]))]
    return [calls(call("get_subscription", customer_id=d.customer["id"]))]


@spec("single_call", "pause_subscription")
def pause_subscription(d: Draft) -> list:
    s = d.subscription()
    if not d.wants("when"):  # "for a while": the default pause of one cycle
        return [calls(call("pause_subscription", subscription_id=s["id"]))]
    return [calls(call("pause_subscription", subscription_id=s["id"], until=d.until()))]


@spec("single_call", "cancel_subscription")
def cancel_subscription(d: Draft) -> list:
    return [calls(call("cancel_subscription", subscription_id=d.subscription()["id"]))]


@spec("single_call", "create_ticket")
def create_ticket(d: Draft) -> list:
    args = {"customer_id": d.customer["id"], "subject": d.text("subject", SUBJECTS)}
    if d.wants("priority"):
        args["priority"] = d.choose("priority", PRIORITIES, "priority")
    return [calls(call("create_ticket", **args))]


@spec("single_call", "escalate_to_human")
def escalate_to_human(d: Draft) -> list:
    c = d.customer
    return [calls(call("escalate_to_human", customer_id=c["id"], reason=d.text("complaint", COMPLAINTS)))]


# --------------------------------------------------------------------------- multi_call


@spec("multi_call", "list_orders")
def orders_by_email(d: Draft) -> list:
    c = d.customer
    d.order(*STATUSES)
    found = call("find_customer", email=c["email"])
    return [calls(found, call("list_orders", customer_id=c["id"]), ordered=True)]


@spec("multi_call", "get_subscription")
def subscription_by_phone(d: Draft) -> list:
    c = d.customer
    d.subscription()
    found = call("find_customer", phone=c["phone"])
    return [calls(found, call("get_subscription", customer_id=c["id"]), ordered=True)]


@spec("multi_call", "track_shipment")
def track_two(d: Draft) -> list:
    first, second = d.order("shipped", "delivered"), d.order("shipped", slot="order2")
    return [
        calls(call("track_shipment", order_id=first["id"]), call("track_shipment", order_id=second["id"]))
    ]


@spec("multi_call", "get_payment")
def order_and_payment(d: Draft) -> list:
    o = d.order(*STATUSES)
    return [calls(call("get_order", order_id=o["id"]), call("get_payment", order_id=o["id"]))]


@spec("multi_call", "cancel_order")
def cancel_two(d: Draft) -> list:
    first, second = d.order("pending", "processing"), d.order("pending", "processing", slot="order2")
    return [calls(call("cancel_order", order_id=first["id"]), call("cancel_order", order_id=second["id"]))]


@spec("multi_call", "escalate_to_human")
def escalate_by_email(d: Draft) -> list:
    c = d.customer
    reason = d.text("complaint", COMPLAINTS)
    found = call("find_customer", email=c["email"])
    return [calls(found, call("escalate_to_human", customer_id=c["id"], reason=reason), ordered=True)]


@spec("multi_call", "create_ticket")
def ticket_by_phone(d: Draft) -> list:
    c = d.customer
    subject = d.text("subject", SUBJECTS)
    found = call("find_customer", phone=c["phone"])
    return [calls(found, call("create_ticket", customer_id=c["id"], subject=subject), ordered=True)]


@spec("multi_call", "update_default_address")
def move_house(d: Draft) -> list:
    c = d.customer
    new = d.w.phone()
    d.slots["new_phone"] = say_phone(new, d.rng)
    contact = call("update_contact_details", customer_id=c["id"], phone=new)
    return [calls(contact, call("update_default_address", customer_id=c["id"], **d.address()))]


# --------------------------------------------------------------------------- knowledge, no_tool


@spec("knowledge", "search_policies")
def policy_question(d: Draft) -> list:
    _ = d.customer  # a shop with a customer, like every scenario
    if d.wants("product"):
        d.item(d.order("delivered"))
    return [calls(call("search_policies", query=d.meta["query"]))]


def _no_call(d: Draft) -> list:
    _ = d.customer
    return [NO_CALL]


for _intent in ("greeting", "thanks", "off_topic"):
    SPECS[("no_tool", _intent)] = _no_call

for (_category, _intent), _spec in list(SPECS.items()):
    if _category == "single_call":
        SPECS[("distractor", _intent)] = _spec
