"""Settings: embedded defaults with no environment, HORAE_* overrides, and the Redis fallback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from horae.settings import Settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No HORAE_* variables at all, and an empty working directory."""
    for name in list(os.environ):
        if name.upper().startswith("HORAE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_defaults_need_no_environment(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = Settings()
    assert settings.data_dir == Path("var")
    assert settings.database_url == ""
    assert settings.queue_url == ""
    assert settings.redis_url == ""
    assert settings.secret_key == ""
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.embedded_worker is True
    assert settings.access_token_ttl_seconds == 3600
    assert (settings.rate_limit_per_second, settings.rate_limit_per_minute) == (50, 500)


def test_default_database_is_embedded_sqlite_in_the_data_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = Settings().resolved_database_url()
    assert url == f"sqlite:///{(tmp_path / 'var' / 'horae.db').resolve()}"
    assert Path(url.removeprefix("sqlite:///")).is_absolute()


def test_embedded_sqlite_follows_data_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HORAE_DATA_DIR", str(tmp_path / "elsewhere"))
    assert Settings().resolved_database_url() == f"sqlite:///{(tmp_path / 'elsewhere' / 'horae.db').resolve()}"


def test_environment_overrides(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HORAE_DATABASE_URL", "postgresql://db.internal/horae")
    clean_env.setenv("HORAE_QUEUE_URL", "redis://queue.internal:6379/0")
    clean_env.setenv("HORAE_PORT", "9001")
    clean_env.setenv("HORAE_EMBEDDED_WORKER", "false")
    clean_env.setenv("HORAE_RATE_LIMIT_PER_SECOND", "7")
    clean_env.setenv("HORAE_LOG_FORMAT", "json")
    clean_env.setenv("HORAE_DATA_DIR", str(tmp_path / "data"))
    settings = Settings()
    assert settings.database_url == "postgresql://db.internal/horae"
    assert settings.resolved_database_url() == "postgresql://db.internal/horae"
    assert settings.queue_url == "redis://queue.internal:6379/0"
    assert settings.port == 9001
    assert settings.embedded_worker is False
    assert settings.rate_limit_per_second == 7
    assert settings.log_format == "json"
    assert settings.data_dir == tmp_path / "data"


def test_environment_names_are_case_insensitive(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("horae_port", "9002")
    assert Settings().port == 9002


def test_unrelated_and_unknown_variables_are_ignored(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORT", "1")
    clean_env.setenv("HORAE_NO_SUCH_SETTING", "x")
    assert Settings().port == 8000


def test_a_bad_value_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HORAE_PORT", "not-a-number")
    with pytest.raises(ValueError, match="port"):
        Settings()


def test_explicit_arguments_win_over_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HORAE_PORT", "9003")
    assert Settings(port=9004).port == 9004


def test_redis_url_empty_when_embedded(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings().resolved_redis_url() == ""
    assert Settings(queue_url="sqlite").resolved_redis_url() == ""
    assert Settings(queue_url="immediate").resolved_redis_url() == ""


def test_redis_url_falls_back_to_a_redis_queue_url(clean_env: pytest.MonkeyPatch) -> None:
    assert Settings(queue_url="redis://queue:6379/2").resolved_redis_url() == "redis://queue:6379/2"
    assert Settings(queue_url="rediss://queue:6380/0").resolved_redis_url() == "rediss://queue:6380/0"


def test_explicit_redis_url_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HORAE_QUEUE_URL", "redis://queue:6379/2")
    clean_env.setenv("HORAE_REDIS_URL", "redis://limits:6379/5")
    assert Settings().resolved_redis_url() == "redis://limits:6379/5"
