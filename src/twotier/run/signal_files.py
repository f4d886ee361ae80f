"""A run folder's signal files (``signals/*.parquet``), encoded on the background thread.
pyarrow encodes and compresses Parquet without holding the GIL, so the encoding runs on
the other core beside whatever the main thread does meanwhile: Tier-2, when the files are
started as soon as Tier-1 has made the packages (``run_backtest``'s ``on_signals``, as the
CLI does), or else the formatting of the CSV files. The Arrow tables are made on the
caller's thread first (6 ms for ten years): pandas to Arrow is Python, and on the
background thread it took the GIL from Tier-2 often enough to make a ten-year Tier-2
0.05 s slower."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path

import pandas as pd

from twotier.background import background
from twotier.config.model import Config
from twotier.io import WritesBehind
from twotier.tier1.package import namespace_path, package_table, parquet_bytes


class SignalFiles:
    """The Parquet files of one run's packages: ``start`` them, ``write`` them into the
    run folder. The bytes are those ``write_packages`` writes."""

    def __init__(self) -> None:
        self._packages: dict[str, pd.DataFrame] = {}
        self._config: Config | None = None
        self._encoded: dict[str, Future] = {}

    def start(
        self,
        packages: Mapping[str, pd.DataFrame],
        config: Config,
        origins: Mapping[str, tuple[str, dict]] | None = None,
    ) -> None:
        """Make each basket's package table (its generator and parameters named in the
        file: the configuration's, or ``origins``' for packages given to Tier-2 alone) and
        start its encoding on the background thread (``twotier.background``)."""
        self._config = config
        for instrument, frame in packages.items():
            self._packages[instrument] = frame
            generator, params = (origins or {}).get(instrument) or (
                config.generator_name(instrument),
                config.tier1_params(instrument).model_dump(mode="json"),
            )
            table = package_table(frame, instrument, generator, params)
            self._encoded[instrument] = background().submit(parquet_bytes, table)

    def made_for(self, packages: Mapping[str, pd.DataFrame], config: Config) -> bool:
        """Whether these files were started from exactly these package tables and this
        configuration."""
        return (
            config is self._config
            and self._packages.keys() == packages.keys()
            and all(frame is packages[k] for k, frame in self._packages.items())
        )

    def write(self, folder: Path, behind: WritesBehind) -> None:
        """Hand each file, once encoded, to ``behind`` for ``folder``'s ``signals/`` (an
        encoding that failed raises here, and so fails the run folder); their bytes are
        let go once written."""
        for instrument, encoded in self._encoded.items():
            path = namespace_path(folder, instrument)
            path.parent.mkdir(parents=True, exist_ok=True)
            behind.write(path, [encoded.result()])
        self._encoded.clear()  # the run goes on to its report: 14 MB for ten years
