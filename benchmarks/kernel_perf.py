"""Where the compiled kernel's time goes, function by function, with Linux ``perf``.

``python -m benchmarks.kernel_perf [REPLICATIONS]`` (default 400) runs the baseline kernel on
one thread under ``perf record`` and splits the samples that fall in numba's machine code by
function (each rule, ``ndtri``, numba's ``NRT_incref``/``NRT_decref`` reference counting,
the generator's ``standard_normal``), plus the shared libraries (libm, PCG64). numba writes
no symbol map for perf, so the child process compiles the kernel afresh (a private
``NUMBA_CACHE_DIR``: about a minute), asks LLVM for the address of every function of the
entry point's library and writes them beside the samples; samples are then matched to the
function whose code starts below them. Needs ``perf`` (``apt-get install linux-perf``).
Shares are of samples in the kernel's own process while it runs; read them on a quiet
machine, or as CPU shares on a loaded one.
"""

from __future__ import annotations

import bisect
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = r"""
import sys, time
from mutualsim import Scenario
from mutualsim.kernel import Recorder, context, initial_state, run, run_years
from mutualsim.rng import generators
sc = Scenario(); k = context(sc)
g = generators(0, range(2)); run(initial_state(k, g), k, g, Recorder(2, sc.years))
lib = next(iter(run_years.overloads.values())).library
with open(sys.argv[1], "w") as fh:
    for f in lib._final_module.functions:
        if not f.is_declaration:
            a = lib.get_pointer_to_function(f.name)
            if a:
                fh.write(f"{a:x} {f.name}\n")
R = int(sys.argv[2])
gens = generators(0, range(R)); st = initial_state(k, gens); rec = Recorder(R, sc.years)
c = time.process_time()
run(st, k, gens, rec, threads=1)
print(f"kernel: {R} replications, {time.process_time() - c:.2f} s CPU", flush=True)
"""


def short_name(mangled: str) -> str:
    """``_ZN9mutualsim6kernel7finance15settle_accountsB4v156...`` -> ``finance.settle_accounts``."""
    parts, i = [], mangled.find("_ZN") + 3
    while 0 <= i < len(mangled) and mangled[i].isdigit():
        n = re.match(r"\d+", mangled[i:]).group()  # type: ignore[union-attr]
        i += len(n)
        parts.append(mangled[i:i + int(n)])
        i += int(n)
    names = [p for p in parts if p not in ("mutualsim", "kernel", "numba", "np", "cpython")]
    return ".".join(names[-2:]) if names else mangled


def main(argv: list[str]) -> int:
    if shutil.which("perf") is None:
        print("kernel_perf: needs Linux perf (apt-get install linux-perf)", file=sys.stderr)
        return 2
    replications = int(argv[0]) if argv else 400
    with tempfile.TemporaryDirectory(prefix="mutualsim-perf-") as tmp:
        syms, data = Path(tmp) / "symbols.txt", Path(tmp) / "perf.data"
        env = dict(os.environ, NUMBA_CACHE_DIR=str(Path(tmp) / "numba"))
        subprocess.run(["perf", "record", "-q", "-F", "2000", "-o", str(data), sys.executable,
                        "-c", _CHILD, str(syms), str(replications)], env=env, check=True)
        script = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,dso"],
                                capture_output=True, text=True, check=True).stdout
        table = sorted((int(a, 16), n) for a, n in
                       (line.split() for line in syms.read_text().splitlines()))
    starts = [a for a, _ in table]
    jit: collections.Counter[str] = collections.Counter()
    libs: collections.Counter[str] = collections.Counter()
    for line in script.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        dso = fields[1]
        if "perf-" in dso or "JIT" in dso or "unknown" in dso:
            i = bisect.bisect_right(starts, int(fields[0], 16)) - 1
            jit[short_name(table[i][1]) if i >= 0 else "?"] += 1
        elif "libm" in dso or "pcg64" in dso or "_generator" in dso:
            libs[Path(dso.strip("()")).name] += 1
    total = sum(jit.values()) + sum(libs.values())
    print(f"{total} samples in the kernel's code and its libraries (perf at 2 kHz)")
    for name, count in (jit + libs).most_common(25):
        print(f"{100 * count / total:6.1f} %  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
