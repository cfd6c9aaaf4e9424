"""The example second domain (``DOMAIN``): a mobile operator's plan-and-billing customer service.

The tools are in ``tools.telecom.lines`` (accounts, plans, lines) and ``tools.telecom.billing``
(bills, disputes, help search); the database in ``tools.telecom.db``; argument types in
``tools.telecom.types``; help articles and their search in ``tools.telecom.help``; the agent's
prompts and clarify words in ``tools.telecom.prompts``. It has no scenario generator: its pack,
``scenarios/telecom.jsonl``, is written by hand. The catalog order puts easily confused tools
next to each other.
"""

from lab.catalog import Catalog
from lab.domain import Domain
from tools.telecom import billing, lines, prompts
from tools.telecom.db import Database

CATALOG = Catalog(
    name="telecom",
    functions=[
        lines.find_account,
        lines.get_account,
        billing.get_bill,
        lines.list_plans,
        lines.change_plan,
        lines.add_roaming_pass,
        lines.suspend_line,
        lines.resume_line,
        billing.dispute_charge,
        billing.search_help,
    ],
    database=Database,
    read_only={"find_account", "get_account", "get_bill", "list_plans", "search_help"},
)

DOMAIN = Domain(
    catalog=CATALOG,
    zero_shot_prompt=prompts.ZERO_SHOT_PROMPT,
    instructed_prompt=prompts.INSTRUCTED_PROMPT,
    field_words=prompts.FIELD_WORDS,
)
