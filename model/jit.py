"""The decorators every kernel function is compiled with.

Both are numba's ``njit`` with:

- ``cache=True``: machine code is kept on disk next to the sources (or in numba's user cache
  when the install is read-only), so only the first run after an install compiles;
- ``nogil=True``: threads run replications truly in parallel;
- ``error_model="numpy"``: floating-point division by zero gives inf/nan as in numpy (an
  empty mean is nan), never an exception.

``kernel_jit`` is for functions only other compiled functions call (the rules): they get no
wrapper for calls from Python, which would cost a second or more of compile time each to
unpack the state and constants. ``kernel_entry`` is for the few functions Python calls (a
replication, a year, the tender numbers). Tests call rules through
:func:`python_callable`.

With the environment variable ``NUMBA_DISABLE_JIT=1`` numba leaves every function as plain
Python, so the kernel can be stepped through in a debugger (slowly). ``JIT_DISABLED`` tells
the few helpers that need a pure-Python path (raw 64-bit draws) which mode is on.
"""

from __future__ import annotations

import numba

JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)
_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


def kernel_jit(func):
    """Compile ``func`` as a kernel function called only from compiled code."""
    return numba.njit(no_cpython_wrapper=True, no_cfunc_wrapper=True, **_OPTIONS)(func)


def kernel_inline(func):
    """Compile ``func`` into each compiled caller (numba IR inlining): for the yearly step,
    so the whole year is optimised once, inside the one entry point."""
    return numba.njit(inline="always", **_OPTIONS)(func)


def kernel_entry(func):
    """Compile ``func`` as a kernel function Python may call."""
    return numba.njit(**_OPTIONS)(func)


def python_callable(func):
    """A Python-callable version of the compiled function ``func`` (for tests): a compiled
    trampoline that forwards its arguments. Under ``NUMBA_DISABLE_JIT`` it is ``func``."""
    if JIT_DISABLED:
        return func

    def call(*args):
        return func(*args)

    return numba.njit(error_model="numpy")(call)
