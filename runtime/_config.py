"""The kernel's configuration: TOML decoded straight into typed msgspec Structs.

Errors name the path of the bad value (``$.telemetry.sampling``) and what was expected.
Sections the kernel does not own (agents, tools, servers, ...) are kept in ``raw`` for the
components that decode them, so one file configures the whole application.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from runtime._errors import ConfigError

__all__ = [
    "ActorConfig",
    "LoggingConfig",
    "RestartType",
    "RuntimeConfig",
    "RuntimeSection",
    "Strategy",
    "SupervisionConfig",
    "TelemetryConfig",
    "config_from_dict",
    "load_config",
]

RestartType = Literal["permanent", "transient", "temporary"]
Strategy = Literal["one_for_one", "one_for_all", "rest_for_one"]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]


class SupervisionConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """How a supervisor treats its children: OTP strategy, intensity, backoff, grace."""

    strategy: Strategy = "one_for_one"
    max_restarts: Annotated[int, msgspec.Meta(ge=0)] = 3
    within: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    backoff_base: NonNegativeFloat = 0.01
    backoff_max: NonNegativeFloat = 1.0
    grace: NonNegativeFloat = 5.0


class RuntimeSection(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Defaults for actors spawned without explicit options."""

    mailbox: PositiveInt = 64
    stream_buffer: PositiveInt = 16
    supervision: SupervisionConfig = SupervisionConfig()


class TelemetryConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Tracing and metrics: on/off, head sampling ratio, exporter."""

    enabled: bool = True
    sampling: Annotated[float, msgspec.Meta(ge=0, le=1)] = 1.0
    exporter: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str | None = None
    service_name: str = "mastra-runtime"
    record_content: bool = False
    span_processors: list[str] = []
    """``"module:attr"`` names of callables that return an OpenTelemetry ``SpanProcessor``;
    each gets every span the runtime ends (``actors.observability:processor`` keeps them for
    ``/api/observability``). Any of them turns tracing on, as an exporter does."""


class LoggingConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Log records as human-readable lines or JSON lines."""

    format: Literal["human", "json"] = "human"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"


class ActorConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An actor the runtime spawns at start, from a ``"module:attr"`` factory."""

    name: str
    factory: str
    kind: str = "actor"
    restart: RestartType = "permanent"
    mailbox: PositiveInt | None = None
    options: dict[str, Any] = {}


class RuntimeConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The whole configuration as the kernel sees it.

    ``raw`` holds the full decoded document (after interpolation and overrides) so other
    layers can decode their own sections from it; ``source`` is the file it came from.
    """

    runtime: RuntimeSection = RuntimeSection()
    telemetry: TelemetryConfig = TelemetryConfig()
    logging: LoggingConfig = LoggingConfig()
    actors: list[ActorConfig] = []
    raw: dict[str, Any] = {}
    source: str | None = None


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _interpolate(value: Any, path: str, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"environment variable {name} is not set - at `{path}`")

        return _VAR.sub(substitute, value)
    if isinstance(value, dict):
        return {k: _interpolate(v, f"{path}.{k}", env) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, f"{path}[{i}]", env) for i, v in enumerate(value)]
    return value


def _parse_override(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _apply_overrides(doc: dict[str, Any], env: Mapping[str, str]) -> None:
    for key, text in sorted(env.items()):
        if not key.startswith("MASTRA_") or "__" not in key:
            continue
        parts = [p.lower() for p in key.removeprefix("MASTRA_").split("__")]
        target = doc
        for part in parts[:-1]:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key} overrides `$.{'.'.join(parts)}` inside a non-table value")
            target = child
        target[parts[-1]] = _parse_override(text)


def config_from_dict(
    doc: Mapping[str, Any], *, env: Mapping[str, str] | None = None, source: str | None = None
) -> RuntimeConfig:
    """Decode a configuration document (already parsed) into a ``RuntimeConfig``.

    ``${VAR}`` and ``${VAR:-default}`` in strings are replaced from ``env`` (``os.environ`` by
    default) and ``MASTRA_SECTION__KEY=value`` variables override values. Raises
    ``ConfigError`` naming the ``$.path`` of the first bad value.
    """
    environ = os.environ if env is None else env
    data = _interpolate(dict(doc), "$", environ)
    _apply_overrides(data, environ)
    try:
        config = msgspec.convert(data, RuntimeConfig, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigError(str(exc)) from None
    return msgspec.structs.replace(config, raw=data, source=source)


def add_config_dir_to_path(path: str | os.PathLike[str]) -> None:
    """Put the directory of the config file ``path`` first on ``sys.path`` (once), so the
    project's own ``"package.module:attr"`` factories import wherever a command starts."""
    home = str(Path(path).resolve().parent)
    if home not in sys.path:
        sys.path.insert(0, home)


def load_config(
    path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
) -> RuntimeConfig:
    """Read a TOML file and decode it with ``config_from_dict``.

    Raises ``ConfigError`` for a missing file, invalid TOML or a bad value. Blocking (reads
    one small file); call it before entering Trio or through ``trio.to_thread``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}") from None
    return config_from_dict(doc, env=env, source=str(file))
