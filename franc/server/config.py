"""Server settings: defaults, then a TOML file, then ``FRANC_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from franc.errors import InputError
from franc.parallel import default_workers


class ServerConfig(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8731, ge=0, le=65535)
    workers: int = Field(default_factory=default_workers, ge=1, le=64)
    languages: list[str] = ["python", "java"]
    default_ranker: str = "quality"
    deadline_seconds: float = Field(5.0, gt=0)
    # Before it serves, each worker pre-builds the analyzers' caches and lets javac's JIT see a
    # few hundred units (a few CPU seconds at start); off, a worker is ready sooner but its
    # first requests are slower.
    full_warm_up: bool = True
    max_body_bytes: int = Field(2_000_000, gt=0)
    max_candidates: int = Field(64, ge=1)
    max_code_chars: int = Field(100_000, ge=1)
    max_nesting: int = Field(200, ge=1)
    api_token: str | None = None
    enable_examples_ranker: bool = False
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

    def require_token(self) -> bool:
        """A token is mandatory whenever the server listens beyond loopback."""
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host != "localhost"


ENV_PREFIX = "FRANC_"


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
    environ = dict(os.environ if environ is None else environ)
    for field_name in ServerConfig.model_fields:
        env_name = ENV_PREFIX + field_name.upper()
        if env_name in environ:
            raw = environ[env_name]
            values[field_name] = raw.split(",") if field_name == "languages" else raw
    values.update(overrides or {})
    try:
        config = ServerConfig(**values)
    except ValidationError as exc:
        raise InputError(f"bad server setting: {exc}", source=str(path) if path else None) from exc
    if config.require_token() and not config.api_token:
        raise InputError(f"binding {config.host} needs a bearer token: set FRANC_API_TOKEN "
                         "(or api_token in the config file)")
    return config
