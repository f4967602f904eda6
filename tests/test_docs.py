"""Docs and scenario files answer to the code: they are generated from, or checked against, it."""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mutualsim import Scenario, load_scenario
from mutualsim.paramdocs import parameter_table, scenario_toml
from mutualsim.params import FIELD_NAMES

ROOT = Path(__file__).resolve().parents[1]


def test_baseline_file_is_the_embedded_default():
    assert load_scenario(ROOT / "scenarios" / "baseline.toml") == Scenario()
    assert (ROOT / "scenarios" / "baseline.toml").read_text() == scenario_toml() + "\n"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.name)
def test_every_shipped_scenario_loads_and_is_commented(path):
    load_scenario(path)
    assert path.read_text().lstrip().startswith("#")


def test_odd_lists_every_parameter_with_source():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert parameter_table() in odd, "regenerate the table: python -m mutualsim.paramdocs --odd"
    for name in FIELD_NAMES:
        assert f"`{name}`" in odd


def test_odd_sections_map_onto_kernel_modules():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for module in sorted((ROOT / "model" / "kernel").glob("*.py")):
        if module.name != "__init__.py":
            assert f"kernel/{module.name}" in odd, module.name


def test_odd_style_presets_match_code():
    from mutualsim.params import STYLE_PRESETS
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for style, p in STYLE_PRESETS.items():
        row = (f"| {style} | {p['price_weight']:.2f} | {p['quality_weight']:.2f} | "
               f"{p['social_weight']:.2f} | {p['financial_weight']:.2f} | "
               f"{p['coproduction']:.2f} | {p['risk_aversion']:.2f} |")
        assert row in odd, row


# ------------------------------------------------------ every code block in the docs runs
# Python blocks are executed in file order in one namespace per document, in a temporary
# folder holding links to scenarios/ and experiments/; `mutualsim ...` commands in sh
# blocks run in-process on tiny sizes. Every other command is listed below with the
# reason it is not run, so a new command in the docs fails here until it is classified.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TINY = "2"  # replications for every documented run

#: Commands not run, by a regular expression on the command, with the reason.
SKIPPED_COMMANDS = [
    (r"^python3 -m pip install\b", "installs the package; CI installs it before the tests"),
    (r"^python3 -m pytest\b", "the test suite itself"),
    (r"^(pipx|uv tool) install\b",
     "installs the package as a tool (minutes); docs/WORKSHOP.md says how long it took"),
    (r"^mutualsim app\b", "serves the page until stopped; tests/test_app_browser.py runs it"),
    (r"^mutualsim sweep .*--cluster local",
     "starts a Dask LocalCluster; tests/test_sweep_dask.py runs sweeps on Dask"),
    (r"^mutualsim sweep .*--scheduler tcp://host:",
     "needs a Dask scheduler at the placeholder address"),
    (r"^mutualsim calibrate\b",
     "minutes of simulation; tests/test_evidence_calibrate.py runs calibrate small"),
    (r"^mutualsim sensitivity\b",
     "minutes of simulation; tests/test_evidence_sensitivity.py runs it small"),
    (r"^mutualsim robust\b(?!.*--help)",
     "minutes of simulation; tests/test_robust.py runs it small"),
    (r"^python3 -m mutualsim\.evidence\.validation\b",
     "needs calibrate's posterior and runs 1,000 replications"),
    (r"^cp ", "copies figures into docs/"),
    (r"^find model -name '\*\.nb\[ic\]' -delete$",
     "deletes numba's on-disk cache of the kernel in the source tree, which the other "
     "tests use"),
    (r"^NUMBA_DISABLE_JIT=1 python3 ",
     "runs the kernel uncompiled; tests/test_kernel_uncompiled.py does the same"),
]
#: Commands run, tiny, through ``mutualsim.cli.main``.
RUN_COMMANDS = r"^(mutualsim|python3 -m mutualsim) (run|sweep|compare|plot)\b"
#: Whole blocks not run, by a string they contain, with the reason.
SKIPPED_BLOCKS = {
    "#SBATCH": "a SLURM job script: needs a SLURM cluster",
    "from dask_jobqueue": "needs a SLURM cluster and dask_jobqueue (not a dependency)",
    "import duckdb": "duckdb is not a dependency",
    "read_parquet(": "SQL for DuckDB, which is not a dependency",
}
#: Blocks expected to fail until another branch lands (xfail, not strict).
XFAIL_BLOCKS: dict[str, str] = {}
#: Substitutions that make a block tiny: (block marker, pattern, replacement).
SHRINK = [
    ("", r"replications=\d+", f"replications={TINY}"),
    ("", r"draws=\d+", "draws=2"),
    ("sobol_sample.sample", r"sample\(problem, \d+", "sample(problem, 4"),
    ("perform_experiments", r"scenarios=\d+, policies=\d+", "scenarios=2, policies=2"),
]
#: Sweeps a document reads without building them itself (a small stand-in experiment).
SETUP_SWEEPS = {
    "SWEEPS.md": ["out/sweeps/protection_periods", "out/sweeps/protection"],
    "ANALYSIS.md": ["out/sweeps/my-experiment"],
}
SETUP_EXPERIMENT = """name = "docs_setup"
replications = 2
seed = 1
block_size = 2
[base_overrides]
councils = 12
years = 10
[design]
kind = "grid"
[factors]
protection_years = [0, 5]
"""


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.path.name}:{self.line}"


