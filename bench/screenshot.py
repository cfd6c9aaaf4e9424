"""Screenshot MLflow's Traces view of a scripted run, as `lab ui` serves it, with headless Chromium.

Usage: ``python bench/screenshot.py OUT.png [--model scripted/chaos-3] [--limit 12]``

Runs the first ``--limit`` dev scenarios into a throwaway store, starts the server `lab ui`
starts (same command and environment) on a free port, and has Chromium (Debian's ``chromium``
package, found on PATH) draw the experiment's Traces page into ``OUT.png`` and the first failed
scenario's trace, opened from that page with its assessments (expectations and the lab's
verdicts), into ``OUT-trace.png``; with ``--run-page`` also the run's page (``OUT-run.png``).
The store and server are removed afterwards.
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


# Run in the page before the screenshot: dismiss MLflow's first-visit popup, close its Assistant
# panel, and open the assessments pane of a trace ("Assess" button). True once the page is ready.
PREPARE = """(() => {
  const buttons = () => [...document.querySelectorAll('button')];
  const named = (pattern) => buttons().filter(b => pattern.test(b.textContent.trim()));
  if (named(WANTED).length === 0) return false;
  named(/^Got it$/).forEach(b => b.click());
  [...document.querySelectorAll('button[aria-label]')]
    .filter(b => /close/i.test(b.getAttribute('aria-label')))
    .filter(b => b.getBoundingClientRect().left > window.innerWidth * 0.7)
    .forEach(b => b.click());
  if (CLICK) named(/^Assess/).forEach(b => b.click());
  return true;
})()"""
# Then: unfold the folded entries of the trace's assessments pane, so their rationales show.
UNFOLD = """(() => {
  const toggles = [...document.querySelectorAll('button[data-component-id]')].filter(b =>
    /toggle-(assessment|expectation)-expanded$/.test(b.getAttribute('data-component-id')));
  toggles.forEach(b => b.click());
  return toggles.length;
})()"""


def browser_path() -> str:
    """Debian's Chromium on PATH."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("error: chromium: not on PATH (apt-get install chromium)")
    return browser


def shoot(url: str, out: Path, width: int = 1400, height: int = 900, assess: bool = False) -> None:
    """Have headless Chromium render ``url`` into ``out``, driven over the DevTools protocol: wait
    for the page's scripts, run ``PREPARE`` (``assess``: open the trace's assessments), capture."""
    import base64
    import json

    from websockets.sync.client import connect

    port = free_port()
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [browser_path(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
             f"--window-size={width},{height}", "--hide-scrollbars", f"--remote-debugging-port={port}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        try:
            page = _page_socket(port)
            with connect(page, max_size=None, open_timeout=30) as socket_:
                ids = iter(range(1, 10_000))

                def call(method: str, **params) -> dict:
                    number = next(ids)
                    socket_.send(json.dumps({"id": number, "method": method, "params": params}))
                    while True:
                        message = json.loads(socket_.recv(timeout=120))
                        if message.get("id") == number:
                            return message.get("result", {})

                call("Page.navigate", url=url)
                wanted = "/^Assess/" if assess else "/^Got it$/"
                script = PREPARE.replace("WANTED", wanted).replace("CLICK", "true" if assess else "false")
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    time.sleep(1.0)
                    if call("Runtime.evaluate", expression=script).get("result", {}).get("value"):
                        break
                time.sleep(3.0)  # let the opened panes render
                if assess:
                    call("Runtime.evaluate", expression=UNFOLD)
                    time.sleep(2.0)
                shot = call("Page.captureScreenshot", format="png")
            out.write_bytes(base64.b64decode(shot["data"]))
        finally:
            os.killpg(browser.pid, signal.SIGTERM)  # the browser and its renderers
            browser.wait(timeout=30)


def _page_socket(port: int, limit_s: float = 30) -> str:
    """The DevTools websocket address of Chromium's first page."""
    import json

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("chromium's DevTools did not answer")


def main() -> None:
    """Parse arguments, make the run, serve it, take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", default="scripted/chaos-3")
    parser.add_argument("--limit", type=int, default=12)
    parser.add_argument("--run-page", action="store_true")
    parser.add_argument("--height", type=int, default=1100, help="window height in px of the trace view")
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
        traces = f"{base}/#/experiments/{summary.experiment_id}/traces"
        shoot(traces, args.out, args.width)
        failed = [
            t["trace_id"]
            for t in tracking.run_traces(tracking.find_run(summary.run_id))
            if t["tags"].get("lab.success") == "false"
        ]
        if failed:
            trace_png = args.out.with_name(args.out.stem + "-trace.png")
            shoot(f"{traces}/{failed[0]}", trace_png, args.width, args.height, assess=True)
        if args.run_page:
            shoot(f"{base}/{summary.ui_path}", args.out.with_name(args.out.stem + "-run.png"), args.width)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"{args.out} ({summary.scenarios} scenarios of {args.model}, run {summary.run_id})")


if __name__ == "__main__":
    main()
