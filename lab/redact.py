"""Keep secrets out of everything the lab writes: API keys, tokens, passwords.

``redact`` walks any JSON-like value and replaces what looks like a secret: well-known key
shapes (``sk-...``, ``hf_...``, ``ghp_...``, bearer tokens, AWS key ids), the literal values of
environment variables named like ``*_API_KEY``/``*_TOKEN``/``*_SECRET``/``*_PASSWORD``, and the
value of any mapping key named like a credential. It does not decide where values go.
"""

from __future__ import annotations

import os
import re
from typing import Any

MASK = "[REDACTED]"
KEY_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{8,}|\bhf_[A-Za-z0-9]{8,}|\bgh[pousr]_[A-Za-z0-9]{8,}|\bAKIA[0-9A-Z]{16}\b"
    r"|(?i:\bbearer\s+)[A-Za-z0-9._\-]{8,}"
)
SECRET_ENV = re.compile(r"(API_KEY|APIKEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
SECRET_FIELD = re.compile(
    r"^(api[_-]?key|.*_api_key|access[_-]?token|auth[_-]?token|token|secret|password|"
    r"authorization|x-api-key)$",
    re.IGNORECASE,
)
MIN_SECRET_LEN = 6


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they hold a secret, longest first."""
    env = os.environ if environ is None else environ
    values = {v for name, v in env.items() if SECRET_ENV.search(name) and len(v) >= MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret-looking substring replaced by ``[REDACTED]``."""
    for value in secret_values() if secrets is None else secrets:
        text = text.replace(value, MASK)
    return KEY_SHAPES.sub(MASK, text)


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of a JSON-like value with secrets masked in every string and credential field."""
    secrets = secret_values() if secrets is None else secrets
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {
            key: MASK if isinstance(key, str) and SECRET_FIELD.match(key) and item else redact(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, secrets) for item in value]
    return value
