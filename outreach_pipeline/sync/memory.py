"""Process-wide allocator and collector settings for a long sync's memory and time.

A sync frees large buffers (response bodies, parsed pages, Arrow batches) from several
threads all the time. Two allocator habits turned that into resident memory that never came
back, so that peak RSS grew with the length of a sync rather than with what it holds at once:

- Arrow's default pool (jemalloc or mimalloc) keeps freed batches for reuse: ~40 MB more at
  the peak. The C allocator hands them back.
- glibc's malloc gives each thread its own arena, up to eight per core, and each keeps its
  freed, fragmented pages: limiting the process to two arenas took 35-50 MB off the peak of a
  full sync of 250k-1M records.

And Python's cyclic garbage collector ran about 12,700 times in a full sync at scale 20000,
3-4 s of a 19-24 s run, holding the GIL: parsing a page allocates hundreds of thousands of
dicts and lists, and every 700 of them start a collection that walks the pages still held.
Parsed pages hold no cycles, so a collection every 50,000 allocations is enough (51 runs,
0.4 s; peak RSS unchanged).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import platform

import pyarrow as pa

log = logging.getLogger(__name__)

_M_ARENA_MAX = -8  # glibc's malloc.h
MALLOC_ARENAS = 2
YOUNG_COLLECTION_THRESHOLD = 50_000


def tune_process_memory() -> None:
    """Arrow on the C allocator, the young generation collected every
    ``YOUNG_COLLECTION_THRESHOLD`` allocations (or less often, if it already was) and, with
    glibc, at most ``MALLOC_ARENAS`` malloc arenas. Threads started before the call keep the
    arenas they have."""
    pa.set_memory_pool(pa.system_memory_pool())
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_COLLECTION_THRESHOLD), *older)
    if platform.libc_ver()[0] != "glibc":
        return
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    try:
        libc = ctypes.CDLL(libc_name)
        if libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS) != 1:
            log.debug("mallopt(M_ARENA_MAX) refused")
    except (OSError, AttributeError) as error:
        log.debug("malloc arenas left as they are: %s", error)
