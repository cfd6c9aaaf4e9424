"""Phrasing families of one-turn scenarios: single_call, distractor, knowledge and no_tool.

``TABLE[(category, intent)]`` lists families as ``(register, template)``; slots in
braces are filled by the spec of that (category, intent) in ``tools.shop.intents``. A template
that mentions an optional slot ({reason}, {status}, {priority}, {email} vs {phone},
{new_email} vs {new_phone}) makes that detail part of the gold call. Distractor
templates ask for a tool in words that sound like its neighbour (refund vs store credit,
order vs subscription, list vs one order, profile vs order address). Knowledge families
are ``(register, article id, gold query, question)``: the gold query must rank that
article's passage first (the generator checks it). Text only: no logic here.
"""

from __future__ import annotations

TABLE: dict[tuple[str, str], list[tuple[str, ...]]] = {
    ("single_call", "find_customer"): [
        ("terse", "look up account {email}"),
        ("chatty", "hey! i think my account is under {phone}, can you find it for me?"),
        ("polite", "Good morning. Could you please find my account? The email address is {email}."),
        ("angry", "I've been locked out for an hour. Find my account, the number is {phone}."),
    ],
    ("single_call", "get_customer"): [
        ("terse", "profile {customer}"),
        ("chatty", "hiya, can you pull up everything you have on file for me? customer id {customer} :)"),
        ("polite", "Hello, could you show me the details on my account {customer}, please?"),
        ("angry", "Your emails have the wrong name on them. Show me what you have stored for {customer}."),
    ],
    ("single_call", "update_contact_details"): [
        ("terse", "{customer} new email {new_email}"),
        (
            "chatty",
            "hi there, finally got a new phone number: {new_phone}! can you update it? I'm {customer}",
        ),
        ("polite", "Could you kindly change the email on account {customer} to {new_email}? Thank you."),
        ("angry", "Stop texting my old number!! Use {new_phone} for {customer}."),
    ],
    ("single_call", "update_default_address"): [
        ("terse", "{customer} moved, new home address {address}"),
        ("chatty", "we just moved house!! could you set my profile address to {address}? acct {customer}"),
        ("polite", "Please update the default address on my account {customer} to {address}. Many thanks."),
        ("angry", "Your system still has my old address. I live at {address} now. Fix account {customer}."),
    ],
    ("single_call", "get_order"): [
        ("terse", "status of {order}?"),
        ("chatty", "hey, just wondering what's going on with {order}, any news?"),
        ("polite", "Hello, could you tell me the current status of {order}, please?"),
        ("angry", "What on earth is happening with {order}?"),
    ],
    ("single_call", "list_orders"): [
        ("terse", "all orders for {customer}"),
        ("chatty", "hi! could you list the orders I've placed so far? my customer number is {customer}"),
        ("polite", "Could you please show me my {status} orders? My customer ID is {customer}."),
        ("angry", "The app shows nothing. List every {status} order on {customer}."),
    ],
    ("single_call", "cancel_order"): [
        ("terse", "cancel {order}"),
        ("chatty", "hey so I {reason}, could you cancel {order} for me?"),
        ("polite", "Hello, I would like to cancel {order}, please. I {reason}."),
        ("angry", "Cancel {order}. Right now."),
    ],
    ("single_call", "change_order_item"): [
        ("terse", "{order}: set {sku} qty to {qty}"),
        (
            "chatty",
            "oh wait, I actually need {qty} of the {product} ({sku}) in {order}, can you change that?",
        ),
        ("polite", "Could you please change the quantity of {sku} in {order} to {qty}?"),
        ("angry", "I never wanted that many! Make it {qty} x {sku} on {order}."),
    ],
    ("single_call", "change_shipping_address"): [
        ("terse", "ship {order} to {address}"),
        ("chatty", "oops, I'm staying at my mom's this week - can {order} go to {address} instead?"),
        ("polite", "Would it be possible to send {order} to {address} instead? Thank you."),
        ("angry", "You have the wrong address on {order}! Deliver it to {address}."),
    ],
    ("single_call", "track_shipment"): [
        ("terse", "track {order}"),
        ("chatty", "heyy where's my package? it's {order}, can't wait to get it"),
        ("polite", "Could you please tell me where the parcel for {order} is?"),
        ("angry", "Where is my parcel?! {order} should have been here days ago."),
        ("terse", "track {tracking}"),
        ("polite", "Could you tell me where the parcel with tracking number {tracking} is, please?"),
        ("chatty", "got tracking number {tracking} in the email but the carrier site says nothing?"),
    ],
    ("single_call", "get_payment"): [
        ("terse", "payment details {order}"),
        ("chatty", "quick one - which card did I use for {order}? can't remember lol"),
        ("polite", "Could you confirm how much I was charged for {order}, please?"),
        ("angry", "Did you charge me twice for {order}? Show me the payment."),
    ],
    ("single_call", "start_return"): [
        ("terse", "return {sku} from {order}, it {why}"),
        ("chatty", "hi! so the {product} from {order} {why}, I'd like to send it back (it's {sku})"),
        ("polite", "I'd like to return {sku} from {order}, please; it {why}."),
        ("angry", "The {product} ({sku}) from {order} {why}. I want to return it."),
    ],
    ("single_call", "refund_payment"): [
        ("terse", "refund {amount} on {order}"),
        ("chatty", "hi, you said you'd refund {amount} for {order} back to my card, can you do that now?"),
        ("polite", "Could you please refund {amount} for {order} to my original payment method?"),
        ("angry", "You overcharged me {amount} on {order}. Put it back on my card."),
    ],
    ("single_call", "issue_store_credit"): [
        ("terse", "{customer}: {amount} store credit for the {complaint}"),
        ("chatty", "honestly store credit is fine! {amount} for the {complaint}? I'm {customer}"),
        ("polite", "Would you add {amount} store credit to {customer} as a gesture for the {complaint}?"),
        ("angry", "After that {complaint}, the least you can do is {amount} in store credit. {customer}."),
    ],
    ("single_call", "get_subscription"): [
        ("terse", "subscription status {customer}"),
        ("chatty", "hey, when does my subscription renew next? I'm {customer}"),
        ("polite", "Could you tell me the status of my subscription, please? Customer ID {customer}."),
        ("angry", "I keep getting charged every month. What subscription is on {customer}?!"),
        ("terse", "plan of {sub}?"),
        ("polite", "Could you tell me which plan subscription {sub} is on, please?"),
        ("angry", "What exactly am I paying for with {sub}?"),
    ],
    ("single_call", "pause_subscription"): [
        ("terse", "pause {sub} {when}"),
        ("chatty", "going travelling! can you pause {sub} {when}?"),
        ("polite", "Could you please pause my subscription {sub} {when}?"),
        ("angry", "Stop sending me boxes. Pause {sub} {when}."),
        ("terse", "pause {sub}, no end date"),
        ("polite", "Could you pause subscription {sub} for a while, please?"),
        ("chatty", "can you hold my deliveries on {sub} for a bit? just skip one"),
    ],
    ("single_call", "cancel_subscription"): [
        ("terse", "cancel subscription {sub}"),
        ("chatty", "hi, I think it's time to say goodbye to my subscription {sub}, please cancel it"),
        ("polite", "Please cancel my subscription {sub}. Thank you for everything."),
        ("angry", "I have asked three times: CANCEL subscription {sub}."),
    ],
    ("single_call", "create_ticket"): [
        ("terse", "ticket for {customer}: {subject}"),
        ("chatty", "hey, could you open a support ticket? {subject}. I'm {customer}"),
        ("polite", "Please open a {priority} priority ticket for {customer} about this: {subject}."),
        ("angry", "Open a {priority} priority ticket NOW for {customer}: {subject}."),
    ],
    ("single_call", "escalate_to_human"): [
        ("terse", "human agent please. {customer}. {complaint}"),
        ("chatty", "I'd really prefer to talk to a real person about the {complaint}, ok? I'm {customer}"),
        ("polite", "Could I please speak with a human colleague about the {complaint}? My ID is {customer}."),
        ("angry", "I'm sick of bots. Get me a human about this {complaint}. {customer}."),
    ],
    ("distractor", "issue_store_credit"): [
        (
            "polite",
            "I don't need money back on my card; {amount} store credit is fine. {customer}, {complaint}.",
        ),
        ("terse", "no refund, store credit instead: {amount} to {customer} for the {complaint}"),
    ],
    ("distractor", "refund_payment"): [
        ("angry", "I don't want store credit, I want {amount} back on my card for {order}!"),
        ("chatty", "not a voucher pls - just refund the {amount} for {order} to how I paid"),
    ],
    ("distractor", "cancel_subscription"): [
        ("terse", "not an order - cancel the subscription itself, {sub}"),
        ("polite", "I don't mean an order; please end my subscription {sub} for good."),
    ],
    ("distractor", "cancel_order"): [
        ("chatty", "keep my subscription going, I just want to cancel {order}"),
        ("angry", "Don't touch my subscription. Cancel the order {order}, that's all."),
    ],
    ("distractor", "list_orders"): [
        ("terse", "not one order - all my orders please, {customer}"),
        ("polite", "I don't have an order number; could you show me all the orders on {customer}?"),
    ],
    ("distractor", "get_order"): [
        ("chatty", "don't need the whole list, just the details of {order} :)"),
        ("terse", "only {order}, not all of them"),
    ],
    ("distractor", "update_default_address"): [
        (
            "polite",
            "Not for a particular order: please change the address on my profile ({customer}) to {address}.",
        ),
        ("angry", "Forget the orders, fix the address stored on my account {customer}: {address}"),
    ],
    ("distractor", "change_shipping_address"): [
        ("terse", "only for {order}, not my account: ship to {address}"),
        ("chatty", "keep my saved address as it is, but could {order} go to {address}?"),
    ],
    ("distractor", "pause_subscription"): [
        ("angry", "Do NOT cancel {sub}! Just pause it {when}."),
        ("polite", "I'd rather not cancel; could you pause {sub} {when} instead?"),
    ],
    ("distractor", "escalate_to_human"): [
        ("angry", "No ticket, no email. Put me through to a real person now. {customer}, {complaint}."),
        ("terse", "don't file a ticket, I want a human. {customer}, {complaint}"),
    ],
    ("distractor", "create_ticket"): [
        ("polite", "No need for a person to call me; just log a ticket for {customer}: {subject}."),
        ("chatty", "don't bother a human with it, a ticket is enough :) {customer} - {subject}"),
    ],
    ("distractor", "track_shipment"): [
        ("terse", "don't need order details, just where the parcel is: {order}"),
        ("chatty", "I know what I ordered lol, I just want the tracking for {order}"),
    ],
    ("distractor", "get_customer"): [
        ("polite", "I already know my customer number, {customer}; could you show my profile?"),
        ("terse", "no need to search, I'm {customer} - show my account details"),
    ],
    ("distractor", "get_payment"): [
        ("chatty", "not asking for a refund! just want to see how {order} was paid"),
        ("angry", "I didn't say refund. Show me the payment on {order}."),
    ],
    ("distractor", "get_subscription"): [
        ("polite", "Please don't pause or cancel anything; just tell me about my subscription. {customer}"),
        ("terse", "no changes, only show subscription for {customer}"),
    ],
    ("distractor", "update_contact_details"): [
        ("chatty", "not my address, my email changed! it's {new_email} now. {customer}"),
        ("terse", "address is fine. new phone {new_phone} for {customer}"),
    ],
    ("knowledge", "search_policies"): [
        (
            "polite",
            "returns",
            "return items days",
            "How many days do I have to return the {product} I bought?",
        ),
        ("terse", "refunds", "refund arrive business days", "how long until a refund arrives"),
        ("chatty", "store-credit", "store credit cash", "hey, can I get my store credit paid out as cash?"),
        ("angry", "shipping-times", "standard shipping take days", "How long does standard shipping take?!"),
        (
            "polite",
            "cancellation",
            "cancel shipped order",
            "Can I still cancel an order after it has shipped?",
        ),
        (
            "chatty",
            "order-changes",
            "change items order",
            "can I still swap the {product} in my order for something else?",
        ),
        ("terse", "subscriptions", "pause subscription days", "max days to pause a subscription?"),
        (
            "polite",
            "warranty",
            "warranty manufacturing defects",
            "What does your warranty cover on a {product}?",
        ),
        (
            "angry",
            "damaged-items",
            "damaged wrong item arrives replacement",
            "If a {product} arrives damaged, do I get a replacement or not?",
        ),
        ("chatty", "privacy", "share personal data", "do you guys share my personal data with anyone?"),
        ("terse", "international", "international orders ship countries", "do you ship international orders"),
        ("polite", "contact", "human agent answered", "How quickly does a human agent answer?"),
        ("angry", "refunds", "refund original payment method", "Where does my refund money actually go?"),
        ("chatty", "returns", "final sale items returned", "can final-sale items be returned?"),
        ("terse", "shipping-times", "express shipping business days", "express shipping, how many days?"),
        (
            "polite",
            "order-changes",
            "default address orders already placed",
            "If I change my default address, does it change orders I already placed?",
        ),
        (
            "angry",
            "subscriptions",
            "cancelling subscription undone",
            "Can cancelling a subscription be undone?!",
        ),
        (
            "chatty",
            "international",
            "import duties paid recipient",
            "who pays import duties when you ship abroad?",
        ),
    ],
    ("no_tool", "greeting"): [
        ("terse", "hi"),
        ("chatty", "heyyy, how's it going?"),
        ("polite", "Good afternoon, I hope you are well."),
        ("angry", "Hello?? Is anyone actually there?"),
        ("polite", "Hello, this is {name}."),
        ("chatty", "hiya! {name} here :)"),
    ],
    ("no_tool", "thanks"): [
        ("terse", "thx"),
        ("chatty", "thanks so much, you're a star!"),
        ("polite", "Thank you very much for your help."),
        ("angry", "Fine. Thanks, I guess."),
        ("polite", "That's all I needed, thank you. Goodbye."),
        ("terse", "ok great, bye"),
    ],
    ("no_tool", "off_topic"): [
        ("terse", "capital of france?"),
        ("chatty", "random q but can you recommend a good pizza place?"),
        ("polite", "Could you write me a short poem about cats?"),
        ("angry", "Who won the game last night?! Tell me."),
        ("chatty", "what's the weather like where you are?"),
        ("polite", "Could you help me with my maths homework?"),
    ],
}
