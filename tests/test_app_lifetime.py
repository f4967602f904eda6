"""``mutualsim app``: its server ends with it, makes no network call and prints no noise."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from processes import command_line, descendants, wait_gone

from mutualsim.app import cli as app_cli
from mutualsim.cli import main

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Trap:
    """A local 'proxy' that counts connections: every outbound HTTP(S) request made through
    the proxy variables reaches it instead of the internet."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


# A first start after an install (or an edit of the kernel) compiles the kernel before the
# server starts (mutualsim.app.warmup): about two minutes here.
def wait_until_served(url: str, proc: subprocess.Popen, timeout: float = 360.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited with status {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    raise AssertionError(f"{url} not served within {timeout:.0f} s")


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow  # starts the Solara server: ~10-30 s
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_stopping_the_app_stops_its_server_and_it_stays_offline_and_quiet(tmp_path, stop):
    pytest.importorskip("solara")
    port = free_port()
    trap = Trap()
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy",)}
    env.update({"HTTP_PROXY": trap.url, "HTTPS_PROXY": trap.url, "ALL_PROXY": trap.url,
                "http_proxy": trap.url, "https_proxy": trap.url})
    log_path = tmp_path / "app.log"
    children: list[int] = []
    with log_path.open("w") as log:
        app = subprocess.Popen([sys.executable, "-m", "mutualsim", "app", "--port", str(port)],
                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
                               start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_until_served(url, app)
            for _ in range(2):  # two page loads (each printed a cookie warning before)
                with urllib.request.urlopen(url, timeout=30) as response:
                    assert response.status == 200
            time.sleep(1.0)  # time for any background call home to be attempted
            children = descendants(app.pid)
            assert any("solara" in command_line(p) for p in children), children
            os.kill(app.pid, stop)
            app.wait(timeout=30)
            left = wait_gone(children, timeout=STOP_WAIT)
            assert left == [], [command_line(p) for p in left]
            assert not listening(port)
        finally:
            for pid in [app.pid, *children]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            app.wait()
            trap.close()
    assert app.returncode in (128 + stop, -stop)
    text = log_path.read_text()
    assert "samesite" not in text.lower(), text
    assert "New version of Solara" not in text, text
    assert "Traceback" not in text, text
    assert trap.connections == 0, "the server tried to reach the network"


STOP_WAIT = app_cli.STOP_SECONDS + 2.0  # the server's graceful stop, bounded by the command


@pytest.mark.parametrize(("host", "warned"), [("0.0.0.0", True), ("::", True),
                                              ("192.168.1.4", True), ("127.0.0.1", False),
                                              ("localhost", False), ("::1", False)])
def test_serving_beyond_this_machine_says_there_is_no_authentication(monkeypatch, capsys,
                                                                      host, warned):
    pytest.importorskip("solara")
    calls = []
    # Only the notice is under test here: 192.168.1.4 is not this machine's address, which
    # the pre-flight check (tested in test_bad_input.py) would rightly refuse.
    monkeypatch.setattr("mutualsim.preflight.check_listen", lambda host, port: None)
    monkeypatch.setattr("mutualsim.kernel.needs_compiling", lambda: False)

    def run_server(command, env, ready=None, on_ready=None):
        calls.append((command, env))
        on_ready()                      # the server answers
        return 0

    monkeypatch.setattr(app_cli, "run_server", run_server)
    assert main(["app", "--host", host, "--port", "8999"]) == 0
    out = capsys.readouterr().out
    assert ("no authentication" in out) is warned, out
    assert "serving on http://" in out
    (command, env), = calls
    assert "--no-check-version" in command and env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == \
        "False"


@pytest.mark.parametrize("compiled", [True, False])
def test_a_first_start_compiles_before_the_server_starts(monkeypatch, capsys, compiled):
    """With no up-to-date kernel cache (first start after an install) the kernel is compiled
    in a child process first, so the page does not sit at "Loading app" while its first
    request compiles; a failed compile starts no server."""
    pytest.importorskip("solara")
    monkeypatch.setattr("mutualsim.preflight.check_listen", lambda host, port: None)
    monkeypatch.setattr("mutualsim.kernel.needs_compiling", lambda: not compiled)
    calls = []

    def run_server(command, env, ready=None, on_ready=None):
        calls.append(command)
        if on_ready is not None:
            on_ready()
        return 0

    monkeypatch.setattr(app_cli, "run_server", run_server)
    assert main(["app", "--port", "8999"]) == 0
    servers = [c for c in calls if "solara" in c]
    assert len(servers) == 1 and calls[-1] is servers[0]
    assert (calls[0] == app_cli.warmup_command()) is (not compiled)
    assert len(calls) == (1 if compiled else 2)
    assert "serving on" in capsys.readouterr().out
    calls.clear()
    monkeypatch.setattr(app_cli, "run_server",
                        lambda command, env, ready=None, on_ready=None: calls.append(command)
                        or 3)
    if not compiled:
        assert main(["app", "--port", "8999"]) == 3        # the compile failed
        assert calls == [app_cli.warmup_command()]
        assert "serving on" not in capsys.readouterr().out


def test_serving_on_is_said_once_the_server_answers_and_not_if_it_ends_first():
    """run_server polls ``ready`` while the child runs and calls ``on_ready`` once it is
    true; a child that ends before it answers never gets "serving on"."""
    polls, said = [], []

    def ready():
        polls.append(1)
        return len(polls) >= 3

    child = [sys.executable, "-c", "import time; time.sleep(2)"]
    assert app_cli.run_server(child, dict(os.environ), ready, lambda: said.append(1)) == 0
    assert len(polls) == 3 and said == [1]
    polls.clear()
    quick = [sys.executable, "-c", "pass"]
    assert app_cli.run_server(quick, dict(os.environ), lambda: False,
                              lambda: said.append(2)) == 0
    assert said == [1]


def test_the_warmup_compiles_what_the_page_calls(tmp_path):
    """python -m mutualsim.app.warmup exits 0 and leaves the kernel's cache up to date."""
    done = subprocess.run([sys.executable, "-m", "mutualsim.app.warmup"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    from mutualsim.kernel import needs_compiling
    assert not needs_compiling()


def test_the_cookie_warning_filter_matches_solaras_warning():
    """The -W filter silences exactly Solara's cookie warning, and nothing else."""
    code = ("import warnings\n"
            "warnings.warn_explicit('Cookies with samesite=none require https, but', "
            "UserWarning, 'starlette.py', 1, module='solara.server.starlette')\n"
            "warnings.warn_explicit('something else', UserWarning, 'starlette.py', 2, "
            "module='solara.server.starlette')\n")
    done = subprocess.run([sys.executable, "-W", app_cli.COOKIE_WARNING, "-c", code],
                          capture_output=True, text=True, check=True)
    assert "samesite" not in done.stderr and "something else" in done.stderr
    assert done.stderr.count("UserWarning") == 1
