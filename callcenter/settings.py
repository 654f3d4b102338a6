"""One typed settings object, loaded once from `config/callcenter.toml` plus environment overrides.

Precedence (highest first): environment variables `CALLCENTER_<SECTION>__<KEY>` (e.g.
`CALLCENTER_DATABASE__URL`), then the TOML file given by `--config` / `CALLCENTER_CONFIG`, then defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG = Path("config/callcenter.toml")


class DatabaseSettings(BaseModel):
    # SQLite is the embedded default; "postgresql+asyncpg://..." for larger installs.
    url: str = "sqlite+aiosqlite:///var/callcenter.db"
    echo: bool = False
    busy_timeout_ms: int = Field(default=5000, ge=0)
    pool_size: int = Field(default=10, ge=1)


class AgiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=4573, ge=0, le=65535)
    max_sessions: int = Field(default=200, ge=1)
    header_timeout_s: float = Field(default=5.0, gt=0)
    command_timeout_s: float = Field(default=60.0, gt=0)
    handler_timeout_s: float = Field(default=120.0, gt=0)


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Mark the session cookie Secure even when a request arrives over plain HTTP (HTTPS ends at a proxy).
    cookie_secure: bool = False
    # Believe X-Forwarded-For/-Proto (only behind a proxy of ours that sets them).
    trust_forwarded: bool = False
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)  # per username, in the window
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)


class RecordingsSettings(BaseModel):
    dir: Path = Path("recordings")


class RingTimeouts(BaseModel):
    """Seconds each tier rings before the next is tried."""

    duty_officer: int = Field(default=25, ge=5, le=120)
    backup: int = Field(default=20, ge=5, le=120)
    leader: int = Field(default=20, ge=5, le=120)
    authority: int = Field(default=30, ge=5, le=120)


class RoutingSettings(BaseModel):
    # Dial string for a phone number through the trunk; "{number}" is the national number.
    dial_template: str = "PJSIP/{number}@hotline-trunk"
    # Numbers that mean "the switchboard" rather than one facility: the caller is asked for a code.
    switchboard_numbers: list[str] = Field(default_factory=lambda: ["19009095"])
    # The provincial Health Department (Sở Y tế) line: for "don't know" callers and as the last tier.
    authority_line: str = "02373852516"
    # Fixed duty number the dialplan falls back to when the service gives no route (documentation only:
    # the dialplan's HOTLINE_FALLBACK_DIAL global is what Asterisk uses).
    fallback_number: str = "0961000000"
    keypad_code_digits: int = Field(default=4, ge=1, le=8)
    keypad_timeout_ms: int = Field(default=5000, ge=1000)
    keypad_attempts: int = Field(default=3, ge=1, le=5)
    # Post-call survey (rate_call): seconds to press 1..5 after the prompt, and how often it is asked.
    rating_timeout_ms: int = Field(default=5000, ge=1000)
    rating_attempts: int = Field(default=3, ge=1, le=5)
    dont_know_key: str = "0"
    # A call still open this long after it started is closed by the start-up reconciliation.
    stale_call_after_s: int = Field(default=4 * 3600, ge=60)


class PromptSettings(BaseModel):
    """Names of the sound files (without extension) in Asterisk's sounds/<language>/ directory."""

    welcome: str = "hotline-welcome"
    enter_code: str = "hotline-enter-code"
    invalid_code: str = "hotline-invalid-code"
    connecting: str = "hotline-connecting"
    voicemail: str = "hotline-voicemail"
    rating: str = "hotline-rating"  # post-call survey: "bấm một đến năm"
    thanks: str = "hotline-thanks"
    # Calls we place over ARI ([ari]): the officer's "press 1", the citizen's survey, the test call.
    callback_officer: str = "hotline-callback-officer"
    callback_survey: str = "hotline-callback-survey"
    probe: str = "hotline-probe"


class TranscriptionSettings(BaseModel):
    # "vosk" (default, offline), "whisper" (faster-whisper, more accurate, slower) or "none".
    engine: Literal["vosk", "whisper", "none"] = "vosk"
    # Directory of the model (e.g. vosk-model-small-vn-0.4 unpacked); `callcenter models install` puts
    # models under models_dir. An engine whose model is missing is reported at start-up, not at a call.
    model_path: Path = Path("models/vosk-model-small-vn-0.4")
    models_dir: Path = Path("models")
    # Workers inside `callcenter serve`; `callcenter worker` runs more as separate processes.
    workers: int = Field(default=1, ge=0, le=32)
    max_attempts: int = Field(default=3, ge=1, le=10)
    idle_poll_s: float = Field(default=2.0, gt=0)
    # A call's (or a callback's) job is due this long after it ended: MixMonitor closes its files only
    # after the hang-up handler has returned (shared/asterisk/scenarios).
    after_call_s: float = Field(default=10.0, ge=0)


