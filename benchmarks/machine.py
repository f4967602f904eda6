"""A description of the machine and software the numbers came from."""

from __future__ import annotations

import os
import platform
import sys

import mesa
import numpy as np
import pandas as pd
import scipy


def _cpuinfo() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024 / 2**30
    except OSError:
        pass
    return float("nan")


def describe() -> dict[str, str]:
    import mutualsim
    return {
        "CPU": _cpuinfo(),
        "cores (os.cpu_count)": str(os.cpu_count()),
        "RAM": f"{_ram_gib():.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "mesa": mesa.__version__,
        "mutualsim": mutualsim.__version__,
    }
