"""The project's errors: each says what went wrong and where, for a person to fix it."""

from __future__ import annotations


def cell_text(value, limit: int = 60) -> str:
    """A cell of a user's file as an error shows it: whole, or its first ``limit``
    characters and an ellipsis (one cell may hold megabytes of text)."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class TwotierError(Exception):
    """Base of every error the CLI reports without a traceback."""


class ConfigError(TwotierError):
    """A configuration value, key or file is not acceptable."""


class UnknownInstrumentError(ConfigError):
    def __init__(self, key: str, known: list[str]):
        self.key = key
        self.known = sorted(known)
        super().__init__(
            f"unknown instrument {key!r}; known instruments: {', '.join(self.known)} (describe "
            "another in an instruments file: data.instruments_file in the configuration, "
            "--instruments FILE for twotier data; docs/data.md, 'Adding an instrument')"
        )


class CalendarError(TwotierError):
    """A date the trading calendar cannot place."""


class DataError(TwotierError):
    """Bad input data. Names the file, the line (or row) and the problem."""

    def __init__(self, source: str, problem: str, line: int | None = None):
        self.source = source
        self.line = line
        self.problem = problem
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {problem}")


class BadBarsError(DataError):
    """One or more bars failed validation; lists each problem with its line."""

    def __init__(
        self,
        source: str,
        problems: list[BarProblem],
        unit: str = "line",
        hint: str = "use --on-bad-bar drop (on_bad_bar='drop') to drop such bars and report them",
    ):
        self.problems = problems
        self.unit = unit
        self.hint = hint
        first = problems[0]
        shown = "\n".join(f"  {unit} {p.line}: {p.problem}" for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        TwotierError.__init__(
            self, f"{source}: {len(problems)} bad bar(s)\n{shown}{more}\n({hint})"
        )
        self.source = source
        self.line = first.line
        self.problem = first.problem


class BarProblem:
    """One bad row: its line in the source file, its time as written, what is wrong, and
    the kind of problem (``outside``, ``envelope``, ``weekend_night``, ...; see
    ``twotier.market.validation``)."""

    __slots__ = ("kind", "line", "problem", "time")

    def __init__(self, line: int, problem: str, time: str = "", kind: str = ""):
        self.line = line
        self.problem = problem
        self.time = time
        self.kind = kind

    def __repr__(self) -> str:
        return f"BarProblem(line={self.line}, problem={self.problem!r})"

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"