class RetentionSettings(BaseModel):
    """How long personal data is kept, in days; 0 keeps it. Counted from the call (recordings), the
    transcript, or the ticket's closing (the caller's number and name). Never for a ticket still open
    or held ("giữ lại") by a supervisor. `serve` applies it once a day; `callcenter retention run`."""

    recordings_days: int = Field(default=0, ge=0)
    transcripts_days: int = Field(default=0, ge=0)
    personal_data_days: int = Field(default=0, ge=0)


class AriSettings(BaseModel):
    """The Asterisk REST Interface: callbacks from a ticket and test calls to the hotlines. Incoming
    calls never depend on it (FastAGI). Run it on ONE node: Asterisk gives an app's events to one socket."""

    enabled: bool = False
    url: str = "http://127.0.0.1:8088/ari"
    username: str = "hotline"
    password: str = ""
    app: str = "hotline"
    # The number the called party sees: the hotline's.
    caller_id: str = "19009095"
    language: str = "vi"  # of the prompts played on our legs (sounds/<language>/, as HOTLINE_LANGUAGE)
    request_timeout_s: float = Field(default=10.0, gt=0)
    ring_timeout_s: int = Field(default=30, ge=5, le=120)
    accept_timeout_s: float = Field(default=15.0, gt=0)  # to press 1 once answered
    survey_timeout_s: float = Field(default=10.0, gt=0)
    # Callbacks only within these local hours, and at most this many per ticket per day.
    callback_start: str = "07:00"
    callback_end: str = "21:00"
    callback_max_per_day: int = Field(default=3, ge=1, le=20)
    # Test calls: each facility's hotline about this often (0: never), at spread times of day and night.
    probe_every_hours: float = Field(default=0, ge=0)

    @field_validator("callback_start", "callback_end")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        from datetime import time

        time.fromisoformat(value)  # "07:00"; raises with a clear message otherwise
        return value


class LoggingSettings(BaseModel):
    format: Literal["console", "json"] = "console"
    level: Literal["debug", "info", "warning", "error"] = "info"


class ReportSettings(BaseModel):
    """Who sends the Báo cáo (.docx) and to whom: its header, addressee and signature block."""

    agency_parent: str = "UBND TỈNH THANH HÓA"  # cơ quan chủ quản
    agency: str = "SỞ Y TẾ"  # cơ quan ban hành
    agency_in_text: str = "Sở Y tế"
    number_suffix: str = "BC-SYT"  # "Số: …/BC-SYT"
    place: str = "Thanh Hóa"  # "Thanh Hóa, ngày … tháng … năm …"
    recipient: str = "UBND tỉnh"  # "Kính gửi: …"
    hotline_name: str = "Đường dây nóng"
    signer_title: list[str] = Field(default_factory=lambda: ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"])
    signer_name: str = ""  # empty: signed by hand


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLCENTER_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    environment: Literal["development", "production"] = "development"
    timezone: str = "Asia/Ho_Chi_Minh"
    load_sample_data: bool = False
    # facilities.csv and roster.csv loaded into an empty database when load_sample_data is true.
    sample_dir: Path = Path("config/sample")
    # Call ends the database could not take are spooled here (fsynced) and replayed at start-up.
    journal_dir: Path = Path("var/journal")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    agi: AgiSettings = Field(default_factory=AgiSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    recordings: RecordingsSettings = Field(default_factory=RecordingsSettings)
    ring_timeouts: RingTimeouts = Field(default_factory=RingTimeouts)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    prompts: PromptSettings = Field(default_factory=PromptSettings)
    transcription: TranscriptionSettings = Field(default_factory=TranscriptionSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    ari: AriSettings = Field(default_factory=AriSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises on an unknown zone, with its own clear message
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file: init kwargs carry the TOML values (see load_settings).
        return (env_settings, init_settings)


class SettingsError(Exception):
    """The configuration file is missing or malformed."""


def load_settings(config_path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (explicit path, else $CALLCENTER_CONFIG, else config/callcenter.toml if present)."""
    path: Path | None
    if config_path is not None:
        path = Path(config_path)
        if not path.is_file():
            raise SettingsError(f"config file not found: {path}")
    elif os.environ.get("CALLCENTER_CONFIG"):
        path = Path(os.environ["CALLCENTER_CONFIG"])
        if not path.is_file():
            raise SettingsError(f"CALLCENTER_CONFIG points to a missing file: {path}")
    else:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None
    values: dict[str, Any] = {}
    if path is not None:
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: {exc}") from exc
    _deep_merge(values, overrides)
    return Settings(**values)


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = value
