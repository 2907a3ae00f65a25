"""The one settings object: every HORAE_* environment variable is read here and nowhere else."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Typed configuration; embedded defaults need no environment at all."""

    model_config = SettingsConfigDict(env_prefix="HORAE_", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Where the SQLite files and generated secrets live")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in data_dir")
    queue_url: str = Field(
        "",
        description="Job queue: empty or 'sqlite' (file in data_dir), 'redis://...', or 'immediate' (tests)",
    )
    redis_url: str = Field("", description="Redis for shared rate limits; defaults to queue_url if that is Redis")
    public_base_url: str = Field("", description="Externally reachable base URL; empty means the request's host")
    host: str = "127.0.0.1"
    port: int = 8000
    embedded_worker: bool = Field(True, description="Run the job consumer inside the server process")
    worker_threads: int = 2
    job_poll_seconds: float = Field(2.0, description="How often the sweeper looks for due jobs")
    job_lease_seconds: float = Field(300.0, description="How long a worker holds a job before others may retry it")
    secret_key: str = Field("", description="Base64 32-byte master key; empty means generated into data_dir")
    access_token_ttl_seconds: int = 3600
    demo_token_ttl_days: int = 3650
    rate_limit_per_second: int = 50
    rate_limit_per_minute: int = 500
    dev_mode: bool = Field(True, description="Accept loopback http callback and redirect URIs")
    log_format: str = Field("auto", description="'json', 'console', or 'auto' (console on a terminal)")
    log_level: str = "INFO"
    password_time_cost: int = 3
    password_memory_cost: int = 65536
    push_timeout_seconds: float = Field(5.0, description="How long a push receiver has to answer 2xx")
    callbacks_loopback_only: bool = Field(
        False, description="Call back nothing but loopback addresses (test rigs, air-gapped demos)"
    )

    def resolved_database_url(self) -> str:
        """The database URL, falling back to the embedded SQLite file."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'horae.db').resolve()}"

    def resolved_redis_url(self) -> str:
        """The Redis URL for shared state, or '' when running embedded."""
        if self.redis_url:
            return self.redis_url
        return self.queue_url if self.queue_url.startswith("redis") else ""
