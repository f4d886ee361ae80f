"""Parameter sweeps and walk-forward analysis over any configuration key, run on Dask.

space.py      the search-space TOML: dimensions, grid / random sets, validation
objective.py  what a set is ranked by, and its constraints
windows.py    the whole period, or rolling / anchored walk-forward windows
tasks.py      the functions that run on the workers: Tier-1 packages, one backtest
store.py      one result file per finished run, keyed for resume
cluster.py    a local Dask cluster, or a running one by its scheduler address
runner.py     the Dask graph: shared Tier-1, one Tier-2 task per set and window
results.py    the results table, the ranking, the stitched out-of-sample curve
sweep.py      a whole sweep: plan, run, summarise (the CLI's, benchmark's and tests' entry)
outputs.py    the output folder: results.parquet, summary.json, oos_equity.parquet
report.py     the self-contained HTML report
"""
