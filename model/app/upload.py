"""Loading a council file on the page: a drop zone that is also a file picker.

A facilitator drops their council file (the TOML that ``mutualsim app --council FILE`` and
``compare --council FILE`` take, :mod:`mutualsim.council`) on the page, or clicks to choose
it. :func:`receive` checks it in memory with the same checks as the command line, so a bad
file gives the same one line naming the file, the service and the key (with what is
allowed), and the page keeps the council it had. A good file is saved, under a name made of
its content's hash, into a temporary folder the server creates for itself
(:class:`UploadArea`, removed when the server stops): nothing is written anywhere else, and
the council card's cache (keyed on the path) can never mix two versions of a file.

The browser part is Solara's drop zone (``solara.FileDrop``, whose widget reads the file
from the browser in chunks) with an ``<input type="file">`` added, so the zone can be
clicked as well as dropped on (Solara's own zone takes drops only).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any, BinaryIO

import solara
import traitlets
from ipyvuetify.extra import FileInput

from ..council import CouncilFile, council_from_mapping
from ..errors import InputError
from ..params import MAX_TOML_BYTES, check_text_size, decode_text, parse_toml

#: Largest council file the page takes: the command line's limit for any TOML file.
MAX_UPLOAD_BYTES = MAX_TOML_BYTES
PICKER_CLASS = "mutualsim-council-picker"
PICKER_INPUT_CLASS = "mutualsim-council-file"
UPLOAD_ERROR_CLASS = "mutualsim-upload-error"

#: The drop zone: Solara's (solara/components/file_drop.vue, Vue 3), plus a hidden file
#: input inside the ``<label>``, so a click opens the browser's file chooser. Either way
#: the chosen file goes into ``native_file_info``, which ``jupyter_read`` (called by the
#: Python side, ipyvuetify's ``ClientSideFile``) sends back in chunks.
TEMPLATE = """
<template>
  <label ref="dropzone" class="mutualsim-council-picker" title="Drop your council file
here, or click to choose it">
    <input type="file" accept=".toml,text/plain,application/toml"
           class="mutualsim-council-file" style="display: none" @change="picked" />
    <span class="mutualsim-picker-label">{{ label }}</span>
    <span v-if="file_info && file_info.length > 0" class="mutualsim-picker-name">
      (last file: {{ file_info[0].name }})</span>
  </label>
</template>

<script>
export default {
  mounted() {
    this.chunk_size = 1024 * 1024;
    this.$refs.dropzone.addEventListener('dragover', event => { event.preventDefault(); });
    this.$refs.dropzone.addEventListener('drop', event => {
      event.preventDefault();
      this.use([...event.dataTransfer.files]);
    });
  },
  methods: {
    picked(event) {
      this.use([...event.target.files]);
      event.target.value = '';  /* the same file may be chosen again after an edit */
    },
    use(files) {
      if (files.length === 0) return;
      this.native_file_info = files.slice(0, 1);
      this.file_info = this.native_file_info.map(
        ({name, size, lastModified}) => ({name, size, lastModified, isFile: true}));
    },
    jupyter_clear() {
      this.native_file_info = [];
      this.file_info = [];
    },
    jupyter_read(chunk) {
      const {id, file_index, offset, length} = chunk;
      let to_do = length;
      let sub_offset = offset;
      (async () => {
        while (to_do > 0) {
          const sub_length = Math.min(to_do, this.chunk_size);
          const file = this.native_file_info[file_index];
          const buff = await file.slice(sub_offset, sub_offset + sub_length).arrayBuffer();
          this.upload({id, file_index, offset: sub_offset, length: sub_length}, [buff]);
          to_do -= sub_length;
          sub_offset += sub_length;
        }
      })();
    }
  }
};
</script>

