"""Internal: finding providers: entry points in ``paradime.providers``, registered with pluggy.

Built-in providers are found exactly as third-party ones are: there is no list of them here.
A provider whose import fails is recorded and skipped so that one broken package never takes the
whole CLI down. ``PARADIME_LOAD_PLUGINS`` (comma-separated allow-list of entry point or
distribution names, empty for none) and ``PARADIME_DISABLE_PLUGINS`` (block-list) are the escape
hatches when a provider breaks start-up.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy

from paradime import hookspecs
from paradime.api import Command, ListCommand, TriggerCommand
from paradime.entrypoints import Unreadable, entry_points

GROUP = "paradime.providers"


@dataclass
class ProviderInfo:
    """One provider as ``paradime providers`` shows it."""

    name: str
    distribution: str | None
    version: str | None
    commands: list[str] = field(default_factory=list)
    error: str | None = None


def _csv_env(name: str) -> set[str] | None:
    raw = os.environ.get(name)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


class PluginManager:
    """The pluggy manager plus the commands the loaded providers declared."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("paradime")
        self.pm.add_hookspecs(hookspecs)
        self.providers: dict[str, ProviderInfo] = {}
        self.commands: dict[str, Command] = {}
        self.aliases: dict[str, str] = {}
        self.warnings: list[str] = []
        self._loaded = False
        self._commands_collected = False

    def load_entry_points(self) -> None:
        """Register every allowed provider entry point; safe to call twice."""
        if self._loaded:
            return
        self._loaded = True
        allow = _csv_env("PARADIME_LOAD_PLUGINS")
        block = _csv_env("PARADIME_DISABLE_PLUGINS") or set()
        unreadable: list[Unreadable] = []
        for ep in entry_points(GROUP, unreadable):
            dist_name = ep.distribution
            names = {ep.name} | ({dist_name} if dist_name else set())
            if allow is not None and not names & allow:
                continue
            if names & block:
                continue
            info = ProviderInfo(
                name=ep.name,
                distribution=dist_name,
                version=ep.version,
            )
            self.providers[ep.name] = info
            if self.pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
                self.pm.register(plugin, name=ep.name)
                self.pm.check_pending()  # a misspelled hook name: this provider's fault only
            except Exception as exc:  # a broken provider must not break the CLI
                if self.pm.get_plugin(ep.name) is not None:
                    self.pm.unregister(name=ep.name)
                info.error = f"{type(exc).__name__}: {exc}"
                self.warnings.append(
                    f"provider '{ep.name}' ({dist_name or 'unknown distribution'}) failed to "
                    f"load and was skipped: {info.error}"
                )
        for bad in unreadable:  # as a provider that fails to load: skipped, with a warning
            if (allow is not None and bad.distribution not in allow) or bad.distribution in block:
                continue
            self.warnings.append(
                f"distribution '{bad.distribution}' ({bad.path}) was skipped: {bad.reason}"
            )

    def register(self, plugin: Any, name: str, distribution: str | None = None) -> None:
        """Register a provider object directly (tests, embedding applications)."""
        self.pm.register(plugin, name=name)
        self.providers[name] = ProviderInfo(name=name, distribution=distribution, version=None)
        self._commands_collected = False
        self.pm.check_pending()

    def call_each(
        self, hook_name: str, kwargs_for: Callable[[str], Mapping[str, Any]]
    ) -> list[tuple[str, Exception]]:
        """Call a hook once per provider that implements it, in pluggy's order, each call through
        pluggy's own machinery (argument selection, wrappers); returns the failures.

        One provider's exception neither stops the others nor reaches the caller: a plain hook
        call stops at the first exception. ``kwargs_for(provider)`` gives each call its
        arguments, so a callback can know which provider it serves. Wrappers (``wrapper=True``)
        wrap each provider's call.
        """
        caller = getattr(self.pm.hook, hook_name)
        plain = [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
        failures: list[tuple[str, Exception]] = []
        for impl in reversed(plain):  # pluggy calls the last registered first
            others = [i.plugin for i in plain if i.plugin is not impl.plugin]
            try:
                self.pm.subset_hook_caller(hook_name, remove_plugins=others)(
                    **kwargs_for(impl.plugin_name)
                )
            except Exception as exc:
                failures.append((impl.plugin_name, exc))
        return failures

    def collect_commands(self) -> dict[str, Command]:
        """Ask every provider for its commands; later calls return the same mapping."""
        if self._commands_collected:
            return self.commands
        self._commands_collected = True
        self.commands.clear()
        self.aliases.clear()
        for info in self.providers.values():
            info.commands = []

        def kwargs_for(provider: str) -> dict[str, Any]:
            self.providers.setdefault(
                provider, ProviderInfo(name=provider, distribution=None, version=None)
            )
            return {"register": lambda command: self._add_command(command, provider)}

        for provider, exc in self.call_each("paradime_register_commands", kwargs_for):
            self.providers[provider].error = f"{type(exc).__name__}: {exc}"
            self.warnings.append(
                f"provider '{provider}' failed to declare its commands: "
                f"{self.providers[provider].error}"
            )
        return self.commands

    def notify_run_finished(self, **kwargs: Any) -> None:
        """Tell every observer how a trigger command ended; a failing one is a warning only."""
        for provider, exc in self.call_each("paradime_run_finished", lambda _: kwargs):
            self.warnings.append(
                f"a paradime_run_finished hook failed (provider '{provider}'): {exc}"
            )
        self.emit_warnings()

    def _add_command(self, command: Command, provider: str) -> None:
        if not isinstance(command, (TriggerCommand, ListCommand)):
            self.warnings.append(
                f"provider '{provider}' registered {command!r}, which is not a command; ignored"
            )
            return
        for name in (command.name, *command.aliases):
            owner = self._owner_of(name)
            if owner is not None:
                self.warnings.append(
                    f"command '{name}' of provider '{provider}' is already registered by "
                    f"provider '{owner}'; ignored"
                )
                return
        if not command.provider:
            command = dataclasses.replace(command, provider=provider)
        self.commands[command.name] = command
        for alias in command.aliases:
            self.aliases[alias] = command.name
        self.providers[provider].commands.append(command.name)

    def _owner_of(self, name: str) -> str | None:
        real = self.aliases.get(name, name)
        if real not in self.commands:
            return None
        for info in self.providers.values():
            if real in info.commands:
                return info.name
        return "unknown"

    def emit_warnings(self) -> None:
        """Print the warnings gathered so far on stderr (redacted), once each."""
        from paradime.redaction import REDACTOR

        for message in self.warnings:
            print(REDACTOR(f"Warning: {message}"), file=sys.stderr)
        self.warnings.clear()


_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    """The process-wide manager, with entry points loaded."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
        _manager.load_entry_points()
    return _manager


def set_manager(manager: PluginManager | None) -> None:
    """Replace the process-wide manager (the test harness uses this)."""
    global _manager
    _manager = manager
