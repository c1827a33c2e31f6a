"""HOME/config.json: defaults, overrides, and every kind of bad file as a fatal config error."""

from __future__ import annotations

import pytest

from hermes_lifecycle.config import DEFAULT_DRAIN_TIMEOUT, GatewayConfig, drain_timeout, load_config
from hermes_lifecycle.errors import ConfigError


def _write(home, text: str) -> None:
    home.root.mkdir(parents=True, exist_ok=True)
    home.config_file.write_text(text)


def test_missing_file_means_the_defaults(home):
    assert load_config(home) == GatewayConfig("127.0.0.1", 0, DEFAULT_DRAIN_TIMEOUT)
    assert drain_timeout(home) == 30.0


def test_keys_are_read_and_the_option_overrides_the_file(home):
    _write(home, '{"port": 8642, "host": "127.0.0.1", "restart_drain_timeout": 12.5}')
    assert load_config(home) == GatewayConfig("127.0.0.1", 8642, 12.5)
    assert drain_timeout(home) == 12.5
    assert drain_timeout(home, 3) == 3.0


def test_a_file_saved_with_a_utf8_byte_order_mark_is_read(home):
    """Windows Notepad (before 1903) saved UTF-8 with a BOM: the file is fine, not exit 78."""
    home.root.mkdir(parents=True, exist_ok=True)
    home.config_file.write_bytes(b"\xef\xbb\xbf" + b'{"restart_drain_timeout": 12}')
    assert load_config(home).restart_drain_timeout == 12.0


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "one JSON object"),
    ('{"restart_drain_timout": 5}', "unknown key 'restart_drain_timout'"),
    ('{"restart_drain_timeout": 0}', "restart_drain_timeout must be"),
    ('{"restart_drain_timeout": true}', "restart_drain_timeout must be"),
    ('{"port": 70000}', "port must be"),
    ('{"port": "80"}', "port must be"),
    ('{"host": ""}', "host must be"),
])
def test_bad_config_is_a_fatal_configuration_error_exit_78(home, text, words):
    _write(home, text)
    with pytest.raises(ConfigError) as caught:
        load_config(home)
    assert caught.value.exit_code == 78
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert str(home.config_file) in str(caught.value)


def test_bad_drain_timeout_override_is_refused(home):
    with pytest.raises(ConfigError):
        drain_timeout(home, -1)
