"""The decorators every kernel function is compiled with.

Both are numba's ``njit`` with:

- ``cache=True``: machine code is kept on disk next to the sources (or in numba's user cache
  when the install is read-only), so only the first run after an install compiles;
- ``nogil=True``: threads run replications truly in parallel;
- ``error_model="numpy"``: floating-point division by zero gives inf/nan as in numpy (an
  empty mean is nan), never an exception.

``kernel_inline`` is for the rules (every function that takes the state ``st``) and the
small helpers: numba inlines them, at the level of its own IR, into the one compiled entry
point, so a simulated year is one function. Compiled separately, each call of a rule passed
the state (a tuple of 57 arrays, nine machine words each) by value and updated every
array's reference count on entry and exit: measured side by side, that cost 15-20% of the
kernel's time, against about twice the first compile time for the inlined year
(BENCHMARKS.md).

**No reference counting inside the year.** numba updates the reference count of every array
of a tuple (the state ``st``, 57 arrays) that it passes into an inlined function with
branches, on entry and exit of each call: refcount pruning removes the pairs only in
straight-line code. Per slot, inside a loop, that cost a third of the kernel's time
(session 6: 480 ns a call with the state, 1 ns with scalars), so helpers called inside
loops over slots take scalars or single arrays (``council_supports(
st.council_propensity[r, c])``). The entry point then works on :func:`borrowed` arrays
(no meminfo), so the remaining updates (each rule's call, once a year) fold away: atomic
updates of counters that both threads share, on every replication-year, otherwise.

``kernel_jit`` is for functions only other compiled functions call that
are worth compiling once (sums, the inverse normal CDF, tender numbers): they get no wrapper
for calls from Python. ``kernel_entry`` is for the few functions Python calls (a
replication, a year, the tender numbers). Tests call rules through
:func:`python_callable`.

**One cache stamp for the whole kernel.** numba checks a cached function against its own
source file only, but a cached entry point (``kernel.run_years``) carries the machine code
of every rule it calls, from other files: after an edit to ``kernel/tendering.py`` alone it
would load stale code. :class:`KernelSourcesMixin` makes the stamp of every function defined
under this package the hash of all :data:`KERNEL_SOURCES` together, so an edit to any of
them recompiles every kernel function once (and ``kernel.needs_compiling`` says so).

With the environment variable ``NUMBA_DISABLE_JIT=1`` numba leaves every function as plain
Python, so the kernel can be stepped through in a debugger (slowly). ``JIT_DISABLED`` tells
the few helpers that need a pure-Python path (raw 64-bit draws) which mode is on.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numba
from numba.core import caching, cgutils, types
from numba.extending import intrinsic

JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)
_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}

_PACKAGE = Path(__file__).resolve().parent
#: Files whose code compiled kernel functions contain: the rules, the random numbers, the
#: state's layout and these decorators.
KERNEL_SOURCES: tuple[Path, ...] = (*sorted((_PACKAGE / "kernel").glob("*.py")),
                                    _PACKAGE / "rng.py", _PACKAGE / "state.py",
                                    Path(__file__).resolve())


def sources_stamp(paths: tuple[Path, ...]) -> str:
    """A hash of the contents of ``paths`` (missing files count as empty)."""
    return _stamp(tuple((str(p), *_stat(p)) for p in paths))


def _stat(path: Path) -> tuple[float, int]:
    try:
        st = path.stat()
    except OSError:
        return (0.0, -1)
    return (st.st_mtime, st.st_size)


@lru_cache(maxsize=8)
def _stamp(files: tuple[tuple[str, float, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _, size in files:
        digest.update(name.encode() + b"\0")
        if size >= 0:
            digest.update(Path(name).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


class KernelSourcesMixin:
    """A numba cache locator for functions defined in this package: the source stamp is
    that of the function's own file and of all :data:`KERNEL_SOURCES` together."""

    _py_file: str

    def get_source_stamp(self):
        return (super().get_source_stamp(), sources_stamp(KERNEL_SOURCES))  # type: ignore[misc]

    @classmethod
    def from_function(cls, py_func, py_file):
        if not Path(py_file).resolve().is_relative_to(_PACKAGE):
            return None
        return super().from_function(py_func, py_file)  # type: ignore[misc]


def _numba(name: str):
    """numba's caching class ``name`` (older releases spell it with a leading underscore)."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


class _UserProvided(KernelSourcesMixin, _numba("UserProvidedCacheLocator")):
    pass


class _InTree(KernelSourcesMixin, _numba("InTreeCacheLocator")):
    pass


class _UserWide(KernelSourcesMixin, _numba("UserWideCacheLocator")):
    pass


def _register_locators() -> None:
    """Put the kernel's locators first in numba's list (once per process); functions
    outside this package still get numba's own."""
    classes = _numba("CacheImpl")._locator_classes
    if not any(isinstance(c, type) and issubclass(c, KernelSourcesMixin) for c in classes):
        classes[:0] = [_UserProvided, _InTree, _UserWide]


_register_locators()


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
    """A Python-callable version of the compiled function ``func`` (for tests). An inlined
    function (a rule) gets its own dispatcher, compiled with the kernel's options and
    cached on disk like the kernel; any other, a compiled trampoline that forwards its
    arguments (calling the cached machine code). Under ``NUMBA_DISABLE_JIT`` it is
    ``func``."""
    if JIT_DISABLED:
        return func
    if func.targetoptions.get("inline") == "always":
        return numba.njit(**_OPTIONS)(func.py_func)

    def call(*args):
        return func(*args)

    return numba.njit(error_model="numpy")(call)


def entry_for(func, *args):
    """The machine code of the kernel entry point ``func`` for arguments of the types of
    ``args``, as a callable taking the same arguments.

    Calling a numba dispatcher types every argument on every call: for ``run_years`` (a
    generator, the state's arrays and the 150 fields of the context) that is about
    100 us holding the GIL, 5-6% of a replication's 1.7 ms and serial between threads. The
    entry returned here only unboxes (about 17 us): type the arguments once (a block's
    replications differ only in their generator and row), then call it per replication.
    It must be called with arguments of exactly those types. Compiles, or loads numba's
    cached copy, when no overload for them exists yet. Under ``NUMBA_DISABLE_JIT`` it is
    ``func``."""
    if JIT_DISABLED:
        return func
    return func.compile(tuple(func.typeof_pyval(a) for a in args))


def _borrowed_codegen(context, builder, sig, args):
    (value,) = args
    out = value
    for i, member in enumerate(sig.args[0]):
        if isinstance(member, types.Array):
            array = context.make_array(member)(context, builder,
                                               value=builder.extract_value(value, i))
            array.meminfo = cgutils.get_null_value(array.meminfo.type)
            array.parent = cgutils.get_null_value(array.parent.type)
            out = builder.insert_value(out, array._getvalue(), i)
    return out


if JIT_DISABLED:
    def borrowed(arrays):
        """``arrays`` itself (uncompiled there is no reference counting to avoid)."""
        return arrays
else:
    @intrinsic
    def borrowed(typingctx, arrays):
        """The same tuple (e.g. the state's ``Arrays``), each array in it borrowed: the
        same data, shape and strides without numba's meminfo, so compiled code does not
        update its reference count (numba skips a null meminfo, and LLVM then removes the
        calls). Only for arrays whose owner outlives every use: the arguments of a kernel
        entry point, which its Python caller holds for the call. Never for arrays the
        compiled code allocates: nothing would keep them alive."""
        if not isinstance(arrays, types.BaseTuple):
            return None
        return arrays(arrays), _borrowed_codegen
