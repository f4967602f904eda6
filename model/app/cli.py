"""``mutualsim app``: serve the workshop page with Solara's server.

On the first start after an install the kernel is compiled first, in a child process
(:mod:`mutualsim.app.warmup`), so the page does not sit at "Loading app" while its first
request compiles; "serving on ..." is printed once the server accepts connections. The
server runs in a child process that lives exactly as long as this command: SIGINT,
SIGTERM and SIGHUP are passed on to it (and it is killed if it has not ended a few seconds
later), and on Linux the kernel ends it if this process dies any other way (SIGKILL). The
server makes no network call of its own: Solara's check for a newer release and its usage
statistics are switched off, its "runs on Solara" badge is hidden (it covered a chart),
and its per-connection cookie warning (meant for pages embedded
over https) is silenced.
"""

from __future__ import annotations

import argparse
import ctypes
import ipaddress
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
APP = "mutualsim.app.page"
STOP_SECONDS = 10.0  # how long the server may take to stop before it is killed
READY_POLL_SECONDS = 0.2  # how often to try the port until the server accepts connections
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Printed by solara.server.starlette on every page load over plain http from any host name
# but "localhost" (about embedding in iframes, which this page is not made for).
COOKIE_WARNING = ("ignore:Cookies with samesite=none require https:UserWarning:"
                  "solara.server.starlette")
# Solara's settings (pydantic, prefixes SOLARA_TELEMETRY_, SOLARA_THEME_): no usage
# statistics sent out; no "This website runs on Solara" badge over the page's content.
QUIET_ENV = {"MPLBACKEND": "Agg", "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
             "SOLARA_THEME_SHOW_BANNER": "False"}


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
                    "--host is given; the page has no authentication, so anyone who can "
                    "reach the address can use it. Needs the 'app' extra: "
                    "pip install -e '.[app]'.")
    app.add_argument("--host", default=DEFAULT_HOST,
                     help=f"address to listen on (default {DEFAULT_HOST}; 0.0.0.0 serves the "
                          "whole network, without authentication)")
    app.add_argument("--port", type=_port, default=DEFAULT_PORT,
                     help=f"port to listen on (default {DEFAULT_PORT})")
    app.add_argument("--council", default=None, metavar="FILE",
                     help="also show your own council's services: a council TOML file "
                          "(docs/WORKSHOP.md) or the name of a shipped one "
                          "(example_council)")
    app.set_defaults(func=cmd_app)


def solara_command(host: str, port: int) -> list[str]:
    """The server command line (Solara's own CLI, run with this Python): production mode, no
    browser opened, no check for a newer Solara, the cookie warning silenced."""
    return [sys.executable, "-W", COOKIE_WARNING, "-m", "solara", "run", APP,
            "--host", host, "--port", str(port), "--production", "--no-open",
            "--no-check-version"]


def warmup_command() -> list[str]:
    """The command that compiles the kernel into its disk cache before the server starts
    (:mod:`mutualsim.app.warmup`)."""
    return [sys.executable, "-m", "mutualsim.app.warmup"]


def server_environment() -> dict[str, str]:
    """This process's environment plus the settings that keep the server quiet and offline."""
    return {**os.environ, **QUIET_ENV}


def is_local(host: str) -> bool:
    """True if ``host`` is reachable from this machine only (a loopback name or address)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _die_with_parent(parent: int) -> Callable[[], None]:
    """``preexec_fn`` for the server: the kernel sends it SIGTERM when ``parent`` dies."""
    def setup() -> None:
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not Linux
            pass
        if os.getppid() != parent:  # died before prctl took effect
            os._exit(1)
    return setup


def run_server(command: list[str], env: dict[str, str],
               ready: Callable[[], bool] | None = None,
               on_ready: Callable[[], None] | None = None) -> int:
    """Run ``command`` as a child that ends with this process; its exit status, or 128+N
    when this process was stopped by signal N. With ``ready``, polled every
    :data:`READY_POLL_SECONDS` while the child runs, ``on_ready()`` is called once
    ``ready()`` is true (the server accepts connections)."""
    proc = subprocess.Popen(command, env=env, process_group=0,
                            preexec_fn=_die_with_parent(os.getpid()))
    received: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        received.append(signum)
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    try:
        if ready is not None:
            while proc.poll() is None and not received and not ready():
                time.sleep(READY_POLL_SECONDS)
            if proc.poll() is None and not received and on_ready is not None:
                on_ready()
        while True:
            try:
                status = proc.wait(timeout=STOP_SECONDS if received else None)
                break
            except subprocess.TimeoutExpired:
                proc.kill()  # asked to stop and still running: no longer asking
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if proc.poll() is None:  # an error in this function: never leave the server behind
            proc.kill()
            proc.wait()
    return 128 + received[0] if received else status


def cmd_app(args: argparse.Namespace) -> int:
    """Run the server until interrupted; its exit status is ours."""
    from ..errors import InputError
    try:
        import solara  # noqa: F401
    except ModuleNotFoundError:
        raise InputError("needs Solara, the page's part: install mutualsim with [app], e.g. "
                         "pipx install --force \"./mutualsim[app]\" (docs/WORKSHOP.md) or "
                         "python3 -m pip install -e '.[app]'", source="app") from None
    from ..preflight import accepting, check_listen
    env = server_environment()
    if getattr(args, "council", None) is not None:
        from ..council import load_council
        from .council import ENV
        council = load_council(args.council)  # bad file: one line, before the server starts
        env[ENV] = os.path.abspath(council.path)
        print(f"mutualsim app: your council: {council.name} ({len(council.services)} "
              f"services, {council.path})", flush=True)
    check_listen(args.host, args.port)  # bad host, foreign address, port in use: one line
    from ..kernel import needs_compiling
    if needs_compiling():  # first start after an install: compile before serving
        status = run_server(warmup_command(), env)
        if status != 0:
            return status
    where = " (all interfaces)" if args.host in ("0.0.0.0", "::") else ""
    print(f"mutualsim app: starting the page server on port {args.port} ...", flush=True)

    def serving() -> None:
        print(f"mutualsim app: serving on http://{args.host}:{args.port}/{where}: open it in "
              "a browser (Ctrl+C to stop)", flush=True)
        if not is_local(args.host):
            print(f"mutualsim app: warning: the page has no authentication; anyone who can "
                  f"reach {args.host}:{args.port} can use it", flush=True)

    try:
        return run_server(solara_command(args.host, args.port), env,
                          ready=lambda: accepting(args.host, args.port), on_ready=serving)
    finally:
        # Council files loaded on the page live in the server's own temporary folder; a
        # server stopped by a signal cannot remove it itself, so remove it once it ended.
        import tempfile
        from pathlib import Path

        from .upload import remove_stale_areas
        remove_stale_areas(Path(tempfile.gettempdir()))
