"""Phrasing families of messages as people really write them, one style per register.

Styles: ``buried`` (the id in the middle of a long message), ``caps`` (all capitals; ``render``
upper-cases the template's own words), ``emoji``, ``nonnative`` (non-native English), ``formal``
(very formal English) and ``fickle`` (the customer changes their mind within the message, or between
turns: only the last request counts). Each (category, intent) here is a group of its own, next to
the plain families of ``tools.shop.phrases_single`` and ``tools.shop.phrases_dialogue``, so every group
has a family in each split and the test split keeps its own templates. Slots and specs are the same
as theirs; templates that mention ``{tracking}``, ``{sub}`` (get_subscription) or leave out ``{when}``
(pause_subscription) ask for the parcel by tracking number, the subscription by id, the pause without
a date. Text only: no logic here. Caps templates hold no dashed words (they would read as skus).
"""

from __future__ import annotations

TABLE: dict[tuple[str, str], list[tuple[str, ...]]] = {
    ("single_call", "find_customer"): [
        ("nonnative", "Hello, I am not finding my account since yesterday. My mail is {email}, please "
                      "search."),
        ("caps", "I CANNOT LOG IN. MY PHONE NUMBER IS {phone}, FIND MY ACCOUNT"),
        ("emoji", "hiii 👋 can u find my account? email is {email} 🙏"),
    ],
    ("single_call", "get_customer"): [
        ("formal", "Dear Sir or Madam, I would be most grateful if you could show me the particulars held on "
                   "file for my account, {customer}. Yours faithfully."),
        ("buried", "so I was trying to update things in the app last night and it kept crashing and my "
                   "account {customer} just showed a blank page, can you tell me what you actually have?"),
        ("fickle", "change my email on {customer}... actually no, first just show me what's on my profile"),
    ],
    ("single_call", "update_contact_details"): [
        ("emoji", "new number 📱 {new_phone} for {customer} pls ✨"),
        ("nonnative", "Good day, I have new e-mail, it is {new_email}. Please to change for customer "
                      "{customer}."),
        ("buried", "my old provider shut down my inbox so please could you, for account {customer}, switch "
                   "the email over to {new_email} because I'm missing all the shipping mails"),
    ],
    ("single_call", "update_default_address"): [
        ("formal", "I should be obliged if you would amend the default address on account {customer} to "
                   "{address}. With thanks in advance."),
        ("fickle", "ship my next order to {address}... no wait, I mean change my saved profile address to "
                   "that, {customer}"),
        ("caps", "I MOVED. MY ADDRESS IS NOW {address}. ACCOUNT {customer}"),
    ],
    ("single_call", "get_order"): [
        ("buried", "I ordered a few things for my sister's birthday and the order, I think it was {order}, "
                   "still says nothing in my account, what's going on with it?"),
        ("emoji", "any news on {order}?? 🤔📦"),
        ("nonnative", "Hello, what is the state of my order {order}? I am waiting since many days."),
    ],
    ("single_call", "list_orders"): [
        ("caps", "SHOW ME ALL MY ORDERS. CUSTOMER {customer}"),
        ("formal", "Would you be so kind as to provide a list of all orders placed under customer number "
                   "{customer}? I remain, respectfully, yours."),
        ("fickle", "cancel my last one... hmm no, forget that, just show me every order on {customer} first"),
    ],
    ("single_call", "cancel_order"): [
        ("nonnative", "I want make cancel of order {order}, I {reason}. Thank you very much."),
        ("buried", "long story short my partner already bought the same thing so can you please cancel "
                   "{order} for me, I {reason}"),
        ("emoji", "pls cancel {order} 🙈 I {reason}"),
    ],
    ("single_call", "change_order_item"): [
        ("formal", "Kindly amend the quantity of item {sku} on order {order} to {qty}. I thank you for "
                   "your assistance in this matter."),
        ("fickle", "remove the {product} from {order}... no actually keep it, just make it {qty} of {sku}"),
        ("caps", "I NEED {qty} OF {sku} ON {order}, NOT WHAT IT SAYS NOW"),
    ],
    ("single_call", "change_shipping_address"): [
        ("emoji", "🏠➡️ can {order} go to {address} instead? thx!"),
        ("nonnative", "Please, the order {order} must go to other address: {address}. I am there now."),
        ("buried", "I'm staying with friends for a few weeks and won't be home so could the order {order} "
                   "be sent to {address} rather than my usual place"),
    ],
    ("single_call", "track_shipment"): [
        ("buried", "the shipping email said it was on its way and gave me this tracking number {tracking} "
                   "but the carrier site shows nothing, where is it?"),
        ("caps", "WHERE IS MY PARCEL {tracking}"),
        ("formal", "I would be grateful for an update on the consignment with tracking number {tracking}."),
    ],
    ("single_call", "get_payment"): [
        ("fickle", "refund {order}... wait no, I just want to see how it was paid first"),
        ("nonnative", "Hello, with which card I have paid the order {order}? I don't remember it."),
        ("emoji", "how much did {order} cost me 💸😅"),
    ],
    ("single_call", "start_return"): [
        ("caps", "THE {product} {why}. RETURN {sku} FROM {order}"),
        ("formal", "I regret to inform you that the {product} ({sku}) from order {order} {why}. I wish to "
                   "return it."),
        ("nonnative", "The {product} of order {order} {why}, I want give it back. Item is {sku}."),
    ],
    ("single_call", "refund_payment"): [
        ("fickle", "hmm I wanted to return the whole thing but forget the return, just refund me {amount} "
                   "on {order}"),
        ("buried", "after going back and forth with the courier for a week about {order} I'd just like "
                   "{amount} refunded to my card and be done with it"),
        ("caps", "REFUND {amount} ON {order}"),
    ],
    ("single_call", "issue_store_credit"): [
        ("emoji", "{amount} store credit for the {complaint}? 🥺 I'm {customer}"),
        ("formal", "In recognition of the {complaint}, I would respectfully request {amount} of store "
                   "credit on account {customer}."),
        ("nonnative", "For the {complaint} I would like {amount} credit in the shop please. My number is "
                      "{customer}."),
    ],
    ("single_call", "get_subscription"): [
        ("buried", "my bank statement shows a charge I don't recognise and I think it's the subscription "
                   "{sub} but I'm not sure, which plan is that one on?"),
        ("nonnative", "Which plan has my subscription {sub}? I forget it."),
        ("emoji", "when does {sub} renew? ☕️📅"),
    ],
    ("single_call", "pause_subscription"): [
        ("nonnative", "I go on holiday, please make pause of subscription {sub} for some time."),
        ("fickle", "cancel {sub}... no, don't cancel, just hold my deliveries for a while"),
        ("caps", "PAUSE {sub}. I AM AWAY FOR A WHILE"),
    ],
    ("single_call", "cancel_subscription"): [
        ("formal", "Please accept this message as formal notice that I wish to terminate subscription "
                   "{sub} with immediate effect."),
        ("emoji", "bye bye {sub} 👋 please cancel it"),
        ("buried", "I've enjoyed it but money is tight right now so could you go ahead and end subscription "
                   "{sub} for good, thanks for everything"),
    ],
    ("single_call", "create_ticket"): [
        ("caps", "OPEN A TICKET FOR {customer}: {subject}"),
        ("fickle", "get me a human... actually no, a ticket is fine: {subject}. I'm {customer}"),
        ("formal", "I would be obliged if a support ticket could be raised for customer {customer} "
                   "regarding the following: {subject}."),
    ],
    ("single_call", "escalate_to_human"): [
        ("nonnative", "I want speak with a real person about the {complaint}. I am customer {customer}."),
        ("buried", "this is the third time I'm writing about the {complaint} and honestly I need a real "
                   "person to look at account {customer}, not another bot"),
        ("emoji", "can I talk to a human pls 😤 {complaint}, I'm {customer}"),
    ],
    ("multi_call", "track_shipment"): [
        ("buried", "so I placed two orders last week, {order} and the other one {order2}, and neither "
                   "has shown up, can you check both?"),
        ("caps", "WHERE ARE {order} AND {order2}"),
        ("formal", "I should be grateful if you would trace both of my orders, {order} and {order2}."),
    ],
    ("multi_turn", "refund_payment"): [
        ("fickle", "I want to return {order}, what did I pay?", "hmm no, forget the return, just refund "
                   "me all of it"),
        ("nonnative", "How much I have paid for {order}?", "OK, please give back all the money."),
        ("emoji", "what did I pay for {order}? 🧾", "refund all of it pls 🙏"),
    ],
    ("multi_turn", "cancel_order"): [
        ("fickle", "can you change the address on {order}? actually first tell me its status",
         "oh, forget the address then, just cancel it"),
        ("formal", "Would you kindly inform me of the status of order {order}?",
         "Thank you. In that case I should like it cancelled."),
        ("caps", "WHAT IS THE STATUS OF {order}", "CANCEL IT"),
    ],
    ("clarify", "track_shipment"): [
        ("nonnative", "Where is my package? It not arrive.", "The order number is {order}."),
        ("emoji", "where's my parcel 😭", "it's {order}"),
        ("formal", "Might you tell me the whereabouts of my parcel?", "Certainly; it is order {order}."),
    ],
}
