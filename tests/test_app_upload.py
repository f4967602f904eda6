"""Loading a council file on the workshop page (mutualsim.app.upload), without a browser:
the handler's checks, the upload area, and the page driven through its picker widget."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

solara = pytest.importorskip("solara")
v = pytest.importorskip("ipyvuetify")

from mutualsim.app import council as app_council  # noqa: E402
from mutualsim.app import page as app_page  # noqa: E402
from mutualsim.app import upload  # noqa: E402
from mutualsim.app.settings import default_raw  # noqa: E402
from mutualsim.council import SHIPPED  # noqa: E402

EXAMPLE = (SHIPPED / "example_council.toml").read_bytes()
#: The example with its libraries' value made negative: a mistake at one key.
BAD = EXAMPLE.replace(b"annual_value_gbp = 2_283_000", b"annual_value_gbp = -5", 1)


def _info(name: str, data: bytes, size: int | None = None) -> dict:
    return {"name": name, "size": len(data) if size is None else size,
            "file_obj": io.BytesIO(data)}


@pytest.fixture
def area(tmp_path: Path) -> upload.UploadArea:
    return upload.UploadArea(tmp_path / "area")


def test_bad_example_edit_is_where_the_test_thinks() -> None:
    assert BAD != EXAMPLE  # the replacement found its key


def test_a_good_file_is_saved_in_the_upload_area_only(area, tmp_path: Path) -> None:
    path, message = upload.receive(_info("C:\\Users\\me\\our council.toml", EXAMPLE),
                                   None, area)
    assert message is None and path is not None
    saved = Path(path)
    assert saved.is_relative_to(area.root) and saved.name == "our council.toml"
    assert saved.read_bytes() == EXAMPLE
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files == [saved]  # nothing else written (no temporary file left behind)
    # The same contents again: the same path; other contents: another folder.
    again, _ = upload.receive(_info("our council.toml", EXAMPLE), None, area)
    assert again == path
    other, _ = upload.receive(_info("our council.toml", EXAMPLE + b"\n# edited\n"), path,
                              area)
    assert other != path and Path(other).parent != saved.parent
    # The saved file is what the council card reads.
    assert app_council.council_name(path) == "Example co-operative council"


def test_a_bad_file_keeps_the_previous_council_with_one_line(area) -> None:
    previous = "/somewhere/previous.toml"
    path, message = upload.receive(_info("/home/me/our_council.toml", BAD), previous, area)
    assert path == previous
    assert message is not None and "\n" not in message
    assert message.startswith("our_council.toml: service 'Libraries and archives'")
    assert "annual_value_gbp must be above 0 (GBP a year), got -5" in message
    assert not area.root.exists()  # nothing written for a bad file
    for data, words in ((b"[council\nname = 1", "not valid TOML"),
                        (b"\xff\xfe\x00", "not UTF-8 text"),
                        (b"[council]\nname = 'x'\nmayor = 'y'\n", "unknown key 'mayor'")):
        kept, why = upload.receive(_info("x.toml", data), previous, area)
        assert kept == previous and why is not None and why.startswith("x.toml: ")
        assert words in why, why


class _Unreadable(io.RawIOBase):
    def read(self, n: int = -1) -> bytes:  # pragma: no cover - must not be called
        raise AssertionError("a file over the limit must not be read")


def test_a_file_over_the_size_limit_is_refused_before_reading(area) -> None:
    limit = upload.MAX_UPLOAD_BYTES
    info = {"name": "huge.toml", "size": limit + 1, "file_obj": _Unreadable()}
    path, message = upload.receive(info, None, area)
    assert path is None
    assert message == f"huge.toml: council file is {limit + 1:,} bytes; at most {limit:,} allowed"
    # A browser that understates the size: the read itself is capped.
    big = b"#" * (limit + 10)
    path, message = upload.receive(_info("big.toml", big, size=10), None, area)
    assert path is None and "over" in message and "at most" in message
    assert not area.root.exists()


def test_safe_name_keeps_no_folder_part() -> None:
    assert upload.safe_name("../../etc/passwd") == "passwd.toml"
    assert upload.safe_name("C:\\x\\our.toml") == "our.toml"
    assert upload.safe_name("..toml") == "toml.toml"
    assert upload.safe_name("") == "council.toml"


@solara.component
def InLayout(child: solara.Element) -> solara.Element:
    return solara.AppLayout(children=[child])


def _wait(check, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _cards(rc, cls: str) -> list:
    """Cards whose classes include ``cls``."""
    return [w for w in rc.find(v.Card).widgets if cls in str(w.class_ or "").split()]


def test_page_loads_a_council_through_its_picker(monkeypatch, area) -> None:
    """The page without --council; a good file through the picker widget shows the council
    card; a bad one shows one line and the card of the good one stays."""
    monkeypatch.delenv(app_council.ENV, raising=False)
    raw = {**default_raw(), "councils": 30, "replications": "10"}
    monkeypatch.setattr(app_page, "default_raw", lambda: dict(raw))
    monkeypatch.setattr(upload, "upload_area", lambda: area)
    box, rc = solara.render(InLayout(app_page.Page()), handle_error=False)
    assert not _cards(rc, app_council.COUNCIL_CLASS)
    zone = rc.find(upload.CouncilDropZone).widget

    def send(name: str, data: bytes) -> None:
        """What the browser does: the widget's file list changes; the Python side then
        reads the file (here from memory instead of over the websocket)."""
        monkeypatch.setattr(upload.CouncilDropZone, "get_files",
                            lambda self, timeout=30: [_info(name, data)])
        zone.file_info = [{"name": name, "size": len(data), "lastModified": time.time()}]

    send("example_council.toml", EXAMPLE)
    _wait(lambda: len(_cards(rc, app_council.COUNCIL_CLASS)) == 1)
    card = str(_cards(rc, app_council.COUNCIL_CLASS)[0])
    assert "Your council: Example co-operative council" in card
    for words in ("Libraries and archives", "Waste collection (kept in-house)",
                  "run by its mutual after 10 years", "Expected step-in cost"):
        assert words in card, words
    assert not rc.find(v.Alert, class_=upload.UPLOAD_ERROR_CLASS).widgets

    send("our_council.toml", BAD)
    _wait(lambda: len(rc.find(v.Alert, class_=upload.UPLOAD_ERROR_CLASS).widgets) == 1)
    alert = str(rc.find(v.Alert, class_=upload.UPLOAD_ERROR_CLASS).widget.children)
    assert "our_council.toml: service 'Libraries and archives'" in alert
    assert "annual_value_gbp must be above 0" in alert
    assert "Still showing: Example co-operative council" in alert
    assert len(_cards(rc, app_council.COUNCIL_CLASS)) == 1  # the good council stays
    assert "Libraries and archives" in str(_cards(rc, app_council.COUNCIL_CLASS)[0])


def test_upload_areas_of_stopped_servers_are_removed(tmp_path: Path) -> None:
    """A server stopped by a signal leaves its area; the next one removes it, and touches
    no other folder (a live server's area, or anything not named like an area)."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(done.stdout)  # that process has ended
    stale = tmp_path / f"{upload.AREA_PREFIX}{dead}-abc"
    (stale / "0123").mkdir(parents=True)
    (stale / "0123" / "c.toml").write_text("x")
    live = tmp_path / f"{upload.AREA_PREFIX}{os.getppid()}-def"
    live.mkdir()
    other = tmp_path / "mutualsim-councils-notes"
    other.mkdir()
    area = upload.UploadArea.create(tmp_path)
    assert not stale.exists()
    assert live.exists() and other.exists()
    assert area.root.parent == tmp_path and area.root.name.startswith(
        f"{upload.AREA_PREFIX}{os.getpid()}-")
