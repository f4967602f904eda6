"""``mutualsim app``: serve the workshop page with Solara's server."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "mutualsim.app.page"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a port number 1-65535, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number 1-65535, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` subcommand."""
    app = subparsers.add_parser(
        "app", help="serve the interactive workshop page in a browser",
        description="Serve the workshop page (Solara): policy controls, survival against the "
                    "baseline and one replication as agents. Binds to 127.0.0.1 unless "
                    "--host is given. Needs the 'app' extra: pip install -e '.[app]'.")
    app.add_argument("--host", default=DEFAULT_HOST,
                     help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 serves the "
                          "whole network)")
    app.add_argument("--port", type=_port, default=DEFAULT_PORT,
                     help=f"port to listen on (default {DEFAULT_PORT})")
    app.set_defaults(func=cmd_app)


def solara_command(host: str, port: int) -> list[str]:
    """The server command line (Solara's own CLI, run with this Python)."""
    return [sys.executable, "-m", "solara", "run", APP, "--host", host, "--port", str(port),
            "--production", "--no-open"]


def cmd_app(args: argparse.Namespace) -> int:
    """Run the server until interrupted; its exit status is ours."""
    from ..errors import InputError
    try:
        import solara  # noqa: F401
    except ModuleNotFoundError:
        raise InputError("needs Solara; install with: python3 -m pip install -e '.[app]'",
                         source="app") from None
    from ..preflight import check_listen
    check_listen(args.host, args.port)  # bad host, foreign address, port in use: one line
    where = " (all interfaces)" if args.host in ("0.0.0.0", "::") else ""
    print(f"mutualsim app: serving on http://{args.host}:{args.port}/{where} (Ctrl+C to stop)",
          flush=True)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.call(solara_command(args.host, args.port), env=env)
