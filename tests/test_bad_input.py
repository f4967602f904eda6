"""Every kind of bad input, as a hostile user would try it: one line, exit 2, nothing touched.

Each case runs the real command line in-process (``mutualsim.cli.main``) in a fresh folder
holding the case's files, and asserts: status 2, exactly one line on stderr naming what is
wrong, no traceback, and the folder tree (names, sizes, modification times) the same before
and after: nothing written and nothing deleted. The sizes are tiny and every refusal comes
before any simulation, so the whole table runs in seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mutualsim.cli import main

TINY = "councils = 1\nyears = 3\nservices_per_council = 1\n"
SWEEP_MANIFEST = '{"format": "mutualsim-sweep/1", "experiment_hash": "x"}'


def experiment(design: str = 'kind = "grid"', factors: str = "reactive_prob = [0.0, 0.9]",
               overrides: str = TINY, top: str = "replications = 2\nseed = 1\nblock_size = 1"
               ) -> str:
    return (f"{top}\n[base_overrides]\n{overrides}\n[design]\n{design}\n"
            f"[factors]\n{factors}\n")


def deep(n: int, open_: str = "[", close: str = "]") -> str:
    return open_ * n + close * n


# name -> (files to create, argv, words the one line must contain). In files, a value of
# None makes a FIFO, a dict a folder, bytes a binary file. "{t}" in argv is the test folder.
CASES: dict[str, tuple[dict, list[str], list[str]]] = {
    # ---- NaN / inf / huge / wrong shapes in scenario values
    "councils nan": ({"s.toml": "councils = nan\n"}, ["run", "s.toml"],
                     ["councils", "finite"]),
    "councils inf": ({"s.toml": "[run]\ncouncils = inf\n"}, ["run", "s.toml"],
                     ["councils", "finite"]),
    "years -inf": ({"s.toml": "years = -inf\n"}, ["run", "s.toml"], ["years", "finite"]),
    "rate nan": ({"s.toml": "reactive_prob = nan\n"}, ["run", "s.toml"],
                 ["reactive_prob", "finite"]),
    "rate inf": ({"s.toml": "reactive_prob = inf\n"}, ["run", "s.toml"],
                 ["reactive_prob", "finite"]),
    "huge integer in an integer field": (
        {"s.toml": "councils = 99999999999999999999999\n"}, ["run", "s.toml"],
        ["councils", "out of range"]),
    "huge integer in a float field": (
        {"s.toml": "reactive_prob = 1" + "0" * 400 + "\n"}, ["run", "s.toml"],
        ["reactive_prob", "out of range"]),
    "huge negative integer": ({"s.toml": "years = -99999999999999999999999\n"},
                              ["run", "s.toml"], ["years", "out of range"]),
    "fraction in an integer field": ({"s.toml": "councils = 2.5\n"}, ["run", "s.toml"],
                                     ["councils", "whole number"]),
    "boolean for a number": ({"s.toml": "councils = true\n"}, ["run", "s.toml"],
                             ["councils", "number"]),
    "list for a number": ({"s.toml": "councils = [[1]]\n"}, ["run", "s.toml"],
                          ["councils", "number"]),
    "number for a preset": ({"s.toml": "commissioning_style = 3\n"}, ["run", "s.toml"],
                            ["commissioning_style", "one of"]),
    "100,000-deep nested array": ({"s.toml": "councils = " + deep(100_000) + "\n"},
                                  ["run", "s.toml"], ["nested too deeply"]),
    "100,000-deep nested inline table": (
        {"s.toml": "a = " + deep(100_000, "{b = ", "}")[:-100_000] + "1" + "}" * 100_000
         + "\n"}, ["run", "s.toml"], ["s.toml"]),
    "200-deep nested array (parses)": ({"s.toml": "councils = " + deep(200) + "\n"},
                                       ["run", "s.toml"], ["councils", "number"]),
    # ---- the scenario is not a readable regular file
    "scenario is a folder": ({"d": {}}, ["run", "d"], ["not a regular file"]),
    "scenario is /dev/null": ({}, ["run", "/dev/null"], ["not a regular file"]),
    "scenario is a FIFO": ({"fifo": None}, ["run", "fifo"], ["not a regular file"]),
    "scenario is /proc/self/mem": ({}, ["run", "/proc/self/mem"], ["not a regular file"]),
    "scenario is a symbolic-link loop": ({"loop": ("symlink", "loop")}, ["run", "loop"],
                                         ["loop", "cannot read"]),
    "scenario is missing": ({}, ["run", "missing.toml"], ["not found"]),
    "scenario is binary": ({"s.toml": b"\xff\xfe\x00bad"}, ["run", "s.toml"], ["UTF-8"]),
    "scenario is 2 MB": ({"s.toml": "# " + "x" * 2_000_000 + "\n"}, ["run", "s.toml"],
                         ["bytes"]),
    # ---- --out where it cannot or must not go (checked before simulating)
    "--out under /proc": ({"s.toml": TINY}, ["run", "s.toml", "--out", "/proc/x"],
                          ["--out /proc/x", "cannot write"]),
    "--out inside a file": ({"s.toml": TINY, "f": "a file"},
                            ["run", "s.toml", "--out", "f/x"], ["--out f/x", "file"]),
    "--out is a file": ({"s.toml": TINY, "f": "a file"}, ["run", "s.toml", "--out", "f"],
                        ["not a folder"]),
    "--out .": ({"s.toml": TINY}, ["run", "s.toml", "--out", "."], ["current folder"]),
    "--out ..": ({"s.toml": TINY}, ["run", "s.toml", "--out", ".."], ["current folder"]),
    "--out the test folder by absolute path": ({"s.toml": TINY},
                                               ["run", "s.toml", "--out", "{t}"],
                                               ["current folder"]),
    "--out /": ({"s.toml": TINY}, ["run", "s.toml", "--out", "/"], ["current folder"]),
    "--out a stranger's folder": ({"s.toml": TINY, "victim": {"thesis.docx": "years"}},
                                  ["run", "s.toml", "--out", "victim"],
                                  ["thesis.docx", "not empty"]),
    "--out the scenario's own folder": (
        {"scenarios": {"x.toml": TINY, "y.toml": TINY}},
        ["run", "scenarios/x.toml", "--out", "scenarios"], ["input"]),
    "--out the scenario's own folder, --force": (
        {"scenarios": {"x.toml": TINY}},
        ["run", "scenarios/x.toml", "--out", "scenarios", "--force"], ["input"]),
    "--out the scenario file itself": ({"s.toml": TINY}, ["run", "s.toml", "--out", "s.toml"],
                                       ["input"]),
    "--out a previous sweep": ({"s.toml": TINY, "sw": {"manifest.json": SWEEP_MANIFEST}},
                               ["run", "s.toml", "--out", "sw"], ["'sweep'"]),
    "--out name of 250 bytes": ({"s.toml": TINY}, ["run", "s.toml", "--out", "r" * 250],
                                ["at most"]),
    "--out through a symbolic-link loop": ({"s.toml": TINY, "loop": ("symlink", "loop")},
                                           ["run", "s.toml", "--out", "loop/x"],
                                           ["cannot resolve"]),
    "--out a symbolic link": ({"s.toml": TINY, "real": {}, "link": ("symlink", "real")},
                              ["run", "s.toml", "--out", "link"], ["symbolic link"]),
    "run sweeps.toml (default out/sweeps)": (
        {"sweeps.toml": TINY, "out": {"sweeps": {"a": {"manifest.json": SWEEP_MANIFEST}}}},
        ["run", "sweeps.toml"], ["out/sweeps", "not empty"]),
    "compare --out the scenario's folder": (
        {"sc": {"x.toml": TINY}}, ["compare", "sc/x.toml", "--values", "0,3", "--out", "sc"],
        ["input"]),
    "compare --out a run result": (
        {"s.toml": TINY, "r": {"manifest.json": '{"command": "run", "files": []}'}},
        ["compare", "s.toml", "--values", "0,3", "--out", "r"], ["'run'"]),
    "plot SWEEP --out SWEEP": ({"sw": {"manifest.json": SWEEP_MANIFEST}},
                               ["plot", "sw", "--out", "sw"], ["input"]),
    "plot SWEEP --out inside SWEEP": ({"sw": {"manifest.json": SWEEP_MANIFEST}},
                                      ["plot", "sw", "--out", "sw/plots"], ["input"]),
    "plot SWEEP --out SWEEP --force": ({"sw": {"manifest.json": SWEEP_MANIFEST}},
                                       ["plot", "sw", "--out", "sw", "--force"], ["input"]),
    "sweep --out the experiment's folder": (
        {"e": {"x.toml": experiment()}}, ["sweep", "e/x.toml", "--out", "e"], ["input"]),
    # ---- sizes that cannot fit this machine (refused in milliseconds)
    # `run` streams its blocks to disk (memory stays flat), so a huge -n is refused for the
    # disk space its results would need.
    "run -n 100000000": ({}, ["run", "-n", "100000000"], ["free on the disk",
                                                          "--no-size-check"]),
    "run -n 10**12": ({}, ["run", "-n", str(10**12)], ["free on the disk", "--no-size-check"]),
    "every size at its maximum": (
        {"s.toml": "councils = 2000\nservices_per_council = 20\ncitizens_per_council = 100\n"
                   "private_bidders = 100\nlots = 10\nyears = 100\n"},
        ["run", "s.toml", "-n", "1000"], ["memory", "--no-size-check"]),
    "compare every size at its maximum": (
        {"s.toml": "councils = 2000\nservices_per_council = 20\ncitizens_per_council = 100\n"
                   "private_bidders = 100\nlots = 10\nyears = 100\n"},
        ["compare", "s.toml", "--values", "0,3", "-n", "1000"], ["--no-size-check"]),
    "sweep replications = 10**12 in the file": (
        {"x.toml": experiment(top=f"replications = {10**12}\nseed = 1")},
        ["sweep", "x.toml", "--out", "o"], ["tasks", "--no-size-check"]),
    "sweep -n 10**12": ({"x.toml": experiment()}, ["sweep", "x.toml", "-n", str(10**12),
                                                    "--out", "o"],
                        ["tasks", "--no-size-check"]),
    "sweep 10**6-point grid": (
        {"x.toml": experiment(factors="reactive_prob = [{}]\nstrategic_prob = [{}]".format(
            ", ".join(f"{i / 1000:.3f}" for i in range(1000)),
            ", ".join(f"{i / 1000:.3f}" for i in range(1000))))},
        ["sweep", "x.toml", "--out", "o"], ["design points", "--no-size-check"]),
    "sweep 10**6-point lhs": (
        {"x.toml": experiment(design='kind = "lhs"\nsamples = 1000000',
                              factors="reactive_prob = {low = 0.0, high = 0.5}")},
        ["sweep", "x.toml", "--out", "o"], ["design points", "--no-size-check"]),
    "sweep every size at its maximum": (
        {"x.toml": experiment(overrides="councils = 2000\nservices_per_council = 20\n"
                                        "citizens_per_council = 100\nprivate_bidders = 100\n"
                                        "lots = 10\nyears = 100",
                              top="replications = 1000\nseed = 1\nblock_size = 250")},
        ["sweep", "x.toml", "--out", "o", "--workers", "2"], ["memory", "--no-size-check"]),
    # ---- experiment files
    "[base_overrides] councils = nan": ({"x.toml": experiment(overrides="councils = nan")},
                                        ["sweep", "x.toml", "--out", "o"],
                                        ["councils", "finite"]),
    "[base_overrides] huge integer": (
        {"x.toml": experiment(overrides="years = 99999999999999999999999")},
        ["sweep", "x.toml", "--out", "o"], ["years", "out of range"]),
    "grid list with nan": ({"x.toml": experiment(factors="councils = [1, nan]")},
                           ["sweep", "x.toml", "--out", "o"], ["councils", "finite"]),
    "grid list with inf": ({"x.toml": experiment(factors="reactive_prob = [0.1, inf]")},
                           ["sweep", "x.toml", "--out", "o"], ["reactive_prob", "finite"]),
    "lhs low = nan": ({"x.toml": experiment(design='kind = "lhs"\nsamples = 4',
                                            factors="councils = {low = nan, high = 3}")},
                      ["sweep", "x.toml", "--out", "o"], ["councils", "finite"]),
    "lhs high = inf": ({"x.toml": experiment(design='kind = "lhs"\nsamples = 4',
                                             factors="reactive_prob = {low = 0, high = inf}")},
                       ["sweep", "x.toml", "--out", "o"], ["reactive_prob", "finite"]),
    "morris levels = 3": ({"x.toml": experiment(
        design='kind = "morris"\ntrajectories = 2\nlevels = 3',
        factors="reactive_prob = {low = 0.0, high = 0.5}")},
        ["sweep", "x.toml", "--out", "o"], ["levels", "even"]),
    "deep nested experiment": ({"x.toml": "seed = " + deep(100_000) + "\n"},
                               ["sweep", "x.toml", "--out", "o"], ["nested too deeply"]),
    "experiment is a FIFO": ({"fifo": None}, ["sweep", "fifo", "--out", "o"],
                             ["not a regular file"]),
    "experiment base is a folder": (
        {"x.toml": 'base = "d"\n' + experiment(), "d": {}},
        ["sweep", "x.toml", "--out", "o"], ["not a regular file"]),
    "seed = nan": ({"x.toml": experiment(top="replications = 2\nseed = nan")},
                   ["sweep", "x.toml", "--out", "o"], ["seed"]),
    # ---- compare values
    "compare --values inf": ({}, ["compare", "--factor", "councils", "--values", "1,inf"],
                             ["councils", "finite"]),
    "compare --values nan": ({}, ["compare", "--factor", "reactive_prob", "--values",
                                  "0.1,nan"], ["reactive_prob", "finite"]),
    "compare --values 1e999": ({}, ["compare", "--factor", "reactive_prob", "--values",
                                    "0.1,1e999"], ["reactive_prob", "finite"]),
    "compare --values huge": ({}, ["compare", "--factor", "councils", "--values",
                                   "1," + "9" * 30], ["councils", "out of range"]),
    "compare 2,000 values": ({}, ["compare", "--factor", "reactive_prob", "--values",
                                  ",".join(f"{i / 2000:.4f}" for i in range(2000))],
                             ["values", "--no-size-check"]),
    "compare --uncertainty foo": ({}, ["compare", "--uncertainty", "foo"],
                                  ["--uncertainty", "posterior"]),
    "compare --draws 0": ({}, ["compare", "--draws", "0"], ["--draws", ">= 1"]),
    "compare --posterior with an unknown column": (
        {"p.csv": "reactive_prob,colour,weight\n0.1,1,1\n"},
        ["compare", "--posterior", "p.csv"], ["p.csv", "unknown column 'colour'"]),
    "compare --posterior out of range": (
        {"p.csv": "reactive_prob,weight\n7,1\n"},
        ["compare", "--posterior", "p.csv"], ["p.csv", "reactive_prob"]),
    # ---- the page's server
    "app --host 'bad host'": ({}, ["app", "--host", "bad host"], ["--host"]),
    "app --host 999.1.1.1": ({}, ["app", "--host", "999.1.1.1", "--port", "18765"],
                             ["--host"]),
    "app --host 203.0.113.9 (not this machine)": (
        {}, ["app", "--host", "203.0.113.9", "--port", "18765"], ["--host", "this machine"]),
    "app --port in use": ({}, ["app", "--port", "{busy}"], ["in use"]),
}


def _make(root: Path, files: dict) -> None:
    for name, content in files.items():
        path = root / name
        if content is None:
            os.mkfifo(path)
        elif isinstance(content, dict):
            path.mkdir()
            _make(path, content)
        elif isinstance(content, tuple):
            path.symlink_to(content[1])
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: kind, size and modification time."""
    tree = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            tree[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return tree


@pytest.fixture
def busy_port():
    """A port with a listener on it, for the duration of the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_one_line_exit_2_and_touches_nothing(case, tmp_path, monkeypatch,
                                                          capsys, busy_port):
    files, argv, needles = case
    work = tmp_path / "work"
    work.mkdir()
    _make(work, files)
    monkeypatch.chdir(work)
    # Never start a server or a pool from this table, whatever happens.
    monkeypatch.setattr(subprocess, "call", _never)
    argv = [a.replace("{t}", str(work)).replace("{busy}", str(busy_port)) for a in argv]
    before = snapshot(tmp_path)
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert snapshot(tmp_path) == before


def _never(*args, **kwargs):
    raise AssertionError(f"a bad input started a process: {args}")


# ------------------------------------------------------------------ write-time failures
def test_file_size_limit_is_one_line_and_leaves_nothing(tmp_path):
    """ulimit -f (EFBIG) while writing results: one line, exit 2, no partial folder."""
    (tmp_path / "s.toml").write_text(TINY)
    script = textwrap.dedent("""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))
        from mutualsim.cli import main
        sys.exit(main(["run", "s.toml", "-n", "3", "--out", "res", "--quiet"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    # The first run after a kernel edit says it is compiling (a notice, not an error).
    lines = [line for line in proc.stderr.strip().splitlines()
             if not line.startswith("mutualsim: compiling")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "file too large" in lines[0] and "--out res" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    """ENOSPC from the Parquet writer: one line, exit 2, the temporary folder removed."""
    import errno

    import mutualsim.io as io

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    class FullWriter:  # run streams its blocks through a ParquetWriter
        def __init__(self, *args, **kwargs) -> None:
            pass

        write_table = staticmethod(full)

        def close(self) -> None:
            pass

    monkeypatch.setattr(io.pq, "write_table", full)
    monkeypatch.setattr(io.pq, "ParquetWriter", FullWriter)
    (tmp_path / "s.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "s.toml", "-n", "2", "--out", "new/deeper/res", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no space left" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_the_real_entry_point_refuses_in_one_line(tmp_path):
    """Through ``python -m mutualsim``, as a user types it."""
    (tmp_path / "s.toml").write_text("councils = nan\n")
    proc = subprocess.run([sys.executable, "-m", "mutualsim", "run", "s.toml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "councils" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]
