from __future__ import annotations

from pathlib import Path

import pytest

from runtime import ConfigError, RuntimeConfig, config_from_dict, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_default_config_file_loads() -> None:
    config = load_config(ROOT / "config" / "default.toml", env={})
    assert isinstance(config, RuntimeConfig)
    assert config.source is not None and config.source.endswith("default.toml")


def test_errors_name_the_path_and_the_expected_type() -> None:
    with pytest.raises(
        ConfigError, match=r"Expected `float`, got `str` - at `\$\.telemetry\.sampling`"
    ):
        config_from_dict({"telemetry": {"sampling": "often"}}, env={})
    with pytest.raises(
        ConfigError, match=r"missing required field `factory` - at `\$\.actors\[0\]`"
    ):
        config_from_dict({"actors": [{"name": "x"}]}, env={})
    with pytest.raises(ConfigError, match=r"\$\.runtime\.mailbox"):
        config_from_dict({"runtime": {"mailbox": 0}}, env={})
    with pytest.raises(ConfigError, match=r"unknown field `colour`"):
        config_from_dict({"logging": {"colour": "blue"}}, env={})


def test_unknown_top_level_sections_are_kept_for_other_layers() -> None:
    config = config_from_dict({"agents": [{"name": "helper"}]}, env={})
    assert config.raw["agents"] == [{"name": "helper"}]


def test_env_interpolation_with_defaults_and_missing_variables() -> None:
    doc = {"telemetry": {"service_name": "${SERVICE}-x", "otlp_endpoint": "${OTLP:-http://h}"}}
    config = config_from_dict(doc, env={"SERVICE": "svc"})
    assert config.telemetry.service_name == "svc-x"
    assert config.telemetry.otlp_endpoint == "http://h"
    with pytest.raises(ConfigError, match=r"SERVICE is not set - at `\$\.telemetry\.service_name`"):
        config_from_dict(doc, env={})


def test_mastra_env_overrides_are_typed() -> None:
    env = {
        "MASTRA_TELEMETRY__SAMPLING": "0.25",
        "MASTRA_LOGGING__FORMAT": "json",
        "MASTRA_RUNTIME__SUPERVISION__MAX_RESTARTS": "9",
        "MASTRA_IGNORED": "no double underscore, not an override",
    }
    config = config_from_dict({}, env=env)
    assert config.telemetry.sampling == 0.25
    assert config.logging.format == "json"
    assert config.runtime.supervision.max_restarts == 9
    assert "ignored" not in config.raw


def test_load_config_reports_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(bad)
