"""Keep secrets out of everything the lab writes: API keys, tokens, passwords.

This is the lab's one redactor: what goes to MLflow, the results logs, the exports and a model
error message passes through it. ``redact`` walks any JSON-like value and replaces what looks
like a secret with ``[REDACTED]``: well-known key shapes (``sk-...``, ``hf_...``, ``ghp_...``,
``xoxb-...``, bearer tokens including base64 ones, AWS key ids), the literal values of
environment variables named like a secret (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``,
``*_PASSWORD``, ``AWS_SECRET_ACCESS_KEY``, ...), a credential-named ``name=value`` in text (a
model string's ``?api_key=...``), and the value of any mapping key named like a credential.
An environment secret is also found in its JSON-escaped forms (``\\"``, ``\\\\``, ``\\u00e4``,
with and without ``ensure_ascii``, and escaped twice, as in a tool call's ``arguments`` string
inside a JSON document), because tool-call arguments and tool results are JSON text before the
lab ever sees them. The regexes are compiled once per set of secrets; the environment is looked at
on every call (a copy of it compared with the last one), and its secrets are found again whenever
it changed. It does not decide where values go, and it cannot find a secret that was transformed
otherwise (encoded in base64, split, re-cased).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

MASK = "[REDACTED]"
_START = r"(?:\b|(?<=\\[nrtbf]))"  # a word start, also right after a JSON escape such as \n
KEY_SHAPES = (
    rf"{_START}(?:sk[-_][A-Za-z0-9_\-]{{8,}}|hf_[A-Za-z0-9]{{8,}}|gh[pousr]_[A-Za-z0-9]{{8,}}"
    r"|xox[abposr]-[A-Za-z0-9\-]{8,}|AKIA[0-9A-Z]{16}\b"
    r"|(?i:bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*)"  # RFC 6750 b64token: base64 and base64url
    r"|(?i:\b(?:api[_-]?key|access[_-]?token|auth[_-]?token|token|secret|password|passwd)=)[^\s&\"'\\]{6,}"
)
SECRET_ENV = re.compile(
    r"(?:^|[_\-])(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD)(?:$|[_\-])|(?:APIKEY|TOKEN|SECRET|PASSWORD|PASSWD)$",
    re.IGNORECASE,
)
SECRET_FIELD = re.compile(
    r"^(api[_-]?key|.*_api_key|access[_-]?token|auth[_-]?token|token|secret|password|"
    r"authorization|x-api-key)$",
    re.IGNORECASE,
)
# Every match of KEY_SHAPES contains a match of this; its branches all open with a literal, so
# the regex engine scans for it quickly, and strings without one skip the slower full pattern.
SHAPE_HINTS = r"sk[-_]|hf_|gh[pousr]_|xox[abposr]-|AKIA|[Bb][Ee][Aa][Rr][Ee][Rr]|="
MIN_SECRET_LEN = 6
_ESCAPE_BODY = re.compile(r"u[0-9a-fA-F]{4}|.", re.DOTALL)


def environment() -> dict[str, str]:
    """A snapshot of ``os.environ`` that other threads changing it cannot break.

    ``os.environ.items()`` and ``os.environ.copy()`` (which is ``dict(os.environ)``) both list
    the names and then look each one up; MLflow's telemetry thread sets and deletes variables
    meanwhile, so a name can vanish between the two and the lookup raises ``KeyError``. Listing
    the names is one atomic copy of the underlying dict (CPython's ``os._Environ.__iter__``), and
    ``get`` answers ``None`` for a name deleted since, which is skipped: the snapshot holds each
    variable as it was at some moment during the call, and never raises.
    """
    snapshot = {}
    for name in list(os.environ):
        value = os.environ.get(name)
        if value is not None:
            snapshot[name] = value
    return snapshot


@lru_cache(maxsize=1024)
def _secret_name(name: str) -> bool:
    return bool(SECRET_ENV.search(name))


def secret_values(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Values of environment variables whose names say they hold a secret, longest first.

    Without ``environ``: those of ``os.environ`` now. The answer is kept with a copy of the
    environment it was found in (``_raw_environment``) and given again while the environment is
    equal to that copy, so a call costs a copy and a comparison, not a scan.
    """
    global _last
    if environ is not None:
        return _secrets_in(environ)
    raw = _raw_environment()
    if raw is None:
        return _secrets_in(environment())
    last = _last
    if last is not None and last[0] == raw:
        return last[1]
    values = _secrets_in({os.environ.decodekey(k): os.environ.decodevalue(v) for k, v in raw.items()})
    _last = (raw, values)
    return values


def _raw_environment() -> dict[Any, Any] | None:
    """A copy of the dict behind ``os.environ`` (CPython keeps the encoded names and values in
    ``os.environ._data``), made by one C call under the GIL, so it is the environment as it was at
    one moment even while another thread changes it; None on a Python without that dict."""
    data = getattr(os.environ, "_data", None)
    return data.copy() if isinstance(data, dict) else None


def _secrets_in(environ: Mapping[str, str]) -> tuple[str, ...]:
    values = {v for name, v in environ.items() if len(v) >= MIN_SECRET_LEN and _secret_name(name)}
    return tuple(sorted(values, key=lambda v: (-len(v), v)))


_last: tuple[dict[Any, Any], tuple[str, ...]] | None = None  # (raw environment, its secrets)


def escaped_forms(secret: str) -> set[str]:
    """``secret`` as it appears in JSON text: raw, escaped once and twice, ASCII-only or not."""
    once = {json.dumps(secret, ensure_ascii=a)[1:-1] for a in (True, False)}
    twice = {json.dumps(form, ensure_ascii=a)[1:-1] for form in once for a in (True, False)}
    return {secret} | once | twice


@dataclass(frozen=True)
class _Redactor:
    """The compiled regexes for one set of secrets: ``pattern`` masks, ``trigger`` (a quick scan
    that every match of ``pattern`` contains) says whether ``pattern`` need run at all."""

    trigger: re.Pattern[str]
    pattern: re.Pattern[str]

    def text(self, value: str) -> str:
        return self.pattern.sub(_mask, value) if self.trigger.search(value) else value


@lru_cache(maxsize=64)
def _redactor(secrets: tuple[str, ...]) -> _Redactor:
    """The regexes for a set of secrets: every escaped form, longest first, then the key shapes."""
    forms = sorted({form for secret in secrets for form in escaped_forms(secret)}, key=lambda f: (-len(f), f))
    literals = [re.escape(form) for form in forms]
    trigger = re.compile("|".join([*literals, SHAPE_HINTS]))
    return _Redactor(trigger, re.compile("|".join([*literals, KEY_SHAPES])))


def _mask(match: re.Match[str]) -> str:
    """The mask for one match; a match that starts inside a JSON escape (after an odd run of
    backslashes) keeps that escape's body, so masked JSON text still parses."""
    text, start = match.string, match.start()
    first = start
    while first > 0 and text[first - 1] == "\\":
        first -= 1
    if (start - first) % 2 == 0:
        return MASK
    body = _ESCAPE_BODY.match(match.group())
    return (body.group() if body else "") + MASK


def _compiled(secrets: Sequence[str] | None) -> _Redactor:
    return _redactor(secret_values() if secrets is None else tuple(secrets))


def redact_text(text: str, secrets: Sequence[str] | None = None) -> str:
    """``text`` with every secret-looking substring replaced by ``[REDACTED]``.

    ``secrets`` defaults to the secrets of the environment now (see ``secret_values``).
    """
    return _compiled(secrets).text(text)


def redact(value: Any, secrets: Sequence[str] | None = None) -> Any:
    """A copy of a JSON-like value with secrets masked in every string and credential field."""
    return _walk(value, _compiled(secrets))


@lru_cache(maxsize=4096)
def _secret_field(key: str) -> bool:
    return bool(SECRET_FIELD.match(key))


def _walk(value: Any, redactor: _Redactor) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {
            key: MASK if isinstance(key, str) and item and _secret_field(key) else _walk(item, redactor)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_walk(item, redactor) for item in value]
    return value
