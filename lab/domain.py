"""A domain: what the lab is pointed at, and the registry that finds one by name or module path.

A ``Domain`` gives the lab everything that is not generic: its tool catalog (typed functions
and the Database class their state lives in: ``Catalog.new_db`` builds the state from a
scenario's fixture, ``state_hash`` digests it), the system prompts of the prompting ladder
(its policy text), its clarify vocabulary (how a clarifying question names an argument whose
name reads badly, e.g. ``{"sku": "product code (SKU)"}``), and optionally a scenario
generator. A domain's name is its catalog's name; a scenario file names the domain its
scenarios are for (``Scenario.domain``).

``load_domain(spec)`` takes a registered name (``shop`` is registered by default, as a plugin
like any other), a Python module path (``tools.shop``, ``my_company.api``, or
``module:ATTRIBUTE``) whose ``DOMAIN`` is a ``Domain``, a ``.json`` file of OpenAI tool schemas
(a schema-only domain, ``lab.schema_catalog``) or ``mcp:<command line>`` (an MCP server on
stdio, ``lab.mcp_domain``). A loaded domain is also found by its name afterwards. Nothing in
``lab/`` imports a domain module except through this loader. This module does not validate
scenarios or run anything.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from lab.errors import BadInput

if TYPE_CHECKING:
    from lab.families import Family
    from lab.toolcatalog import Database
    from lab.toolcatalog import ToolCatalog as Catalog
    from lab.types import Scenario

DEFAULT_DOMAIN = "shop"
MCP_PREFIX = "mcp:"
_REGISTERED: dict[str, str] = {
    "shop": "tools.shop",
    "telecom": "tools.telecom",
    "bfcl": "tools.bfcl",
    "bfcl_multi_turn": "tools.bfcl.multi_turn",
}
_LOADED: dict[str, Domain] = {}


class Generator(Protocol):
    """What ``lab.generate`` needs from a domain that wants generated packs.

    ``lab.generate`` picks the families per split and category, seeds one random source per
    scenario, puts the gold arguments in canonical form and checks every scenario.
    """

    def families(self) -> list[Family]:
        """The domain's phrasing families, each assigned to one split (``lab.families.families``)."""
        ...

    def draft(self, family: Family, rng: random.Random) -> Scenario:
        """One scenario of ``family`` from ``rng``: fixture, rendered user messages, gold calls
        (their arguments as written; ``lab.generate`` canonicalises them)."""
        ...

    def problems(self, scenario: Scenario, family: Family, catalog: Catalog) -> list[str]:
        """Domain checks of a generated scenario beyond ``lab.scenarios.check_scenario`` (none: [])."""
        ...


@dataclass(frozen=True)
class Domain:
    """What a domain gives the lab.

    Attributes:
        catalog: the tools and the Database class their state lives in; its name is the domain's.
        zero_shot_prompt: the one-line instruction of the ``zero_shot`` strategy.
        instructed_prompt: the system prompt (the domain's rules) of every other strategy.
        field_words: how a clarifying question names an argument, where the name itself reads
            badly; other arguments are named from their words (``order_id`` -> "order number").
        generator: the scenario generator, or None when the domain's packs are written by hand.
    """

    catalog: Catalog
    zero_shot_prompt: str
    instructed_prompt: str
    field_words: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    generator: Generator | None = None

    @property
    def name(self) -> str:
        """The domain's name, as scenario files name it."""
        return self.catalog.name

    def new_db(self, fixture: dict[str, Any]) -> Database:
        """The domain's state built from a scenario's fixture."""
        return self.catalog.new_db(fixture)


def register_domain(name: str, spec: str) -> None:
    """Make ``name`` load the domain at ``spec`` (a module path, optionally ``module:ATTRIBUTE``)."""
    _REGISTERED[name] = spec
    _LOADED.pop(name, None)


def registered_domains() -> dict[str, str]:
    """The registered names and the module paths they load."""
    return dict(_REGISTERED)


def load_domain(spec: str = DEFAULT_DOMAIN) -> Domain:
    """The domain a registered name or a module path names; loaded once per process.

    Raises:
        BadInput: at ``--domain``, when the module cannot be imported or holds no ``Domain``.
    """
    if spec in _LOADED:
        return _LOADED[spec]
    if spec.startswith(MCP_PREFIX) or (spec.endswith(".json") and spec not in _REGISTERED):
        return _remember(spec, _load_described(spec))
    target = _REGISTERED.get(spec, spec)
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        known = ", ".join(sorted(_REGISTERED))
        what = f"domain {spec!r} ({target})" if spec in _REGISTERED else f"{spec!r} (registered: {known})"
        raise BadInput("--domain", f"cannot import {what}: {exc}") from exc
    domain = getattr(module, attribute or "DOMAIN", None)
    if not isinstance(domain, Domain):
        raise BadInput("--domain", f"{target!r} has no Domain named {attribute or 'DOMAIN'}")
    return _remember(spec, domain)


def _remember(spec: str, domain: Domain) -> Domain:
    _LOADED[spec] = domain
    _LOADED.setdefault(domain.name, domain)
    return domain


def _load_described(spec: str) -> Domain:
    """A domain described by a tools file or an MCP server rather than written in Python."""
    if spec.startswith(MCP_PREFIX):
        from lab.mcp_domain import load_mcp_domain

        return load_mcp_domain(spec[len(MCP_PREFIX) :])
    from lab.schema_catalog import load_json_domain

    return load_json_domain(Path(spec))


def domain_problem(scenario_domain: str, name: str) -> str | None:
    """Why a scenario for ``scenario_domain`` cannot run on the domain ``name``, or None if they agree."""
    if scenario_domain == name:
        return None
    return f"scenario is for domain {scenario_domain} but --domain is {name}"
