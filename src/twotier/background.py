"""One worker thread for the work that lets go of the interpreter while it runs: zlib
compression, pyarrow's Parquet encoding. Given to it, that work takes the other core
while the main thread goes on with Python (Tier-2, the CSV files, the report)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache


@cache
def background() -> ThreadPoolExecutor:
    """The process's worker thread, made when first asked for; its tasks run in the order
    they are given."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="twotier-background")
