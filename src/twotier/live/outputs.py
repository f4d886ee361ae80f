"""The run folder of a paper run, written as the backtest writes it.

At any moment the folder reads as a backtest that ended at the last committed step: the
session's journal and records go through the backtest's own ``finish`` (on copies: the
live state is not ended), ``collect`` and ``write_run_folder``, so the files are the same
bytes a backtest over the same bars writes, the warnings about suspected rolls (of
instruments without roll information, on the bars seen so far) included.
``write_run_folder`` replaces the folder only once the new one is complete, report
included; the database is the truth, and a restart writes the folder again from it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from twotier.broker import simulated_broker
from twotier.config.model import Config
from twotier.engine.backtest import collect
from twotier.engine.continuous import suspected_roll_warnings
from twotier.engine.inputs import loading_records
from twotier.live.rolls import ContractColumnRolls
from twotier.live.session import PaperSession
from twotier.live.signals import bars_frame
from twotier.market.delivery import deadline_warnings
from twotier.report.run_report import write_run_folder
from twotier.run.folder import PAPER_RUN
from twotier.run.result import BacktestResult
from twotier.tier2.composite import Composite
from twotier.tier2.journal import Journal


def snapshot(session: PaperSession) -> BacktestResult:
    """The results of a backtest ending now (entries not yet filled dropped, open
    positions reported open or closed as ``execution.close_at_end`` says)."""
    config, specs = session.config, session.specs
    # A simulated broker: data end must never send anything to a real one.
    ended = Composite(
        config,
        specs,
        simulated_broker(config, specs),
        session.composite.settlements,
        session.composite.deadlines,
    )
    journal = session.composite.journal
    ended.journal = Journal(list(journal.decisions), list(journal.fills), list(journal.trades))
    ended.recorder = copy.deepcopy(session.composite.recorder)
    state = copy.deepcopy(session.state)
    ended.finish(state)
    packages = {live.instrument: live.frame() for live in session.instruments}
    result = collect(ended, state, recorded_config(session), packages)
    result.summary.update(loading_records(session.feed_records))
    result.warnings.extend(json.loads(session.store.meta("warnings") or "[]"))  # as it started
    result.warnings.extend(roll_warnings(session))
    result.warnings.extend(deadline_notes(session))
    return result


def recorded_config(session: PaperSession) -> Config:
    """The configuration as the run folder records it: with the label the feed is read
    with (the state's, from ``--label`` when it began) and the contract column, as a
    backtest's config.toml holds them, so that ``backtest --config RUN/config.toml`` on
    the feed's bars reads them the same way."""
    config = session.config
    feed = json.loads(session.store.meta("feed") or "{}")
    data = config.data.model_copy(
        update={
            "label": feed.get("label", config.data.label),
            "contract_column": session.rolls.contract_column,
        }
    )
    return config.model_copy(update={"data": data})


def roll_warnings(session: PaperSession) -> list[str]:
    """The backtest's suspected-roll warnings, on every bar Tier-1 has seen of the
    instruments without roll information (the others are never suspected)."""
    if not session.config.rolls.warn_suspected:
        return []
    unknown = [live for live in session.instruments if live.rolls is None and live.bars]
    bars = {live.instrument: bars_frame(live.bars) for live in unknown}
    return suspected_roll_warnings(bars, {}, session.config)


def deadline_notes(session: PaperSession) -> list[str]:
    """The backtest's warnings about contracts that the roll information keeps on or
    after their delivery deadline, on the bars seen so far."""
    config = session.config
    if not config.contracts.delivery_deadline:
        return []
    notes = []
    for live in session.instruments:
        if live.rolls is None or not live.rolls.names_contracts or not live.bars:
            continue
        column = isinstance(live.rolls, ContractColumnRolls)
        notes += deadline_warnings(
            live.instrument,
            np.array(live.contracts, dtype=str),
            np.array([bar.trading_day for bar in live.bars], dtype="datetime64[D]"),
            session.env.calendar,
            config.contracts.exit_days_before_delivery,
            "contract column" if column else "roll schedule",
        )
    return notes


def write_outputs(session: PaperSession, out_dir: str | Path) -> Path:
    result = snapshot(session)
    return write_run_folder(result, out_dir, kind=PAPER_RUN)
