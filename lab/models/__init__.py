"""The lab's model providers, registered with litellm so every model shares one call path.

``register_provider`` adds a ``litellm.CustomLLM`` under a provider name without touching
other entries; ``ensure_providers`` registers the lab's own ``scripted`` and ``local``
providers. The ``local`` handler is a lazy proxy: torch and transformers are imported only
when a ``local/...`` model is actually called. This module makes no model calls itself.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from lab.errors import BadInput

if TYPE_CHECKING:
    from litellm import CustomLLM

LAB_PROVIDERS = ("scripted", "local")
SCRIPTED_NAME = re.compile(r"^(oracle|chaos(-\d+)?|queue(-[A-Za-z0-9_.]+)?)$")
_lock = threading.RLock()


class ProviderError(Exception):
    """A request to one of the lab's own providers failed; not worth retrying (a bad request)."""


class TransientProviderError(ProviderError):
    """A request to one of the lab's own providers failed in a way a retry may mend."""


class ProviderTimeout(TransientProviderError):
    """No reply in time."""


class ProviderRateLimited(TransientProviderError):
    """Too many requests."""


class ProviderUnavailable(TransientProviderError):
    """The provider failed unexpectedly (what litellm reports as a connection error)."""


def check_scripted_name(name: str) -> None:
    """Raise ``BadInput`` on ``--model`` unless ``name`` is a scripted model (litellm not imported)."""
    if not SCRIPTED_NAME.match(name):
        raise BadInput(
            "--model", f"unknown scripted model {name!r}; use oracle, chaos[-SEED] or queue[-NAME]"
        )


def register_provider(name: str, handler: CustomLLM) -> None:
    """Register ``handler`` for models named ``name/...``, replacing only an entry of that name.

    Args:
        name: the provider prefix, e.g. ``"scripted"``.
        handler: a ``litellm.CustomLLM`` instance.
    """
    import litellm
    from litellm.utils import custom_llm_setup

    with _lock:
        others = [item for item in litellm.custom_provider_map if item["provider"] != name]
        litellm.custom_provider_map = [*others, {"provider": name, "custom_handler": handler}]
        custom_llm_setup()


def request_metadata(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``metadata`` a lab provider's handler was called with (litellm passes it in ``litellm_params``)."""
    return (kwargs.get("litellm_params") or {}).get("metadata") or {}


def is_registered(name: str) -> bool:
    """Whether a provider of that name is in litellm's custom provider map."""
    return registered_handler(name) is not None


def registered_handler(name: str) -> CustomLLM | None:
    """The handler registered for provider ``name`` in litellm's custom provider map, if any."""
    import litellm

    return next(
        (item["custom_handler"] for item in litellm.custom_provider_map if item["provider"] == name), None
    )


def _lazy_local() -> CustomLLM:
    """A stand-in ``local`` provider that imports ``lab.models.local`` (torch) on its first call.

    litellm only routes to ``CustomLLM`` instances, so the stand-in is one, delegating
    ``completion`` and ``acompletion`` to the real provider once it is loaded.
    """
    from litellm import CustomLLM

    class LazyLocal(CustomLLM):
        def __init__(self) -> None:
            super().__init__()
            self._real: CustomLLM | None = None

        def _load(self) -> CustomLLM:
            with _lock:
                if self._real is None:
                    from lab.models.local import LocalProvider

                    self._real = LocalProvider()
            return self._real

        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return self._load().completion(*args, **kwargs)

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            return await self._load().acompletion(*args, **kwargs)

    return LazyLocal()


def ensure_providers() -> None:
    """Register the lab's ``scripted`` and ``local`` providers unless already registered."""
    if not is_registered("scripted"):
        from lab.models.scripted_litellm import ScriptedProvider

        register_provider("scripted", ScriptedProvider())
    if not is_registered("local"):
        register_provider("local", _lazy_local())
