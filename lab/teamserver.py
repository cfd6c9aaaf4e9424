"""A team's MLflow server on this machine: PostgreSQL for the store, `mlflow server` in front of it.

``start`` makes (once) and starts a PostgreSQL cluster in ``FOLDER/pg`` listening on 127.0.0.1,
creates the ``mlflow`` database, and starts ``mlflow server`` on 127.0.0.1 with that database as
its backend store and ``FOLDER/artifacts`` as the artifact store it serves; it returns once the
server answers ``/health``. ``stop`` stops both. PostgreSQL comes from Debian's ``postgresql``
package (installed with apt-get when it is missing and this process is root); as root, the
cluster runs under the package's own ``postgres`` user, since PostgreSQL refuses to run as root.
Point the lab at the server with ``MLFLOW_TRACKING_URI=http://127.0.0.1:PORT``.

This module does not import mlflow (it runs ``mlflow server`` as a process) and is not meant to
face the internet: both servers listen on the loopback address only and trust local connections.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lab.errors import BadInput

PG_PORT, MLFLOW_PORT = 5433, 5001
HOST = "127.0.0.1"
DATABASE = "mlflow"
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class TeamServer:
    """Where a started team server lives and how to reach it."""

    folder: Path
    pg_port: int
    port: int

    @property
    def tracking_uri(self) -> str:
        """The ``MLFLOW_TRACKING_URI`` of the server."""
        return f"http://{HOST}:{self.port}"

    @property
    def backend_uri(self) -> str:
        """The PostgreSQL database behind the server."""
        return f"postgresql://postgres@{HOST}:{self.pg_port}/{DATABASE}"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL server's ``bin`` folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def ensure_postgres() -> Path:
    """PostgreSQL's ``bin`` folder, installing Debian's package first if missing and permitted.

    Raises:
        BadInput: at ``postgresql`` when it is missing and cannot be installed here.
    """
    found = postgres_bin()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise BadInput("postgresql", "not installed; install Debian's package `postgresql` (as root)")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update"], check=False, env=env, **quiet)
    done = subprocess.run(["apt-get", "install", "-y", "postgresql"], check=False, env=env, **quiet)
    found = postgres_bin()
    if done.returncode != 0 or found is None:
        raise BadInput("postgresql", "`apt-get install -y postgresql` failed; install it by hand")
    return found


def _as_owner(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` user when this process is root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def start_postgres(folder: Path, port: int) -> None:
    """Initialise (once) and start the cluster in ``folder/pg`` on 127.0.0.1:``port``."""
    bin_dir = ensure_postgres()
    data = folder / "pg"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        _own(data)
        _check(_as_owner([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]), data)
    log = data / "server.log"
    options = f"-h {HOST} -p {port} -k {data}"
    _check(
        _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"]),
        log,
    )
    exists = subprocess.run(
        _as_owner(
            [
                str(bin_dir / "psql"),
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                "postgres",
                "-tAc",
                f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'",
            ]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    if exists.stdout.strip() != "1":
        _check(
            _as_owner([str(bin_dir / "createdb"), "-h", HOST, "-p", str(port), "-U", "postgres", DATABASE]),
            log,
        )


def _check(command: list[str], where: Path) -> None:
    """Run a PostgreSQL tool; its last line of output becomes the error when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise BadInput(str(where), f"PostgreSQL failed: {last[0]}")


def start_mlflow(server: TeamServer) -> subprocess.Popen:
    """Start ``mlflow server`` on the cluster's database; returns once it answers ``/health``."""
    artifacts = server.folder / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        HOST,
        "--port",
        str(server.port),
        "--workers",
        "1",
        "--backend-store-uri",
        server.backend_uri,
        "--artifacts-destination",
        artifacts.resolve().as_uri(),
    ]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    log = (server.folder / "mlflow.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=log, env=env, start_new_session=True)
    (server.folder / "mlflow.pid").write_text(str(process.pid))
    wait_healthy(server, process)
    return process


def wait_healthy(server: TeamServer, process: subprocess.Popen | None = None) -> None:
    """Wait until the server answers ``/health``.

    Raises:
        BadInput: at the server's log when it exits or does not answer in time.
    """
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{server.tracking_uri}/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise BadInput(str(server.folder / "mlflow.log"), "mlflow server did not start; see this log")


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) != 0


def start(folder: Path, pg_port: int = PG_PORT, port: int = MLFLOW_PORT) -> TeamServer:
    """Start PostgreSQL and the MLflow server in ``folder`` (made if missing).

    Raises:
        BadInput: at an option when its port is taken; at a log file when a server fails to start.
    """
    for option, value in (("--pg-port", pg_port), ("--port", port)):
        if not port_free(value):
            raise BadInput(option, f"port {value} on {HOST} is in use; choose another or stop what holds it")
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # the postgres user must reach its data folder inside
    server = TeamServer(folder=folder, pg_port=pg_port, port=port)
    (folder / "ports").write_text(f"{pg_port} {port}\n")
    start_postgres(folder, pg_port)
    start_mlflow(server)
    return server


def stop_mlflow(folder: Path) -> None:
    """Stop the MLflow server started in ``folder`` (its whole process group), if it runs."""
    pid_file = folder / "mlflow.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)


def stop(folder: Path) -> None:
    """Stop the MLflow server and PostgreSQL started in ``folder``; the data stays."""
    folder = folder.resolve()
    stop_mlflow(folder)
    bin_dir, data = postgres_bin(), folder / "pg"
    if bin_dir is not None and (data / "postmaster.pid").exists():
        subprocess.run(
            _as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )
