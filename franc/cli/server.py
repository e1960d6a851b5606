"""``franc serve``: the HTTP API and the OpenAI-compatible proxy."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the HTTP API and OpenAI-compatible ranking proxy",
        description="Serve FRANC over HTTP (binds 127.0.0.1 by default; a bearer token from "
                    "FRANC_API_TOKEN is required for any other address).")
    parser.add_argument("--config", help="TOML file with a [server] table")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8731)")
    parser.add_argument("--workers", type=int, help="warm worker processes (default: cores)")
    parser.add_argument("--upstream", dest="upstream_url",
                        help="OpenAI-compatible base URL the proxy forwards to")
    parser.set_defaults(func=serve)


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from franc.server import create_app, load_config

    overrides = {key: value for key in ("host", "port", "workers", "upstream_url")
                 if (value := getattr(args, key)) is not None}
    config = load_config(args.config, overrides)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level="info")
    return 0
