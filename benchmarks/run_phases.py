"""Where ``mutualsim run``'s time goes, phase by phase, in one fresh process.

``python -m benchmarks.run_phases [REPLICATIONS] [THREADS]`` (defaults 1000 and 1) repeats
what ``mutualsim run`` does (``model/cli.py: cmd_run``) with a clock around each phase:
imports, loading the compiled kernel from numba's disk cache, then per block of 256
replications: the scenario's constants, the generators, the initial state, the compiled
years (draws, every rule, the panel row), the histories and panel Arrow tables built from
the block's arrays (``mutualsim.tables``), Parquet writing, the summary. Prints wall and
CPU seconds per phase; CPU is the figure to read on a loaded machine. (Inside the
compiled years, see ``benchmarks/profile_notes.md``.)

``python -m benchmarks.run_phases --draws [REPLICATIONS]`` compares, in CPU seconds, a
compiled loop that only draws each year's random numbers (``rng.draw_year``) with the whole
kernel on the same replications (default 200): the share of the kernel spent drawing.
"""

from __future__ import annotations

import sys
import time

_T0 = (time.perf_counter(), time.process_time())


def main(argv: list[str]) -> None:
    marks: list[tuple[str, float, float]] = []
    last = list(_T0)

    def mark(name: str) -> None:
        w, c = time.perf_counter(), time.process_time()
        marks.append((name, w - last[0], c - last[1]))
        last[:] = [w, c]

    import shutil
    import tempfile
    from pathlib import Path

    import numpy as np

    import mutualsim.cli  # noqa: F401  (what the command imports before it runs)
    from mutualsim import Scenario
    from mutualsim.io import ParquetStream, atomic_directory, write_json_atomic
    from mutualsim.kernel import Recorder, context, initial_state, run
    from mutualsim.rng import generators
    from mutualsim.simulate import (
        DEFAULT_BLOCK,
        BlockResult,
        RunSummary,
        default_threads,
        run_block,
    )
    from mutualsim.tables import histories_table, panel_table
    from mutualsim.versions import library_versions
    mark("imports (cli, kernel, simulate, io: numba, pandas, pyarrow)")
    sc = Scenario()
    run_block(sc.replace(years=1), 0, np.arange(1))
    mark("compiled kernel loaded from the disk cache (first call)")

    n = int(argv[0]) if argv else 1000
    threads = int(argv[1]) if len(argv) > 1 else 1
    threads = threads or default_threads()
    acc: dict[str, list[float]] = {}

    def timed(name, fn, *args, **kw):
        w, c = time.perf_counter(), time.process_time()
        result = fn(*args, **kw)
        a = acc.setdefault(name, [0.0, 0.0])
        a[0] += time.perf_counter() - w
        a[1] += time.process_time() - c
        return result

    tmp = Path(tempfile.mkdtemp(prefix="mutualsim-phases-"))
    summary = RunSummary(sc, 0)
    try:
        with atomic_directory(tmp / "out", command="run") as work, \
                ParquetStream(work / "histories.parquet", "histories") as hs, \
                ParquetStream(work / "panel.parquet", "panel") as ps:
            idx = np.arange(n)
            for s in range(0, n, DEFAULT_BLOCK):
                reps = idx[s:s + DEFAULT_BLOCK]
                k = timed("scenario constants (context)", context, sc)
                gens = timed("generators", generators, 0, reps)
                st = timed("initial_state", initial_state, k, gens)
                rec = Recorder(len(gens), sc.years)
                timed("compiled years (draws + rules + panel row)", run, st, k, gens, rec,
                      threads=threads)
                block = BlockResult(np.asarray(reps), st, rec.data)
                h = timed("histories: Arrow table", histories_table, block, sc)
                p = timed("panel: Arrow table", panel_table, block, sc)
                timed("histories: Parquet", hs.write, h)
                timed("panel: Parquet", ps.write, p)
                timed("summary (RunSummary.add_block)", summary.add_block, block)
            timed("manifest", write_json_atomic, work / "manifest.json",
                  {"versions": library_versions()})
        timed("summary text", summary.text)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mark(f"the run: {n} replications, {threads} thread(s)")
    for name, w, c in marks:
        print(f"{name:62s} wall {w:7.3f} s  CPU {c:7.3f} s")
    for name, (w, c) in acc.items():
        print(f"    {name:58s} wall {w:7.3f} s  CPU {c:7.3f} s")


def draws_share(replications: int = 200) -> None:
    import numba
    import numpy as np

    from mutualsim import Scenario
    from mutualsim.kernel import Recorder, context, initial_state, run
    from mutualsim.rng import draw_year, generators

    @numba.njit(nogil=True)
    def draws_only(gen, C, M, K, B, L, T):
        s = 0.0
        for _ in range(T):
            d = draw_year(gen, C, M, K, B, L)
            s += d.shock[0] + d.citizen[0] + float(d.keys[0] & np.uint64(1))
        return s

    sc = Scenario()
    k = context(sc)
    draws_only(generators(0, [0])[0], k.C, k.M, k.K, k.B, k.L, 1)  # compile
    gens = generators(0, range(replications))
    c = time.process_time()
    for g in gens:
        draws_only(g, k.C, k.M, k.K, k.B, k.L, sc.years)
    drawing = time.process_time() - c
    gens = generators(0, range(replications))
    st, rec = initial_state(k, gens), Recorder(replications, sc.years)
    c = time.process_time()
    run(st, k, gens, rec, threads=1)
    whole = time.process_time() - c
    per = 1e6 / (replications * sc.years)
    print(f"{replications} replications x {sc.years} years, 1 thread: drawing only "
          f"{drawing:.3f} s CPU ({drawing * per:.1f} us a replication-year), whole kernel "
          f"{whole:.3f} s ({whole * per:.1f} us): drawing {100 * drawing / whole:.0f}%")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--draws"]:
        draws_share(*(int(x) for x in sys.argv[2:3]))
    else:
        main(sys.argv[1:])
