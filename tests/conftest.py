"""Shared test setup: import the lab first so litellm never fetches its price map over the network."""

import lab  # noqa: F401  (sets LITELLM_LOCAL_MODEL_COST_MAP before any test module imports litellm)