<style id="mutualsim-council-picker">
.mutualsim-council-picker { display: block; cursor: pointer; border: 2px dashed #0072B2;
  border-radius: 6px; padding: 10px; margin: 6px 0; font-size: 16px; color: #0072B2; }
.mutualsim-council-picker:hover { background: #eef6fb; }
.mutualsim-picker-name { color: #444; font-size: 14px; word-break: break-all; }
</style>
"""


class CouncilDropZone(FileInput):
    """ipyvuetify's file input widget (chunked reads from the browser) with the template
    above: one file, dropped or chosen."""

    template = traitlets.Unicode(TEMPLATE).tag(sync=True)
    label = traitlets.Unicode().tag(sync=True)
    multiple = traitlets.Bool(False).tag(sync=True)


AREA_PREFIX = "mutualsim-councils-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: alive
        return True
    return True


def remove_stale_areas(base: Path) -> list[Path]:
    """Remove upload areas under ``base`` left by servers that have stopped (their name
    carries the server's process id; a server stopped by a signal does not run its exit
    handlers). Only this user's folders of that exact name pattern are touched."""
    removed = []
    for old in base.glob(f"{AREA_PREFIX}*-*"):
        pid_text = old.name.removeprefix(AREA_PREFIX).split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            mine = old.is_dir() and not old.is_symlink() and old.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and not _alive(int(pid_text)):
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    return removed


@dataclass
class UploadArea:
    """A temporary folder the server owns (``mutualsim-councils-<pid>-...`` in the system's
    temporary folder); council files loaded on the page go here, each as
    ``<sha256 prefix>/<its own file name>``. Removed at exit, and by the next server if
    this one was stopped by a signal."""

    root: Path

    @classmethod
    def create(cls, base: Path | None = None) -> UploadArea:
        base = Path(base) if base is not None else Path(tempfile.gettempdir())
        remove_stale_areas(base)
        root = Path(tempfile.mkdtemp(prefix=f"{AREA_PREFIX}{os.getpid()}-", dir=base))
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        return cls(root)

    def save(self, name: str, data: bytes) -> Path:
        """Write ``data`` atomically as ``name`` in a folder named by its hash; the same
        contents give the same path (and are not written twice)."""
        folder = self.root / hashlib.sha256(data).hexdigest()[:16]
        path = folder / name
        if path.exists():
            return path
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path


@lru_cache(maxsize=1)
def upload_area() -> UploadArea:
    """This server's upload area (created on the first upload)."""
    return UploadArea.create()


def safe_name(name: str) -> str:
    """The browser's file name without any folder part, as a ``.toml`` file name."""
    base = PurePath(str(name).replace("\\", "/")).name.strip() or "council.toml"
    base = "".join(c if c.isalnum() or c in "._- " else "_" for c in base).lstrip(".")
    return base if base.endswith(".toml") else f"{base or 'council'}.toml"


def check_upload(name: str, size: int, read: Callable[[int], bytes]) -> tuple[CouncilFile,
                                                                             bytes]:
    """Check an uploaded council file as ``load_council`` checks one on disk; every error
    names the file by the name it has on the user's machine. ``read(n)`` reads at most
    ``n`` bytes; it is not called for a file over :data:`MAX_UPLOAD_BYTES`."""
    shown = PurePath(str(name).replace("\\", "/")).name or "council file"
    check_text_size(size, "council", shown, MAX_UPLOAD_BYTES)
    data = read(MAX_UPLOAD_BYTES + 1)
    mapping = parse_toml(decode_text(data, "council", shown, MAX_UPLOAD_BYTES), shown)
    return council_from_mapping(mapping, shown), data


def receive(info: dict[str, Any], current: str | None,
            area: UploadArea | None = None) -> tuple[str | None, str | None]:
    """An uploaded file (Solara's ``FileInfo``: ``name``, ``size``, ``file_obj``) -> (the
    council path the page shows next, a message). A good file: its path in the upload area
    and no message. A bad one: ``current`` (the page keeps its council) and one line."""
    file_obj: BinaryIO = info["file_obj"]
    try:
        council, data = check_upload(info.get("name", ""), int(info.get("size", 0)),
                                     file_obj.read)
    except InputError as err:
        return current, str(err)
    except Exception as err:  # noqa: BLE001 - e.g. the browser went away mid-upload
        return current, f"{info.get('name', 'council file')}: could not be read ({err})"
    path = (area or upload_area()).save(safe_name(info.get("name", "")), data)
    return str(path), None


@solara.component
def CouncilPicker(on_file: Callable[[dict[str, Any]], None],
                  label: str = "Load your council file: drop it here, or click to choose "
                               "it (.toml)") -> solara.Element:
    """The drop zone/picker; ``on_file`` gets the file (name, size, a readable
    ``file_obj``) in a worker thread, as Solara's ``FileDrop`` does."""
    file_info, set_file_info = solara.use_state(None)
    wired, set_wired = solara.use_state(None)
    zone = CouncilDropZone.element(label=label, on_file_info=set_file_info)

    def wire() -> None:
        if not file_info:
            return
        real = solara.get_widget(zone)
        real.version += 1  # as solara's FileDrop: a fresh read for every new file
        real.reset_stats()
        set_wired(real.get_files())

    solara.use_effect(wire, [file_info])

    def handle(cancel: threading.Event) -> None:
        if wired:
            on_file(wired[0])

    solara.use_thread(handle, [wired])
    return zone
