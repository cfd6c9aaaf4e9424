"""Phrasing families that only the train split uses: more ways of asking, for tuning.

The families of ``tools.shop.phrases_single``, ``tools.shop.phrases_dialogue`` and
``tools.shop.phrases_styles`` are spread over train, dev and test; these are all assigned to
train (``lab.families.families``'s ``train_only``), so adding one never moves a dev or test
family and the dev and test packs stay byte for byte the same. They were written without
reading the dev and test families' failures: other sentence shapes (the id first or last,
a question or an order, a sentence of context before the request, hedges), policy questions
that name an action without asking for it, and second requests joined in one message. Slots
and specs are those of the other tables. Text only: no logic here.
"""

from __future__ import annotations

TABLE: dict[tuple[str, str], list[tuple[str, ...]]] = {
    # ------------------------------------------------------------------ single_call
    ("single_call", "find_customer"): [
        ("chatty", "I can't remember my customer number at all. Can you find me? I signed up with {email}"),
        ("polite", "I'd like to check something on my account but I don't have the ID. My phone is {phone}."),
    ],
    ("single_call", "get_customer"): [
        ("terse", "{customer} - what do you have on file"),
        ("nonnative", "Please, which informations you have saved about me? Customer {customer}."),
    ],
    ("single_call", "update_contact_details"): [
        ("angry", "I don't use that old email anymore. Put {new_email} on {customer}."),
        ("formal", "Kindly record {new_phone} as the telephone number for account {customer}."),
    ],
    ("single_call", "update_default_address"): [
        ("polite", "I've relocated. For future orders, please use {address} as my address. I'm {customer}."),
        ("nonnative", "My home is now on other place: {address}. Please change it in my account {customer}."),
    ],
    ("single_call", "get_order"): [
        ("polite", "I placed {order} a while ago. Could you tell me what's happening with it?"),
        ("chatty", "checking in on {order} - has anything happened yet?"),
    ],
    ("single_call", "list_orders"): [
        ("terse", "{customer}: which orders are {status}?"),
        ("chatty", "can I see everything I've ordered that's {status}? I'm {customer} btw"),
    ],
    ("single_call", "cancel_order"): [
        ("terse", "{order} - don't send it, I {reason}"),
        ("formal", "I hereby request the cancellation of order {order}, as I {reason}."),
    ],
    ("single_call", "change_order_item"): [
        ("polite", "In {order}, could you make it {qty} of {sku} instead, please?"),
        ("angry", "I asked for {qty} of {sku}, not what you have. Fix {order}."),
    ],
    ("single_call", "change_shipping_address"): [
        ("polite", "I won't be home next week. Could {order} be delivered to {address} instead?"),
        ("nonnative", "Please send the order {order} to this address: {address}. I am not at home."),
    ],
    ("single_call", "track_shipment"): [
        ("angry", "It's been over a week. Where exactly is {order}?"),
        ("chatty", "got a tracking number {tracking} but no idea where the parcel is, can you check?"),
    ],
    ("single_call", "get_payment"): [
        ("terse", "payment info {order}"),
        ("angry", "My bank shows a charge I don't understand. What did you take for {order}?"),
    ],
    ("single_call", "start_return"): [
        ("polite", "I'm afraid the {product} ({sku}) from {order} {why}. May I send it back?"),
        ("angry", "I want to return {sku} from {order}. It {why}!"),
    ],
    ("single_call", "refund_payment"): [
        ("polite", "Could you refund {amount} of order {order} to my original payment method?"),
        ("chatty", "so I was charged {amount} too much on {order}, can I get that back?"),
    ],
    ("single_call", "issue_store_credit"): [
        ("terse", "{customer} - {amount} credit for the {complaint}"),
        ("chatty", "honestly after the {complaint} a bit of store credit would be nice, {amount}? "
                   "acct {customer}"),
    ],
    ("single_call", "get_subscription"): [
        ("polite", "Could you tell me which plan I'm on? My customer ID is {customer}."),
        ("chatty", "is {sub} still active or did it run out?"),
    ],
    ("single_call", "pause_subscription"): [
        ("terse", "{sub} on hold {when}"),
        ("chatty", "we're away for a bit so no deliveries please - pause {sub} {when}?"),
    ],
    ("single_call", "cancel_subscription"): [
        ("polite", "I've decided to stop my subscription {sub}. Please cancel it."),
        ("chatty", "don't need the monthly boxes anymore, can you end {sub}?"),
    ],
    ("single_call", "create_ticket"): [
        ("terse", "ticket for {customer}: {subject}"),
        ("chatty", "not urgent but can you log this for someone to look at? {subject}. I'm {customer}"),
    ],
    ("single_call", "escalate_to_human"): [
        ("angry", "Enough with the bot. A real person, now. {customer}, the {complaint}."),
        ("formal", "I should like this matter, the {complaint}, referred to a member of staff. "
                   "Account {customer}."),
    ],
    # ------------------------------------------------------------------ knowledge
    ("knowledge", "search_policies"): [
        ("chatty", "returns", "return window days",
         "bought something last week and not sure I like it - how long is the return window?"),
        ("polite", "refunds", "refund arrive business days",
         "If I get a refund, how long until it arrives on my card?"),
        ("angry", "refunds", "cancelling order refund automatically",
         "If I cancel an order, do I still have to ask for a refund separately?"),
        ("terse", "store-credit", "store credit cash",
         "can store credit be paid out as cash?"),
        ("polite", "store-credit", "store credit refund original payment",
         "Is store credit the same as a refund to my original payment?"),
        ("chatty", "shipping-times", "orders placed before ship same day",
         "if I order this morning does it ship the same day?"),
        ("angry", "cancellation", "cancelled pending processing",
         "Which orders can you actually cancel? Only pending or processing ones?"),
        ("polite", "order-changes", "change items order pending",
         "Until when can I change the items in an order?"),
        ("terse", "order-changes", "default address profile placed orders",
         "does changing my profile address change my placed orders"),
        ("chatty", "subscriptions", "cancelling subscription undone",
         "if I cancel my subscription can it be undone later?"),
        ("formal", "subscriptions", "paused subscription resumes automatically",
         "Might you explain whether a paused subscription resumes automatically?"),
        ("polite", "warranty", "warranty manufacturing defects year",
         "How long is the warranty on the {product} against manufacturing defects?"),
        ("chatty", "warranty", "warranty claim photos defect",
         "the {product} has a defect - how do warranty claims work, do you need photos?"),
        ("angry", "damaged-items", "item arrives damaged replacement",
         "What happens when an item arrives damaged? Do I get a replacement?"),
        ("nonnative", "damaged-items", "wrong item arrives",
         "What I must do when the wrong item arrives to me?"),
        ("terse", "privacy", "verify customer changing contact details",
         "do you verify me before changing contact details?"),
        ("polite", "international", "ship countries Canada Germany",
         "Do you ship to Canada and Germany?"),
        ("chatty", "contact", "human agent escalated answered business day",
         "if I ask for a human agent, how fast does someone answer?"),
        ("terse", "contact", "urgent tickets answered hours",
         "how quickly are urgent tickets answered"),
    ],
    # ------------------------------------------------------------------ no_tool
    ("no_tool", "greeting"): [
        ("chatty", "hey there! hope you're having a good day"),
        ("formal", "Good afternoon. My name is {name}."),
    ],
    ("no_tool", "thanks"): [
        ("chatty", "perfect, that's all I needed, cheers!"),
        ("nonnative", "Thank you, it is all good now."),
    ],
    ("no_tool", "off_topic"): [
        ("terse", "whats 17 times 23"),
        ("polite", "Do you happen to know a good recipe for banana bread?"),
    ],
    # ------------------------------------------------------------------ distractor
    ("distractor", "refund_payment"): [
        ("terse", "no store credit. refund {amount} on {order} to my card"),
    ],
    ("distractor", "get_order"): [
        ("polite", "I don't want to cancel {order}; I only want to know its status."),
    ],
    ("distractor", "track_shipment"): [
        ("chatty", "not asking for a refund or anything, just where's the parcel for {order}?"),
    ],
    ("distractor", "get_subscription"): [
        ("terse", "no changes, just show my subscription. {customer}"),
    ],
    ("distractor", "cancel_subscription"): [
        ("polite", "Pausing isn't enough for me: please cancel subscription {sub} for good."),
    ],
    ("distractor", "escalate_to_human"): [
        ("angry", "A ticket won't help. Let me talk to a person about the {complaint}. {customer}."),
    ],
    # ------------------------------------------------------------------ multi_call
    ("multi_call", "list_orders"): [
        ("nonnative", "I forget my customer number. Email is {email}. Which orders I have?"),
    ],
    ("multi_call", "get_subscription"): [
        ("angry", "I only know my phone number, {phone}. What subscription are you charging me for?"),
    ],
    ("multi_call", "track_shipment"): [
        ("polite", "Could you check where {order} is, and {order2} as well?"),
    ],
    ("multi_call", "get_payment"): [
        ("angry", "What was in {order} and what did you charge me for it?"),
    ],
    ("multi_call", "cancel_order"): [
        ("chatty", "ugh, changed my mind on both - cancel {order} please, and {order2} too"),
    ],
    ("multi_call", "escalate_to_human"): [
        ("chatty", "can someone real call me about the {complaint}? I only have my email, {email}"),
    ],
    ("multi_call", "create_ticket"): [
        ("polite", "I don't know my customer ID, but my phone is {phone}. Please log a ticket: {subject}."),
    ],
    ("multi_call", "update_default_address"): [
        ("chatty", "two things for {customer}: new address {address}, and new phone {new_phone}"),
    ],
    # ------------------------------------------------------------------ multi_turn
    ("multi_turn", "cancel_order"): [
        ("chatty", "has {order} shipped yet?", "ok then cancel it, I {reason}"),
    ],
    ("multi_turn", "pause_subscription"): [
        ("polite", "Could you check my subscription, please? I'm {customer}.",
         "Thanks, please pause it {when}."),
    ],
    ("multi_turn", "refund_payment"): [
        ("terse", "payment on {order}?", "refund it all"),
    ],
    ("multi_turn", "change_order_item"): [
        ("chatty", "what's in {order} again?", "ah ok, make the {product} {qty} please"),
    ],
    ("multi_turn", "change_shipping_address"): [
        ("terse", "status {order}", "deliver to {address} instead"),
    ],
    ("multi_turn", "get_order"): [
        ("chatty", "what have I ordered lately? I'm {customer}", "can you open the newest one"),
    ],
    ("multi_turn", "update_contact_details"): [
        ("terse", "profile {customer}", "email should be {new_email}"),
    ],
    ("multi_turn", "start_return"): [
        ("polite", "Could you show me {order}, please?", "The {product} {why}; I'd like to return it."),
    ],
    # ------------------------------------------------------------------ clarify
    ("clarify", "cancel_order"): [
        ("polite", "I'd like to cancel an order, please.", "It's {order}."),
    ],
    ("clarify", "get_payment"): [
        ("terse", "which card did I pay with", "order {order}"),
    ],
    ("clarify", "list_orders"): [
        ("chatty", "can u show me my orders?", "sure, customer id {customer}"),
    ],
    ("clarify", "get_customer"): [
        ("polite", "Could you show me my account details?", "My customer number is {customer}."),
    ],
    ("clarify", "find_customer"): [
        ("terse", "find my account", "{email}"),
    ],
    # ------------------------------------------------------------------ error_recovery
    ("error_recovery", "get_order"): [
        ("polite", "Could you check on {wrong_order}, please?", "I'm sorry, I meant {order}."),
    ],
    ("error_recovery", "track_shipment"): [
        ("polite", "Where is {order}, please?", "I see. In that case please cancel it."),
    ],
    ("error_recovery", "change_order_item"): [
        ("chatty", "can you make it {qty} of {sku} in {order}?", "oh no. just cancel the whole order then"),
    ],
    ("error_recovery", "find_customer"): [
        ("terse", "account for {old_email}?", "try {phone}"),
    ],
    ("error_recovery", "cancel_order"): [
        ("polite", "Please cancel {order}.",
         "Oh, it's already on its way? Then I'll return the {product}; it {why}."),
    ],
}  # fmt: skip
