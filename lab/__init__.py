"""toolcall-lab: measure whether prompting is enough for an agent's API calls, or fine-tuning pays."""

import os

# litellm fetches a price map over the network at import unless told not to; there is no network.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

__version__ = "0.1.0"
