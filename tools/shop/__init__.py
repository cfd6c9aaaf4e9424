"""The default domain (``DOMAIN``): a shop's customer-service API over an in-memory database.

The tools are in ``tools.shop.store``, ``tools.shop.money`` and ``tools.shop.support``; the
database in ``tools.shop.db``; argument types in ``tools.shop.types``; the policy articles and
their search in ``tools.shop.policies``; the agent's prompts and clarify words in
``tools.shop.prompts``; the scenario generator in ``tools.shop.generator``. The catalog order
puts easily confused tools next to each other.
"""

from lab.catalog import Catalog
from lab.domain import Domain
from tools.shop import money, prompts, store, support
from tools.shop.db import Database
from tools.shop.generator import ShopGenerator

CATALOG = Catalog(
    name="shop",
    functions=[
        store.find_customer,
        store.get_customer,
        store.update_contact_details,
        store.update_default_address,
        store.change_shipping_address,
        store.get_order,
        store.list_orders,
        store.change_order_item,
        store.track_shipment,
        store.cancel_order,
        store.cancel_subscription,
        store.get_subscription,
        store.pause_subscription,
        money.get_payment,
        money.refund_payment,
        money.issue_store_credit,
        money.start_return,
        support.create_ticket,
        support.escalate_to_human,
        support.search_policies,
    ],
    database=Database,
    read_only={
        "find_customer",
        "get_customer",
        "get_order",
        "list_orders",
        "track_shipment",
        "get_subscription",
        "get_payment",
        "search_policies",
    },
)

DOMAIN = Domain(
    catalog=CATALOG,
    zero_shot_prompt=prompts.ZERO_SHOT_PROMPT,
    instructed_prompt=prompts.INSTRUCTED_PROMPT,
    field_words=prompts.FIELD_WORDS,
    generator=ShopGenerator(),
)
