"""`lab team-server start|stop`: a team's MLflow server on PostgreSQL, on this machine (lab/teamserver.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from lab.cli.common import JSON_OPTION, emit

app = typer.Typer(no_args_is_help=True, help=__doc__.splitlines()[0])
FOLDER_OPTION = typer.Option(Path(".team-server"), "--dir", help="Folder of the database and artifacts.")


@app.command("start")
def start_command(
    folder: Path = FOLDER_OPTION,
    pg_port: int = typer.Option(5433, "--pg-port", help="PostgreSQL's port on 127.0.0.1."),
    port: int = typer.Option(5001, "--port", help="The MLflow server's port on 127.0.0.1."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start PostgreSQL and an MLflow server on it; print the MLFLOW_TRACKING_URI to use."""
    from lab import teamserver

    server = teamserver.start(folder, pg_port=pg_port, port=port)
    if as_json:
        emit({"tracking_uri": server.tracking_uri, "backend": server.backend_uri, "dir": str(server.folder)})
    else:
        print(f"export MLFLOW_TRACKING_URI={server.tracking_uri}")


@app.command("stop")
def stop_command(folder: Path = FOLDER_OPTION) -> None:
    """Stop the MLflow server and PostgreSQL started in --dir; their data stays."""
    from lab import teamserver

    teamserver.stop(folder)
