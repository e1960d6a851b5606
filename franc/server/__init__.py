"""FRANC's HTTP back-end for IDE plugins (``franc serve``)."""

from franc.server.app import create_app
from franc.server.config import ServerConfig, load_config

__all__ = ["ServerConfig", "create_app", "load_config"]
