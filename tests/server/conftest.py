"""Fixtures: a real FRANC server (and a stub upstream model) on free loopback ports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
from live_server import StubModel, free_port, start_server, stop_server


@pytest.fixture(scope="session")
def stub_upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), StubModel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory, stub_upstream: str) -> Iterator[str]:
    # A generous deadline: these tests check answers, not speed, and CI machines can be loaded.
    # The deadline behaviour itself is tested with a per-request deadline_ms.
    process, url = start_server(tmp_path_factory.mktemp("server"),
                                f'upstream_url = "{stub_upstream}"\nproxy_n = 4\n'
                                'deadline_seconds = 120\n'
                                f'generator = "openai:{stub_upstream}"\n')
    yield url
    stop_server(process)
