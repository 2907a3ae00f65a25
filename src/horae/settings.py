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
    smtp_url: str = Field(
        "",
        description="Outgoing mail: smtp://[user:password@]host[:port], smtp+starttls://... or smtps://...; "
        "empty means mail is not sent (only logged as not sent)",
    )
    mail_from: str = Field("horae@localhost", description="The From address of mail Horae sends")
    # Calendar services. The OAuth and API base URLs are settings so that tests (and air-gapped installs)
    # can point the connectors at emulators or proxies.
    provider_timeout_seconds: float = Field(20.0, description="How long one call to a calendar service may take")
    sync_days_back: int = Field(42, description="Start of the sync window, in days before now")
    sync_days_ahead: int = Field(201, description="End of the sync window, in days after now")
    sync_poll_seconds: int = Field(300, description="How often calendars without push (CalDAV, ICS) are polled")
    sync_full_pass_hours: int = Field(24, description="How often a full listing re-checks every calendar")
    google_client_id: str = ""
    google_client_secret: str = ""
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_api_url: str = "https://www.googleapis.com"
    microsoft_client_id: str = ""
    microsoft_client_secret: str = ""
    microsoft_auth_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    microsoft_token_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    microsoft_api_url: str = "https://graph.microsoft.com/v1.0"
    # Conferencing services people connect through OAuth (conferencing profiles).
    zoom_client_id: str = ""
    zoom_client_secret: str = ""
    zoom_auth_url: str = "https://zoom.us/oauth/authorize"
    zoom_token_url: str = "https://zoom.us/oauth/token"
    zoom_api_url: str = "https://api.zoom.us/v2"
    teams_client_id: str = ""
    teams_client_secret: str = ""
    teams_auth_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    teams_token_url: str = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    teams_api_url: str = "https://graph.microsoft.com/v1.0"
    # Conferencing for built-in calendars (`integrated`, and `default` there): a provider key, "" for none.
    builtin_conferencing: str = "jitsi"
    jitsi_base_url: str = "https://meet.jit.si"

    def provider_options(self, key: str) -> dict[str, str]:
        """What a calendar provider plugin is configured with: its own `{key}_*` settings (prefix removed)
        the shared timeout, and whether
        user-given server URLs may name loopback hosts (development mode only)."""
        found = {"timeout_seconds": str(self.provider_timeout_seconds), "allow_loopback": str(self.dev_mode)}
        prefix = f"{key}_"
        for name, value in self.model_dump().items():
            if name.startswith(prefix):
                found[name.removeprefix(prefix)] = str(value)
        return found

    def resolved_database_url(self) -> str:
        """The database URL, falling back to the embedded SQLite file."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'horae.db').resolve()}"

    def resolved_redis_url(self) -> str:
        """The Redis URL for shared state, or '' when running embedded."""
        if self.redis_url:
            return self.redis_url
        return self.queue_url if self.queue_url.startswith("redis") else ""
