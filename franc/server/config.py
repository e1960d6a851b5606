"""Server settings: defaults, then a TOML file, then ``FRANC_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from franc.errors import InputError
from franc.parallel import default_workers

ENV_PREFIX = "FRANC_"


class ServerConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX)

    host: str = "127.0.0.1"
    port: int = Field(8731, ge=0, le=65535)
    workers: int = Field(default_factory=default_workers, ge=1, le=64)
    languages: Annotated[list[str], NoDecode] = ["python", "java"]  # env: comma-separated
    default_ranker: str = "quality"
    # Per language, the analyzers a request gets when it names none (its options.analyzers);
    # a language not listed gets all of its own. { python = ["bandit"] } halves a Python
    # /v1/rank's latency and gives up pylint's findings (benchmarks/results/server_analyzers.md).
    analyzers: dict[str, list[str]] = {}
    deadline_seconds: float = Field(5.0, gt=0)
    # /v1/repair waits for the model too: its own deadline (a client's deadline_ms caps it).
    repair_deadline_seconds: float = Field(60.0, gt=0)
    # A client's deadline_ms is raised to this floor: a shorter one only buys an empty answer.
    min_deadline_ms: int = Field(100, ge=1)
    # A worker silent this long is hung and replaced (a client's deadline never kills one),
    # at most worker_restarts_per_minute times a minute.
    worker_hang_seconds: float = Field(60.0, gt=0)
    worker_restarts_per_minute: int = Field(4, ge=1)
    # Before it serves, each worker pre-builds the analyzers' caches and lets javac's JIT see a
    # few hundred units (a few CPU seconds at start); off, a worker is ready sooner but its
    # first requests are slower.
    full_warm_up: bool = True
    max_body_bytes: int = Field(2_000_000, gt=0)
    # A request body must arrive within this time (a slow sender holds no memory for long).
    body_timeout_seconds: float = Field(10.0, gt=0)
    max_candidates: int = Field(64, ge=1)
    max_code_chars: int = Field(100_000, ge=1)
    max_nesting: int = Field(200, ge=1)
    api_token: str | None = None
    enable_examples_ranker: bool = False
    # Ranker policies a request may name besides the shipped ones (by file name, no suffix).
    ranker_dir: str | None = None
    upstream_url: str | None = None
    upstream_api_key_env: str = "FRANC_UPSTREAM_API_KEY"
    proxy_n: int = Field(8, ge=1, le=64)
    # The whole upstream exchange (retries included) ends after this; a bigger answer is
    # refused while it streams in; beyond this many calls in flight the proxy answers 503.
    upstream_timeout_seconds: float = Field(120.0, gt=0)
    upstream_max_bytes: int = Field(10_000_000, gt=0)
    upstream_concurrency: int = Field(32, ge=1)
    upstream_retries: int = Field(2, ge=0, le=10)
    generator: str | None = None

    @field_validator("analyzers")
    @classmethod
    def _known_analyzers(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if not value:
            return value
        from franc.analysis import ANALYZERS  # lazy: imports bandit and pylint

        for language, names in value.items():
            known = ANALYZERS.get(language)  # type: ignore[call-overload]
            if known is None:
                raise ValueError(f"analyzers: unknown language {language!r}")
            unknown = [name for name in names if name not in known]
            if unknown:
                raise ValueError(f"analyzers.{language}: unknown {unknown}; "
                                 f"{language} has {sorted(known)}")
        return value

    @field_validator("languages", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings],
                                   init_settings: PydanticBaseSettingsSource,
                                   *others: PydanticBaseSettingsSource,
                                   **named: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_config layers the sources itself (file < environment < overrides); the
        # environment it reads may be a given mapping, not os.environ.
        return (init_settings,)

    def require_token(self) -> bool:
        """A token is mandatory whenever the server listens beyond loopback."""
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host != "localhost"


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
                environ: dict[str, str] | None = None) -> ServerConfig:
    """Build the configuration; errors name the file and the setting."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InputError(f"cannot read server config: {exc}", source=str(path)) from exc
        values.update(document.get("server", document))
    from_environment = EnvSettingsSource(ServerConfig)
    from_environment.env_vars = {name.lower(): value for name, value in
                                 (os.environ if environ is None else environ).items()}
    values.update(from_environment())
    values.update(overrides or {})
    try:
        config = ServerConfig(**values)
    except ValidationError as exc:
        raise InputError(f"bad server setting: {exc}", source=str(path) if path else None) from exc
    if config.require_token() and not config.api_token:
        raise InputError(f"binding {config.host} needs a bearer token: set FRANC_API_TOKEN "
                         "(or api_token in the config file)")
    return config
