"""Writing results so that nothing is ever half-written.

Files go to a temporary name in the target folder and are renamed into place
(``os.replace`` is atomic on POSIX); a results folder is assembled beside its final name and
swapped in whole (:func:`atomic_directory`, which with :func:`check_out` lives in
:mod:`mutualsim.outdir` and is re-exported here).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .outdir import (  # noqa: F401  (one public place: io.check_out, io.atomic_directory)
    TMP_PREFIX,
    atomic_directory,
    check_out,
    result_command,
)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: str | Path, path: Path, mode: int = 0o666) -> None:
    """Give a temporary file normal permissions and rename it into place."""
    os.chmod(tmp, mode & ~_umask())
    os.replace(tmp, path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, obj: Any) -> None:
    write_bytes_atomic(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
                       .encode())


def write_parquet_atomic(path: Path, frame: pd.DataFrame | pa.Table,
                         kind: str | None = None, *, page_checksums: bool = True) -> None:
    """Write a Parquet file atomically (zstd, with a CRC on every page unless
    ``page_checksums`` is False, so a reader with ``page_checksum_verification=True``
    notices damaged bytes; dictionaries as :func:`mutualsim.schema.write_options`).

    With ``kind`` (``histories``, ``panel``, ``counts``) the frame is written with that
    table's explicit schema (:func:`mutualsim.schema.to_table`); otherwise a table as given,
    or a frame as pyarrow converts it.
    """
    from .schema import write_options

    path = Path(path)
    if kind is not None:
        from .schema import to_table
        table = to_table(frame, kind)
    elif isinstance(frame, pa.Table):
        table = frame
    else:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX + path.name + ".", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, **{**write_options(table.schema),
                                      "write_page_checksum": page_checksums})
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ParquetStream:
    """A Parquet file of one ``kind`` (``histories``, ``panel``) written block by block
    with the code's schema (:mod:`mutualsim.schema`), so memory holds one block, not the
    run. Each :meth:`write` adds row groups; the file is complete when the ``with`` block
    ends. Use it inside :func:`atomic_directory`, whose folder appears only when whole.
    """

    def __init__(self, path: Path, kind: str) -> None:
        from .schema import schema, write_options
        self.path, self.kind = Path(path), kind
        self._writer = pq.ParquetWriter(self.path, schema(kind), **write_options(schema(kind)))

    def write(self, table: pa.Table) -> None:
        """Add a table of the kind's schema (:mod:`mutualsim.tables`, or
        :func:`mutualsim.schema.to_table` of a frame) as one row group."""
        self._writer.write_table(table)

    def __enter__(self) -> ParquetStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self._writer.close()
