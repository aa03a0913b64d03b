"""Config: every limit accepted at its edge and refused one past it, with a message naming it."""

from __future__ import annotations

import os
from typing import Any

import pytest
from fasterapi_server import Config, OptionError
from fasterapi_server._config import default_threads


@pytest.mark.parametrize(
    ("field", "edge", "past"),
    [
        ("port", 65535, 65536),
        ("port", 0, -1),
        ("threads", 0, -1),
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
        ("fd", 0, -1),
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


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_default_threads_follow_the_cores_the_process_may_use() -> None:
    mine = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(mine)})
        assert default_threads() == 0  # one core: the I/O runs on the Python thread
        assert Config().threads == 0
        if len(mine) >= 2:
            os.sched_setaffinity(0, set(sorted(mine)[:2]))
            assert default_threads() == 1
    finally:
        os.sched_setaffinity(0, mine)
    assert default_threads() == len(mine) // 2


def test_tls_files_go_together() -> None:
    with pytest.raises(ValueError, match="ssl_certfile and ssl_keyfile"):
        Config(ssl_certfile="cert.pem")


def test_unknown_options_are_named() -> None:
    with pytest.raises(TypeError, match="max_bodysize"):
        Config.from_kwargs(max_bodysize=10)


def test_log_levels_are_uvicorns_names_in_any_case() -> None:
    for level in ("critical", "error", "warning", "info", "debug", "trace", "WARNING"):
        assert Config(log_level=level).log_level == level


def test_trusted_proxies_are_normalized_networks_and_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    config = Config(forwarded_allow_ips=" 127.0.0.1, 10.0.0.5/8 ,, ::1, 2001:db8::/32, unknown, *")
    assert config.trusted_proxies() == [
        "127.0.0.1/32", "10.0.0.0/8", "::1/128", "2001:db8::/32", "unknown", "*",
    ]  # fmt: skip
    assert Config(forwarded_allow_ips=["192.0.2.1"]).trusted_proxies() == ["192.0.2.1/32"]
    assert Config().trusted_proxies() == ["127.0.0.1/32"]
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.0/24")
    assert Config().trusted_proxies() == ["192.0.2.0/24"]
    assert Config(forwarded_allow_ips="").trusted_proxies() == []
    assert Config(proxy_headers=False).trusted_proxies() == []
    for wrong in ([b"127.0.0.1"], b"127.0.0.1", 127, [None]):
        with pytest.raises(OptionError, match="forwarded_allow_ips"):
            Config(forwarded_allow_ips=wrong)  # type: ignore[arg-type]


def test_a_socket_is_given_one_way() -> None:
    assert Config(uds="/run/app.sock").uds == "/run/app.sock"
    with pytest.raises(OptionError, match="uds and fd cannot go together"):
        Config(uds="/run/app.sock", fd=3)
    with pytest.raises(OptionError, match="uds must be a path"):
        Config(uds="")
