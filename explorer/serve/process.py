"""Process-wide settings a long-running server needs: how glibc's malloc keeps memory across threads.

glibc gives each thread that contends for malloc an arena of its own, up to 8 per core. A server's worker threads
(Gradio's, the decode batcher, FluidSynth's renders) each allocate and free megabyte-sized numpy buffers of many
sizes, so 16 users held memory in ever more fragmented arenas: RSS grew ~12 MB a minute under a steady load and did
not level off (`python -m bench --only http`, the sustained run). With 2 arenas it levelled off within about a
minute at the same calls a second (measured side by side with MALLOC_ARENA_MAX=2 in the environment).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

MALLOC_ARENAS = 2  # arenas malloc may use in all (glibc's default: 8 per core)
_M_ARENA_MAX = -8  # mallopt's parameter number for it (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for the rest of this process's life (arenas made before stay); a deployer's own
    MALLOC_ARENA_MAX wins. Returns whether the cap was set (False off glibc, or when the deployer set theirs)."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to set
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, int(arenas)))
