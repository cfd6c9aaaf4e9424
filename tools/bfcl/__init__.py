"""The ``bfcl`` domain: BFCL's single-turn test categories, imported by ``lab import bfcl``.

Its catalog is schema-only and empty: every imported scenario carries its own tools inline
(``Scenario.tools``), so each runs on a schema-only catalog of them (``lab.schema_catalog``).
Its packs are test packs only (BFCL's test data is never exported or trained on).
"""

from lab.domain import Domain
from lab.schema_catalog import SchemaCatalog

ZERO_SHOT_PROMPT = "You are an assistant with access to functions. Use them when the request needs one."
INSTRUCTED_PROMPT = (
    f"{ZERO_SHOT_PROMPT} Call a function only when one of the given functions fits the request, with"
    " the argument values the user gave; make several calls when the request asks for several."
    " When no function fits, answer in plain text without calling any."
)

DOMAIN = Domain(
    catalog=SchemaCatalog("bfcl", []),  # type: ignore[arg-type]
    zero_shot_prompt=ZERO_SHOT_PROMPT,
    instructed_prompt=INSTRUCTED_PROMPT,
)
