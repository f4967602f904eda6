"""The one decorator every kernel function is compiled with.

``kernel_jit`` is numba's ``njit`` with:

- ``cache=True``: machine code is kept on disk next to the sources (or in numba's user cache
  when the install is read-only), so only the first run after an install compiles;
- ``nogil=True``: threads run replications truly in parallel;
- ``error_model="numpy"``: floating-point division by zero gives inf/nan as in numpy (an
  empty mean is nan), never an exception.

With the environment variable ``NUMBA_DISABLE_JIT=1`` numba leaves every function as plain
Python, so the kernel can be stepped through in a debugger (slowly). ``JIT_DISABLED`` tells
the few helpers that need a pure-Python path (raw 64-bit draws) which mode is on.
"""

from __future__ import annotations

import numba

JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)


def kernel_jit(func):
    """Compile ``func`` for the kernel (see the module docstring)."""
    return numba.njit(cache=True, nogil=True, error_model="numpy")(func)