def doc_blocks(path: Path) -> list[Block]:
    """Fenced code blocks of a Markdown file, with the line of their opening fence."""
    out, lang, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip(), number, []
            else:
                out.append(Block(path, start, lang, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def commands(text: str) -> list[str]:
    """Shell commands of a block: continuations joined, comments dropped, && split."""
    joined = text.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        part: list[str] = []
        for word in [*words, "&&"]:
            if word == "&&":
                if part:
                    out.append(shlex.join(part))
                part = []
            else:
                part.append(word)
    return out


def tiny_argv(command: str) -> list[str]:
    """argv for ``mutualsim.cli.main``: tiny replications, one worker, no progress bars."""
    words = shlex.split(command)
    words = words[1:] if words[0] == "mutualsim" else words[3:]
    argv, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("--replications", "-n", "--workers", "--draws"):
            skip = True
        else:
            argv.append(word)
    if "--help" in argv or argv[0] not in ("run", "sweep", "compare"):
        return argv
    argv += ["--replications", TINY, "--quiet"]
    if argv[0] == "compare" and "none" not in argv and "--draws" not in argv \
            and "--council" not in argv:
        argv += ["--draws", "2"]  # the default run is posterior-predictive: few draws
    if argv[0] == "sweep":
        argv += ["--workers", "1"]
        experiment = Path(argv[1])
        if experiment.is_file() and "[uncertainty]" in experiment.read_text():
            argv += ["--draws", "2"]  # a posterior sweep: few draws, as for compare
    return argv


def run_command(command: str) -> str | None:
    """Run a documented command tiny; return the reason instead if it is not run."""
    from mutualsim.cli import main

    for pattern, reason in SKIPPED_COMMANDS:
        if re.search(pattern, command):
            return f"{command.split(' --')[0]}: {reason}"
    if not re.search(RUN_COMMANDS, command) and not command.endswith("--help"):
        raise AssertionError(f"unclassified command in the docs: {command!r}; run it in "
                             "tests/test_docs.py or list it in SKIPPED_COMMANDS with a reason")
    argv = tiny_argv(command)
    try:
        status = main(argv)
    except SystemExit as stop:  # --help
        status = stop.code
    assert status in (0, None), f"{command!r} -> exit {status}"
    return None


def shrink(block: Block) -> str:
    text = block.text
    for marker, pattern, replacement in SHRINK:
        if marker in text:
            text = re.sub(pattern, replacement, text)
    return text


@dataclass
class DocRun:
    """One document's blocks run in order in one folder and one Python namespace."""

    folder: Path
    blocks: list[Block]
    namespace: dict = field(default_factory=dict)
    done: int = 0

    def run(self, block: Block) -> None:
        if block.lang == "python":
            code = compile(shrink(block), block.id, "exec")
            exec(code, self.namespace)  # noqa: S102
        elif block.lang in ("sh", "bash"):
            reasons = [run_command(command) for command in commands(block.text)]
            if all(reasons):
                pytest.skip("; ".join(reasons))
        elif block.lang == "toml":
            data = tomllib.loads(block.text)
            if "design" in data:  # an experiment file: it must load as one
                from mutualsim.sweep import load_experiment
                path = self.folder / "experiments" / "docs_example.toml"
                path.write_text(block.text)
                try:
                    load_experiment(path)
                    if "futures" in data:  # a robustness file (mutualsim robust) too
                        from mutualsim.evidence.robust import load_robust
                        load_robust(path)
                finally:
                    path.unlink()
            if "service" in data:  # a council file: it must load as one
                from mutualsim.council import council_from_mapping
                council_from_mapping(data, block.id)
        elif block.lang not in ("text", "sql"):
            raise AssertionError(f"{block.id}: tag the block with its language "
                                 f"(python, sh, toml, text, ...), got {block.lang!r}")

    def run_through(self, index: int) -> None:
        """Run the blocks before ``index`` not yet run (their own tests report them)."""
        while self.done < index:
            with contextlib.suppress(Exception, pytest.skip.Exception):
                if not _skip_reason(self.blocks[self.done]):
                    self.run(self.blocks[self.done])
            self.done += 1


def _skip_reason(block: Block) -> str | None:
    if block.lang == "sql":
        return SKIPPED_BLOCKS["read_parquet("]
    return next((reason for marker, reason in SKIPPED_BLOCKS.items()
                 if marker in block.text), None)


def _block_params():
    params = []
    for path in DOCS:
        for index, block in enumerate(doc_blocks(path)):
            marks = [pytest.mark.xfail(reason=reason, strict=False)
                     for marker, reason in XFAIL_BLOCKS.items() if marker in block.text]
            params.append(pytest.param(path, index, id=block.id, marks=marks))
    return params


@pytest.fixture(scope="module")
def doc_runs(tmp_path_factory):
    runs: dict[Path, DocRun] = {}
    old = Path.cwd()
    # Drawing the figures is most of a compare/plot command's time and is tested by
    # tests/test_analysis_report.py and test_analysis_cli.py; here the commands write
    # their tables and report.html without figures, so that the docs stay quick to check.
    patch = pytest.MonkeyPatch()
    patch.setattr("mutualsim.analysis.report.all_figures", lambda comparison: {})

    def get(path: Path) -> DocRun:
        if path not in runs:
            folder = tmp_path_factory.mktemp(path.stem.lower())
            for name in ("scenarios", "experiments"):
                (folder / name).mkdir()
                for f in (ROOT / name).iterdir():
                    (folder / name / f.name).write_bytes(f.read_bytes())
            os.chdir(folder)
            (folder / "docs_setup.toml").write_text(SETUP_EXPERIMENT)
            for out in SETUP_SWEEPS.get(path.name, []):
                run_command(f"mutualsim sweep docs_setup.toml --out {out}")
            runs[path] = DocRun(folder, doc_blocks(path))
        os.chdir(runs[path].folder)
        return runs[path]

    yield get
    os.chdir(old)
    patch.undo()


@pytest.mark.slow
@pytest.mark.parametrize("path, index", _block_params())
def test_doc_code_block_runs(doc_runs, path, index):
    run = doc_runs(path)
    block = run.blocks[index]
    reason = _skip_reason(block)
    if reason:
        pytest.skip(reason)
    run.run_through(index)
    run.done = index + 1
    run.run(block)


def test_doc_helpers_classify_and_shrink():
    block = Block(Path("x.md"), 1, "sh", "mutualsim compare --factor style -n 500 \\\n"
                  "   --values a,b   # comment\nmutualsim run --help && python3 -m pytest -q\n")
    assert commands(block.text) == ["mutualsim compare --factor style -n 500 --values a,b",
                                    "mutualsim run --help", "python3 -m pytest -q"]
    assert tiny_argv(commands(block.text)[0]) == [
        "compare", "--factor", "style", "--values", "a,b", "--replications", "2", "--quiet",
        "--draws", "2"]
    assert tiny_argv("mutualsim compare --uncertainty none -n 9")[-1] == "--quiet"
    assert tiny_argv("mutualsim sweep e.toml --workers 2")[-2:] == ["--workers", "1"]
    assert tiny_argv("mutualsim plot out/x") == ["plot", "out/x"]
    with pytest.raises(AssertionError, match="unclassified command"):
        run_command("rm -rf out")
    assert "replications=2" in shrink(Block(Path("x"), 1, "python", "f(replications=1000)"))
    with pytest.raises(AssertionError, match="tag the block"):
        DocRun(Path("."), []).run(Block(Path("x.md"), 3, "", "mutualsim run\n"))
