"""The run folder's one home: the result object and its column lists (``result``), the
writer of a run folder's data files (``writer``, its times written by ``stamps``) and its
reader (``reader``). The engine produces a ``BacktestResult``; the report reads one;
neither imports the other."""
