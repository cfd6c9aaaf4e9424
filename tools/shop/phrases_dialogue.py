"""Phrasing families of multi_call, multi_turn, clarify and error_recovery scenarios.

``TABLE[(category, intent)]`` lists families as ``(register, turn 1 template, turn 2
template...)``; the number of templates is the number of turns the spec in
``tools.shop.intents`` / ``tools.shop.dialogues`` expects. A multi_call family has one template whose
single message asks for several calls. Text only: no logic here.
"""

from __future__ import annotations

TABLE: dict[tuple[str, str], list[tuple[str, ...]]] = {
    ("multi_call", "list_orders"): [
        ("terse", "{email} - list my orders"),
        ("chatty", "hi! my email is {email}, what orders do I have with you?"),
        ("polite", "Could you look up my account by {email} and list my orders, please?"),
        ("angry", "I don't know my customer number. My email is {email}. Show me my orders."),
    ],
    ("multi_call", "get_subscription"): [
        ("terse", "subscription for phone {phone}?"),
        ("polite", "My phone number is {phone}; could you check my subscription, please?"),
        ("chatty", "no idea what my customer id is but my number's {phone} - is my subscription still on?"),
    ],
    ("multi_call", "track_shipment"): [
        ("terse", "track {order} and {order2}"),
        ("chatty", "two parcels missing lol: {order} and {order2}, where are they?"),
        ("angry", "Neither {order} nor {order2} has arrived. Where are they?"),
    ],
    ("multi_call", "get_payment"): [
        ("polite", "Could you show me {order} and how it was paid?"),
        ("terse", "order details + payment for {order}"),
        ("chatty", "what's in {order} and which card did it go on?"),
    ],
    ("multi_call", "cancel_order"): [
        ("angry", "Cancel {order} and {order2}. Both of them."),
        ("polite", "Please cancel both {order} and {order2}."),
    ],
    ("multi_call", "escalate_to_human"): [
        ("angry", "Get me a human about the {complaint}. My email is {email}."),
        ("polite", "I'd like to speak to a person about the {complaint}, please. My email is {email}."),
    ],
    ("multi_call", "create_ticket"): [
        ("chatty", "hey, can you open a ticket: {subject}? my number is {phone}"),
        ("terse", "{phone} - ticket: {subject}"),
    ],
    ("multi_call", "update_default_address"): [
        ("chatty", "we moved! new address {address} and new phone {new_phone}. I'm {customer}"),
        (
            "polite",
            "I'm {customer}. Please update my profile address to {address} and my phone to {new_phone}.",
        ),
    ],
    ("multi_turn", "cancel_order"): [
        (
            "polite",
            "Could you check the status of {order}, please?",
            "Thank you. Then please cancel it; I {reason}.",
        ),
        ("terse", "status {order}", "ok cancel it"),
        ("angry", "Show me {order}.", "Right. Cancel it."),
    ],
    ("multi_turn", "pause_subscription"): [
        (
            "chatty",
            "hey, what's my subscription looking like? I'm {customer}",
            "cool, can you pause it {when}?",
        ),
        (
            "polite",
            "Could you check my subscription, please? Customer {customer}.",
            "Thank you. Please pause it {when}.",
        ),
        ("terse", "{customer} subscription?", "pause it {when}"),
    ],
    ("multi_turn", "cancel_subscription"): [
        ("angry", "What subscription am I even paying for? {customer}", "I never wanted that. Cancel it."),
        (
            "polite",
            "May I see my subscription details? I am {customer}.",
            "Thank you, I'd like to cancel it now.",
        ),
    ],
    ("multi_turn", "refund_payment"): [
        ("polite", "How much did I pay for {order}?", "Please refund the full amount to my card."),
        ("chatty", "hey can u check the payment on {order}?", "ok refund all of it pls"),
        ("angry", "What did you charge me for {order}?", "Refund every cent of it."),
    ],
    ("multi_turn", "change_order_item"): [
        ("chatty", "what's in {order} again?", "ah, make it {qty} of the {product} then"),
        ("terse", "items in {order}?", "{product}: change to {qty}"),
        (
            "polite",
            "Could you list the items in {order}, please?",
            "Thanks. Could you change the {product} to {qty}?",
        ),
    ],
    ("multi_turn", "start_return"): [
        ("angry", "Show me {order}.", "The {product} {why}. I want to return it."),
        (
            "polite",
            "Could you look up {order} for me?",
            "Thank you. The {product} {why}, so I'd like to return it.",
        ),
    ],
    ("multi_turn", "change_shipping_address"): [
        ("polite", "What is the status of {order}?", "Good. Could you send it to {address} instead?"),
        ("chatty", "hiii is {order} still being packed?", "yay, then can it go to {address} pls"),
    ],
    ("multi_turn", "get_order"): [
        ("terse", "orders for {customer}", "what's in the newest one?"),
        ("chatty", "hey can you show my orders? {customer}", "ooh what's in the most recent one?"),
        (
            "polite",
            "Could you list my orders, please? My ID is {customer}.",
            "Thank you. Could you open the latest one?",
        ),
    ],
    ("multi_turn", "update_contact_details"): [
        (
            "polite",
            "Could you show me my profile, please? I'm {customer}.",
            "That email is outdated; please use {new_email}.",
        ),
        ("angry", "What contact details do you have for {customer}?", "That email is dead. Use {new_email}."),
    ],
    ("multi_turn", "issue_store_credit"): [
        (
            "angry",
            "Where is {order}?? I'm {customer}.",
            "This {complaint} is a joke. I want {amount} store credit.",
        ),
        (
            "polite",
            "Hello, I'm {customer}. Could you track {order}?",
            "For the {complaint}, could you add {amount} store credit?",
        ),
    ],
    ("clarify", "cancel_order"): [
        ("terse", "cancel my order", "{order}"),
        ("polite", "Hello, I would like to cancel an order, please.", "It's {order}."),
        ("angry", "I want my order cancelled. Now.", "{order}. Hurry up."),
    ],
    ("clarify", "track_shipment"): [
        ("chatty", "where's my package?? been waiting forever", "oh right, it's {order}"),
        ("polite", "Could you tell me where my parcel is?", "Of course, the order number is {order}."),
    ],
    ("clarify", "get_payment"): [
        ("polite", "Could you tell me how much I was charged for my order?", "Sure, it's {order}."),
        ("terse", "payment info for my order", "{order}"),
    ],
    ("clarify", "pause_subscription"): [
        ("terse", "pause my subscription {when}", "{sub}"),
        ("chatty", "can you pause my subscription {when}? going away for a bit", "oh it's {sub}"),
        ("polite", "I'd like to pause my subscription {when}, please.", "The subscription is {sub}."),
    ],
    ("clarify", "start_return"): [
        ("polite", "I'd like to return the {product} ({sku}) from {order}.", "It {why}."),
        ("angry", "I'm sending the {product} back. {order}, {sku}.", "Because it {why}!"),
    ],
    ("clarify", "update_default_address"): [
        ("chatty", "hey I moved! can you update my profile address? I'm {customer}", "it's {address}"),
        ("terse", "change address on {customer}", "{address}"),
    ],
    ("clarify", "find_customer"): [
        ("polite", "Could you find my account, please?", "Certainly, my email is {email}."),
        ("angry", "Find my account. Quickly.", "{email}"),
    ],
    ("clarify", "get_customer"): [
        ("terse", "show my profile", "{customer}"),
        ("chatty", "hey what info do you have on me?", "oh sure, I'm {customer}"),
    ],
    ("clarify", "list_orders"): [
        ("angry", "Show me my orders.", "{customer}. Is that enough?"),
        ("polite", "Could you list my orders, please?", "Yes, I'm customer {customer}."),
        ("chatty", "hiya, what have I ordered lately?", "ah, {customer}"),
    ],
    ("error_recovery", "cancel_order"): [
        ("angry", "Cancel {order} right now.", "Fine, then I'm returning the {product}. It {why}."),
        ("polite", "Could you cancel {order}, please?", "I see. When will it arrive, then?"),
        ("terse", "cancel {order}", "ok, then return the {product}, it {why}"),
    ],
    ("error_recovery", "get_order"): [
        ("terse", "status {wrong_order}", "sorry, typo: {order}"),
        ("polite", "Could you check {wrong_order} for me?", "Apologies, I misread it. It's {order}."),
        ("chatty", "hey what's up with {wrong_order}?", "whoops wrong number, try {order}"),
    ],
    ("error_recovery", "track_shipment"): [
        ("chatty", "where's {order}? tracking please!", "oh it hasn't shipped? then just cancel it"),
        ("angry", "Track {order}. NOW.", "Not even shipped?! Cancel it."),
    ],
    ("error_recovery", "find_customer"): [
        (
            "polite",
            "Could you find my account? My email is {old_email}.",
            "Perhaps try my phone number: {phone}.",
        ),
        ("terse", "account {old_email}", "try {phone}"),
        ("angry", "Find my account: {old_email}.", "Ugh. Then use my phone, {phone}."),
    ],
    ("error_recovery", "start_return"): [
        (
            "polite",
            "I'd like to return {sku} from {order}; it {why}.",
            "Then I'd like a person to look at this {complaint}. I'm {customer}.",
        ),
        (
            "angry",
            "Return the {product} ({sku}) from {order}. It {why}.",
            "Then get me a human about this {complaint}. {customer}.",
        ),
    ],
    ("error_recovery", "refund_payment"): [
        (
            "angry",
            "Refund {amount} on {order}.",
            "Whatever. Give me {credit} store credit for the {complaint} then. {customer}.",
        ),
        (
            "chatty",
            "hiya, can I get {amount} back for {order}?",
            "oh ok, {credit} store credit for the {complaint} works too, I'm {customer}",
        ),
    ],
    ("error_recovery", "pause_subscription"): [
        ("chatty", "can you pause {sub} {far}? long trip!", "aw ok, {when} then"),
        ("terse", "pause {sub} {far}", "ok {when}"),
        ("polite", "Please pause my subscription {sub} {far}.", "I understand. Then {when}, please."),
    ],
    ("error_recovery", "change_order_item"): [
        ("terse", "{order}: {sku} qty {qty}", "then cancel the whole order"),
        ("angry", "Change {sku} on {order} to {qty}.", "Too late?! Then cancel the entire order."),
    ],
    ("error_recovery", "change_shipping_address"): [
        (
            "polite",
            "Could you send {order} to {address} instead?",
            "I see. Please save that address on my profile, {customer}.",
        ),
        (
            "chatty",
            "can {order} go to {address}?",
            "ah ok, then just make it my default address, I'm {customer}",
        ),
    ],
    ("error_recovery", "issue_store_credit"): [
        ("angry", "I want {amount} store credit for the {complaint}. {customer}.", "Fine, 500 then."),
        (
            "polite",
            "Could you add {amount} in store credit for the {complaint}? I'm {customer}.",
            "I see, then 500, please.",
        ),
    ],
}
