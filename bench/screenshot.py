"""Screenshot MLflow's Traces view of a scripted run, as `lab ui` serves it, with headless Chromium.

Usage: ``python bench/screenshot.py OUT.png [--model scripted/chaos-3] [--limit 12]``

Runs the first ``--limit`` dev scenarios into a throwaway store, starts the server `lab ui`
starts (same command and environment) on a free port, and has Chromium (Debian's ``chromium``
package, found on PATH) draw the experiment's Traces page into ``OUT.png``; with ``--run-page``
also the run's page next to it (``OUT-run.png``). The store and server are removed afterwards.
It does not check what the page shows: it is for a person to look at.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, limit_s: float = 180) -> None:
    """Return once ``url``/health answers 200; raise if the server exits or takes too long."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
        if server.poll() is not None:
            raise RuntimeError("the mlflow server exited")
    raise RuntimeError(f"the mlflow server did not answer within {limit_s:.0f} s")


def shoot(url: str, out: Path, width: int = 1400, height: int = 900) -> None:
    """Have headless Chromium render ``url`` (waiting for its scripts) into ``out``."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("error: chromium: not on PATH (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "--virtual-time-budget=20000", "--hide-scrollbars",
             f"--screenshot={out}", url],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip


def main() -> None:
    """Parse arguments, make the run, serve it, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="scripted/chaos-3")
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--run-page", action="store_true")
    parser.add_argument(
        "--width", type=int, default=2000, help="window width in px (the table scrolls sideways)"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="lab-screenshot-"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder}/mlflow.db"
    from lab import tracking
    from lab.run import RunConfig, run_suite

    summary = run_suite(
        RunConfig(
            model=args.model, strategy="zero_shot", suite=ROOT / "scenarios" / "dev.jsonl", limit=args.limit
        )
    )
    port = free_port()
    server = subprocess.Popen(
        tracking.ui_command("127.0.0.1", port), env=tracking.ui_env(), cwd=folder,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        shoot(f"{base}/#/experiments/{summary.experiment_id}/traces", args.out, args.width)
        if args.run_page:
            shoot(f"{base}/{summary.ui_path}", args.out.with_name(args.out.stem + "-run.png"), args.width)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.out} ({summary.scenarios} scenarios of {args.model}, run {summary.run_id})")


if __name__ == "__main__":
    main()
