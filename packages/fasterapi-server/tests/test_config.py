"""Config: every limit accepted at its edge and refused one past it, with a message naming it."""

from __future__ import annotations

from typing import Any

import pytest
from fasterapi_server import Config


@pytest.mark.parametrize(
    ("field", "edge", "past"),
    [
        ("port", 65535, 65536),
        ("port", 0, -1),
        ("threads", 1, 0),
        ("max_body_size", 1, 0),
        ("max_connections", 1, 0),
        ("max_pipelined", 1, 0),
        ("max_request_line", 1, 0),
        ("max_header_bytes", 1, 0),
        ("max_headers", 1, 0),
        ("max_requests", 1, 0),
        ("executor_threads", 1, 0),
        ("header_timeout", 0.001, 0),
        ("keep_alive_timeout", 0.001, 0),
        ("body_timeout", 0.001, 0),
        ("write_timeout", 0.001, 0),
        ("shutdown_timeout", 0.001, 0),
    ],
)
def test_limits(field: str, edge: Any, past: Any) -> None:
    assert getattr(Config(**{field: edge}), field) == edge
    with pytest.raises(ValueError, match=field):
        Config(**{field: past})


@pytest.mark.parametrize(
    ("field", "value"),
    [("lifespan", "maybe"), ("loop", "trio"), ("executor", "threads"), ("log_level", "loud")],
)
def test_choices(field: str, value: str) -> None:
    with pytest.raises(ValueError, match=field):
        Config(**{field: value})


def test_tls_files_go_together() -> None:
    with pytest.raises(ValueError, match="ssl_certfile and ssl_keyfile"):
        Config(ssl_certfile="cert.pem")


def test_unknown_options_are_named() -> None:
    with pytest.raises(TypeError, match="max_bodysize"):
        Config.from_kwargs(max_bodysize=10)


def test_log_levels_are_uvicorns_names_in_any_case() -> None:
    for level in ("critical", "error", "warning", "info", "debug", "trace", "WARNING"):
        assert Config(log_level=level).log_level == level
