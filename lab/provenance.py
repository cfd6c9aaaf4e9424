"""Where a run came from: the params that pin down what ran, on which code and libraries.

``run_params`` is what lab/run.py logs for a suite run; ``git_sha`` and ``versions`` are
reusable by other stages. Nothing here runs or scores anything.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lab.run import RunConfig

PACKAGES = ("toolcall-lab", "mlflow", "litellm", "langgraph", "transformers", "torch", "pydantic", "peft")


def run_params(config: RunConfig, sha: str, scenarios: int) -> dict[str, Any]:
    """The params of a suite run: what ran, on what, with which code and libraries."""
    retry = config.settings.retry
    prompt = config.system_prompt
    return {
        "model": config.model,
        "strategy": config.strategy,
        "suite": str(config.suite),
        "suite_sha256": sha,
        "seed": config.seed,
        "trials": config.trials,
        "limit": config.limit,
        "concurrency": config.concurrency,
        "scenarios": scenarios,
        "domain": config.domain,
        "system_prompt": str(prompt) if prompt else "",
        "prompt": config.prompt or "full",
        "max_steps": config.settings.max_steps,
        "timeout_s": config.settings.timeout_s,
        "retries": retry.max_retries,
        "retry_base_delay_s": retry.base_delay_s,
        "git_sha": git_sha(),
        "python": sys.version.split()[0],
        **versions(),
    }


def versions() -> dict[str, str]:
    """``version.<package>`` of the lab and the libraries that shape its results."""
    found = {}
    for package in PACKAGES:
        try:
            found[f"version.{package}"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[f"version.{package}"] = "not installed"
    return found


def git_sha() -> str:
    """The lab's git commit, with ``+dirty`` when tracked files differ from it; "unknown" outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (
        sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "") if sha.returncode == 0 else "unknown"
    )
