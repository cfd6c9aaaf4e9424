"""The limits of one agent run, apart from the graph so that reading them imports no LangGraph.

``lab.graph`` re-exports both names; the CLI's option defaults and ``lab.run``'s config use them
without starting the agent. This module holds data only: it runs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.models.gateway import RetryPolicy

# litellm's own default. A batched local model on a busy 2-core machine needs minutes per request;
# a short limit there only re-queues the same work (measured: 60 s made every dev trial time out,
# and 64 of 108 in the ladder at 64 trials in flight).
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class AgentSettings:
    """Limits of one agent run.

    Attributes:
        max_steps: model requests per turn before the turn is cut off.
        timeout_s: limit of one model request.
        retry: retry policy for transient model failures.
    """

    max_steps: int = 8
    timeout_s: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = field(default_factory=RetryPolicy)
