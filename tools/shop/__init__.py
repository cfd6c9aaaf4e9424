"""The default domain: a shop's customer-service API (``CATALOG``) over an in-memory database.

The tools are in ``tools.shop``, ``tools.money`` and ``tools.support``; the database in
``tools.db``; argument types in ``tools.types``; the policy articles and their search in
``tools.policies``. The catalog order puts easily confused tools next to each other.
"""

from lab.catalog import Catalog
from tools import money, shop, support
from tools.db import Database

CATALOG = Catalog(
    name="shop",
    functions=[
        shop.find_customer,
        shop.get_customer,
        shop.update_contact_details,
        shop.update_default_address,
        shop.change_shipping_address,
        shop.get_order,
        shop.list_orders,
        shop.change_order_item,
        shop.track_shipment,
        shop.cancel_order,
        shop.cancel_subscription,
        shop.get_subscription,
        shop.pause_subscription,
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
