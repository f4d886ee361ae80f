"""A vn.py gateway inside the live loop: loading it by name, its connection settings, and
its events handed to the loop's single thread.

vn.py's gateways (``vnpy_ctp`` and its siblings) run the exchange's API on threads of
their own and report everything through ``event_engine.put(Event)``: ticks, orders,
trades, positions, the account, contracts, log lines. ``GatewayEvents`` stands in for
vn.py's event engine: it queues those events, and the loop takes them one by one on its
own thread (``take``), so twotier's state is only ever touched by one thread. Timer
handlers a gateway registers (CTP queries the account and positions every other second)
are called from ``take`` once a second.

``GatewayLink`` keeps what the gateway told: contracts, the latest tick of each
contract, orders by the gateway's id, positions, the account, and whether it (re)logged
in. vn.py has no connection event: a (re)login is recognised by the gateway's log line
(``LOGIN_LINES``), and after one the loop reconciles (docs/live.md).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import queue
import stat
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twotier.errors import ConfigError, TwotierError

# The log line with which a gateway says its trading front logged in (vn.py has no
# connection event): CTP's "交易服务器登录成功" ("trading server login succeeded").
LOGIN_LINES = ("交易服务器登录成功",)
# The line with which a gateway says it has told all its contracts (CTP: "合约信息查询成功",
# contract query succeeded); CTP pushes the day's orders and trades right after it.
READY_LINES = ("合约信息查询成功",)
TIMER_SECONDS = 1.0


class GatewayError(TwotierError):
    """The gateway could not be loaded, connected or used."""


# -- loading -----------------------------------------------------------------------------


def load_gateway_class(name: str, state_dir: Path) -> type:
    """The gateway class for ``name``: ``ctp`` -> ``vnpy_ctp.CtpGateway`` (the package
    ``vnpy_NAME`` and the gateway class it exports), or ``module:Class``.

    vn.py keeps its working files (CTP's flow files) in ``.vntrader`` under the home
    folder, chosen when ``vnpy.trader.utility`` is first imported; that import happens
    here with the home folder pointed at the state folder, so they live in
    ``STATE/.vntrader`` (one process trades one state folder)."""
    module_name, _, class_name = name.partition(":")
    if not class_name:
        module_name = f"vnpy_{name.lower()}"
    with _home(state_dir):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            hint = "install vn.py's gateways with `make live` (docs/live.md)"
            raise GatewayError(f"no vn.py gateway {name!r}: {exc}; {hint}") from None
    from vnpy.trader.gateway import BaseGateway

    if class_name:
        candidates = [getattr(module, class_name, None)]
    else:
        candidates = [getattr(module, n) for n in getattr(module, "__all__", dir(module))]
    candidates = [c for c in candidates if inspect.isclass(c)]  # a function is no gateway
    gateways = [c for c in candidates if issubclass(c, BaseGateway) and c is not BaseGateway]
    if len(gateways) != 1:
        raise GatewayError(f"{module_name} does not name one vn.py gateway class ({name!r})")
    return gateways[0]


@contextmanager
def _home(state_dir: Path):
    folder = Path(state_dir).resolve()
    previous = os.environ.get("HOME")
    os.environ["HOME"] = str(folder)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["HOME"]
        else:
            os.environ["HOME"] = previous


def read_connect_settings(path: Path, gateway: type) -> dict[str, Any]:
    """The gateway's own settings dict (vn.py's ``default_setting`` keys) from a JSON
    file that only its owner may read. Values are never logged or echoed: errors name
    keys only."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{path}: connection settings file not found") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path}: the connection settings (a password) are readable by others "
            f"(mode {stat.S_IMODE(mode):o}); make it private with `chmod 600 {path}`"
        )
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a JSON file ({type(exc).__name__})") from None
    if not isinstance(settings, dict):
        raise ConfigError(f"{path}: expected a JSON object of the gateway's settings")
    expected: dict[str, Any] = dict(getattr(gateway, "default_setting", {}))
    missing = [k for k in expected if k not in settings]
    unknown = [k for k in settings if k not in expected]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown {', '.join(unknown)}")
        raise ConfigError(
            f"{path}: settings of {gateway.__name__} are {', '.join(expected)}; " + "; ".join(parts)
        )
    for key, default in expected.items():
        if isinstance(default, list) and settings[key] not in default:
            raise ConfigError(f"{path}: {key} must be one of {', '.join(map(str, default))}")
        if isinstance(default, bool | int | float) and not isinstance(settings[key], type(default)):
            raise ConfigError(f"{path}: {key} must be a {type(default).__name__}")
    return settings


# -- events ------------------------------------------------------------------------------


class GatewayEvents:
    """vn.py's event engine as the gateway sees it (``put``, ``register`` ...); the loop
    takes the events on its own thread."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic):
        self.inbox: queue.Queue = queue.Queue()
        self.handlers: dict[str, list[Callable]] = {}
        self.monotonic = monotonic
        self._next_timer = monotonic() + TIMER_SECONDS

    def put(self, event) -> None:
        self.inbox.put(event)

    def register(self, kind: str, handler: Callable) -> None:
        self.handlers.setdefault(kind, []).append(handler)

    def unregister(self, kind: str, handler: Callable) -> None:
        if handler in self.handlers.get(kind, []):
            self.handlers[kind].remove(handler)

    def register_general(self, handler: Callable) -> None:  # vn.py's API; unused here
        self.register("", handler)

    def unregister_general(self, handler: Callable) -> None:
        self.unregister("", handler)

    def start(self) -> None:  # the loop drives it
        pass

    def stop(self) -> None:
        pass

    def take(self, timeout: float) -> list:
        """The events queued, waiting up to ``timeout`` seconds for the first; runs the
        gateway's timer handlers when a second has passed."""
        events = []
        try:
            events.append(self.inbox.get(timeout=max(0.0, timeout)))
            while True:
                events.append(self.inbox.get_nowait())
        except queue.Empty:
            pass
        now = self.monotonic()
        if now >= self._next_timer and self.handlers.get("eTimer"):
            self._next_timer = now + TIMER_SECONDS
            from vnpy.event import Event

            for handler in list(self.handlers["eTimer"]):
                handler(Event("eTimer"))
        return events


# -- what the gateway told ---------------------------------------------------------------


@dataclass
class GatewayView:
    """The gateway's world as its events describe it."""

    contracts: dict[str, Any] = field(default_factory=dict)  # symbol -> ContractData
    ticks: dict[str, Any] = field(default_factory=dict)  # symbol -> latest TickData
    orders: dict[str, Any] = field(default_factory=dict)  # gateway order id -> OrderData
    positions: dict[tuple[str, str], Any] = field(default_factory=dict)  # (symbol, dir)
    account: Any = None
    logins: int = 0
    logs: list[str] = field(default_factory=list)

    def get_contract(self, vt_symbol: str):
        """For vn.py's OffsetConverter."""
        return self.contracts.get(vt_symbol.rsplit(".", 1)[0])
