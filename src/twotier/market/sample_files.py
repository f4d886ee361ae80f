"""The bundled sample: its instruments, the seed and trading days it was generated with,
and where its files are. Apart from ``twotier.market.sample``, which generates and reads
them, so that the ``sample`` command's defaults load without the generator."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_SEED = 20240101
SAMPLE_START = "2023-01-03"
SAMPLE_END = "2025-12-31"
SAMPLE_INSTRUMENTS = ("DCE/i", "SHFE/cu", "DCE/m")


def sample_file_name(key: str) -> str:
    """``DCE/i`` -> ``DCE_i.parquet``."""
    return key.replace("/", "_") + ".parquet"


def sample_paths() -> dict[str, Path]:
    """The bundled sample files by instrument key."""
    folder = resources.files("twotier.resources").joinpath("sample")
    return {key: Path(str(folder.joinpath(sample_file_name(key)))) for key in SAMPLE_INSTRUMENTS}
