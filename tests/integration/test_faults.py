"""The shared emulator core over real HTTP (requests -> 127.0.0.1): seeded faults, rate limit, outages, admin API."""

from __future__ import annotations

import argparse
import math
import socket
import threading
import time
from collections import Counter
from email.utils import parsedate_to_datetime

import pytest
import requests

from mailroom_sandbox.http.faults import (
    EndpointFaults,
    FaultConfig,
    FaultInjector,
    FaultKind,
    RateLimitConfig,
    add_fault_arguments,
    fault_config_from_args,
    rate_limit_from_args,
)
from mailroom_sandbox.http.core import EmulatorServer, Request, Response, parse_multipart


def drive_like_renderer(kind: str, status: int, retry_after: float | None) -> Response:
    """What the Drive emulator does with the service-specific throttle: 403 userRateLimitExceeded."""
    if kind == "throttle":
        status, reason = 403, "userRateLimitExceeded"
    else:
        reason = kind
    return Response.json({"error": {"code": status, "errors": [{"reason": reason}]}}, status=status)


def make_server(**kwargs) -> EmulatorServer:
    server = EmulatorServer("test", error_renderer=drive_like_renderer, **kwargs)
    writes: list[bytes] = []
    server.writes = writes  # type: ignore[attr-defined]
    server.add_route("GET", "/items/{item}", lambda r: Response.json({"item": r.path_params["item"]}), name="get")
    server.add_route("GET", "/other", lambda r: Response.json({}), name="other")

    def create(request: Request) -> Response:
        writes.append(request.body)
        return Response.json({"n": len(writes)}, status=201)

    server.add_route("POST", "/items", create, name="create")

    def reject(request: Request) -> Response:
        raise ValueError("invalid input")  # the core answers 400: nothing committed

    server.add_route("POST", "/reject", reject, name="reject")
    server.add_route("POST", "/upload/{name:path}",
                     lambda r: Response.json([p.filename for p in parse_multipart(r)]), name="upload")
    return server


@pytest.fixture
def server():
    srv = make_server().start()
    yield srv
    srv.stop()


# Long enough that a loaded machine never turns an answer into a "timeout"; tests of hangs pass a short one.
ANSWER_TIMEOUT = (10, 30)


def outcome(session: requests.Session, method: str, url: str, **kw) -> str:
    """What a client observes: the status code, 'reset', 'timeout' or 'closed'."""
    try:
        return str(session.request(method, url, timeout=kw.pop("timeout", ANSWER_TIMEOUT), **kw).status_code)
    except requests.exceptions.ReadTimeout:
        return "timeout"
    except requests.exceptions.ConnectionError as exc:
        return "reset" if "reset" in repr(exc).lower() else "closed"


def test_routing_path_params_query_and_unknown_paths(server):
    s = requests.Session()
    assert s.get(f"{server.url}/items/a%20b?x=1&x=2").json() == {"item": "a b"}
    assert s.get(f"{server.url}/nope").status_code == 404
    assert s.delete(f"{server.url}/items/1").status_code == 405
    files = {"File": ("n.pdf", b"%PDF", "application/pdf")}
    assert s.post(f"{server.url}/upload/deep/path", files=files).json() == ["n.pdf"]
    stats = s.get(f"{server.url}/_sandbox/stats").json()
    assert stats["calls"]["get"] == {"200": 1} and stats["calls"]["<unrouted>"] == {"404": 1, "405": 1}


def test_chunked_bodies_are_read_and_malformed_framing_is_a_400(server):
    port = int(server.url.rsplit(":", 1)[1])

    def exchange(raw: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(raw)
            conn.shutdown(socket.SHUT_WR)
            return b"".join(iter(lambda: conn.recv(4096), b""))

    answer = exchange(b"POST /items HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 201") and server.writes == [b"helloabc"]
    answer = exchange(b"POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400")


def test_fault_sequences_are_identical_for_a_seed_whatever_the_interleaving():
    config = FaultConfig.uniform(0.4, seed=11, ambiguous_rate=0.1)
    alone = FaultInjector(config)
    expected = [alone.decide("svc", "create", "POST") for _ in range(300)]

    mixed = FaultInjector(config)
    got: list = []
    noise = threading.Thread(target=lambda: [mixed.decide("svc", "get", "GET") for _ in range(3000)])
    noise.start()
    for _ in range(300):
        got.append(mixed.decide("svc", "create", "POST"))
    noise.join()
    assert got == expected
    different = FaultInjector(config.model_copy(update={"seed": 12}))
    assert [d.kind for d in expected] != [different.decide("svc", "create", "POST").kind for _ in range(300)]


def test_ambiguous_faults_only_hit_mutating_methods():
    injector = FaultInjector(FaultConfig(default=EndpointFaults(ambiguous=1.0)))
    assert injector.decide("svc", "get", "GET").kind is None
    assert injector.decide("svc", "create", "POST").kind is FaultKind.AMBIGUOUS


def test_delivered_fault_rates_match_the_configuration_over_http():
    rates = {"http_429": 0.10, "throttle": 0.05, "http_500": 0.08, "http_503": 0.07, "reset": 0.05}
    config = FaultConfig(seed=3, default=EndpointFaults(**rates, retry_after_seconds=2))
    n = 800
    runs = []
    for _ in range(2):  # same seed twice: the very same sequence of observed outcomes
        srv = make_server(faults=config).start()
        try:
            s = requests.Session()
            runs.append([outcome(s, "GET", f"{srv.url}/items/x") for _ in range(n)])
            stats = srv.stats()
        finally:
            srv.stop()
    assert runs[0] == runs[1]
    seen = Counter(runs[0])
    expected_status = {"http_429": "429", "throttle": "403", "http_500": "500", "http_503": "503", "reset": "reset"}
    for kind, p in rates.items():
        sigma = math.sqrt(n * p * (1 - p))
        assert abs(seen[expected_status[kind]] - n * p) < 4 * sigma, (kind, seen)
        assert stats["faults"][kind] == seen[expected_status[kind]]
    assert seen["200"] == n - sum(stats["faults"].values())


def test_retry_after_in_seconds_and_as_http_date(server):
    s = requests.Session()
    server.set_faults(FaultConfig(default=EndpointFaults(http_429=1.0, retry_after_seconds=3,
                                                         retry_after_http_date=0.0)))
    response = s.get(f"{server.url}/items/1")
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    server.set_faults(FaultConfig(default=EndpointFaults(http_429=1.0, retry_after_seconds=3,
                                                         retry_after_http_date=1.0)))
    response = s.get(f"{server.url}/items/1")
    wait = parsedate_to_datetime(response.headers["Retry-After"]).timestamp() - time.time()
    assert 1.5 < wait <= 3.5


def test_reset_and_hang_give_the_client_no_response(server):
    s = requests.Session()
    server.set_faults(FaultConfig(endpoints={"get": EndpointFaults(reset=1.0)}))
    assert outcome(s, "GET", f"{server.url}/items/1") == "reset"
    # A read timeout is the client's own: the server, holding the answer back 30 s, never sent one.
    server.set_faults(FaultConfig(endpoints={"get": EndpointFaults(hang=1.0, hang_seconds=30)}))
    assert outcome(s, "GET", f"{server.url}/items/1", timeout=(1, 0.3)) == "timeout"
    assert server.stats()["faults"] == {"reset": 1, "hang": 1}
    assert outcome(s, "GET", f"{server.url}/other") == "200"  # other endpoints keep the default (no faults)


def test_scripted_faults_hit_only_the_matching_requests_in_order(server):
    s = requests.Session()
    server.set_faults(FaultConfig(default=EndpointFaults(retry_after_seconds=4)))
    server.fail_next(lambda r: r.endpoint == "get" and r.path_params["item"] == "7",
                     [FaultKind.HTTP_503, FaultKind.THROTTLE])
    assert s.get(f"{server.url}/items/1").status_code == 200  # another item: not scripted
    first = s.get(f"{server.url}/items/7")
    assert first.status_code == 503 and "Retry-After" not in first.headers
    second = s.get(f"{server.url}/items/7")
    assert second.status_code == 403 and second.json()["error"]["errors"][0]["reason"] == "userRateLimitExceeded"
    assert second.headers["Retry-After"] == "4"
    assert s.get(f"{server.url}/items/7").status_code == 200  # the script is spent
    assert server.stats()["faults"] == {"http_503": 1, "throttle": 1}
    with pytest.raises(ValueError):
        server.fail_next(lambda r: True, [FaultKind.RESET])  # no status to answer with


@pytest.mark.parametrize("mode, observed", [("reset", "reset"), ("hang", "timeout"), ("503", "503")])
def test_commit_then_lose_the_response_commits(server, mode, observed):
    server.set_faults(FaultConfig(endpoints={"create": EndpointFaults(ambiguous=1.0, ambiguous_modes=[mode],
                                                                      hang_seconds=1.5)}))
    s = requests.Session()
    timeout = (1, 0.3) if mode == "hang" else ANSWER_TIMEOUT  # the hang lasts 1.5 s: far longer than 0.3
    assert outcome(s, "POST", f"{server.url}/items", data=b"effect-1", timeout=timeout) == observed
    assert server.writes == [b"effect-1"]  # the effect happened although the client saw a failure
    assert server.stats()["faults"] == {f"ambiguous_{mode}": 1}


def test_a_rejected_write_is_answered_normally_under_an_ambiguous_fault(server):
    server.set_faults(FaultConfig(default=EndpointFaults(ambiguous=1.0, ambiguous_modes=["reset"])))
    assert requests.post(f"{server.url}/reject", data=b"x", timeout=2).status_code == 400
    assert server.stats()["faults"] == {} and server.writes == []


def test_slow_responses_are_delayed_but_complete(server):
    server.set_faults(FaultConfig(default=EndpointFaults(slow=1.0, slow_seconds=0.3)))
    started = time.monotonic()
    assert requests.get(f"{server.url}/items/1", timeout=2).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_rate_limit_throttles_with_retry_after_and_reports_the_peak():
    srv = make_server(rate_limit=RateLimitConfig(requests_per_second=5, burst=3)).start()
    try:
        s = requests.Session()
        statuses = [s.get(f"{srv.url}/items/1") for _ in range(12)]
        limited = [r for r in statuses if r.status_code == 429]
        assert len(limited) >= 6 and all(r.status_code in (200, 429) for r in statuses)
        assert all(int(r.headers["Retry-After"]) >= 1 for r in limited)
        stats = s.get(f"{srv.url}/_sandbox/stats").json()
        assert stats["throttled"] == len(limited)
        assert stats["max_requests_per_second"] == 12  # every arrival counts, throttled or not
        time.sleep(0.5)  # 5 req/s refills 2 tokens
        assert s.get(f"{srv.url}/items/1").status_code == 200
    finally:
        srv.stop()


def test_scheduled_and_manual_outages():
    config = FaultConfig(outages=[{"start_after": 0.0, "duration": 0.4, "endpoints": ["get"]}])
    srv = make_server(faults=config).start()
    try:
        s = requests.Session()
        assert s.get(f"{srv.url}/items/1").status_code == 503
        assert s.get(f"{srv.url}/other").status_code == 200  # the outage covers only "get"
        time.sleep(0.45)
        assert s.get(f"{srv.url}/items/1").status_code == 200
        assert s.post(f"{srv.url}/_sandbox/outage", json={"seconds": 0.3}).status_code == 200
        assert s.get(f"{srv.url}/other").status_code == 503
        time.sleep(0.35)
        assert s.get(f"{srv.url}/other").status_code == 200
        assert srv.stats()["faults"]["outage"] == 2
    finally:
        srv.stop()


def test_admin_reconfigures_faults_and_rate_limit_at_runtime(server):
    s = requests.Session()
    config = FaultConfig(seed=5, endpoints={"get": EndpointFaults(http_500=1.0)})
    assert s.put(f"{server.url}/_sandbox/faults", data=config.model_dump_json()).status_code == 200
    assert FaultConfig.model_validate(s.get(f"{server.url}/_sandbox/faults").json()) == config
    assert s.get(f"{server.url}/items/1").status_code == 500
    bad = {"default": {"http_500": 0.8, "reset": 0.5}}  # sums above 1
    assert s.put(f"{server.url}/_sandbox/faults", json=bad).status_code == 400
    assert s.put(f"{server.url}/_sandbox/rate-limit", json={"requests_per_second": 1, "burst": 1}).status_code == 200
    assert s.get(f"{server.url}/other").status_code == 200
    assert s.get(f"{server.url}/other").status_code == 429
    assert s.post(f"{server.url}/_sandbox/reset-stats").status_code == 200
    assert s.get(f"{server.url}/_sandbox/stats").json()["requests"] == 0


def test_cli_flags_build_the_configs():
    parser = argparse.ArgumentParser()
    add_fault_arguments(parser)
    ns = parser.parse_args(["--fault-rate", "0.2", "--ambiguous-rate", "0.05", "--fault-seed", "9",
                            "--outage", "60:120", "--rate-limit", "8", "--burst", "4", "--hang-seconds", "1"])
    config = fault_config_from_args(ns)
    assert config.seed == 9 and config.default.hang_seconds == 1
    assert config.default.total_rate(mutating=False) == pytest.approx(0.2)
    assert config.default.total_rate(mutating=True) == pytest.approx(0.25)
    assert config.outages[0].start_after == 60 and config.outages[0].duration == 120
    assert rate_limit_from_args(ns) == RateLimitConfig(requests_per_second=8, burst=4)
    assert not rate_limit_from_args(parser.parse_args(["--rate-limit", "0"])).enabled


def test_stop_releases_hanging_handlers_quickly():
    """The handler would hold the answer 600 s and the client wait as long: only stop() can end the request. Forced,
    not timed: stop() comes once the server has counted the hang, and the 60 s join is a deadlock guard only."""
    srv = make_server(faults=FaultConfig(default=EndpointFaults(hang=1.0, hang_seconds=600))).start()
    seen: list[str] = []
    thread = threading.Thread(target=lambda: seen.append(outcome(requests.Session(), "GET", f"{srv.url}/items/1",
                                                                 timeout=(5, 600))))  # fmt: skip
    thread.start()
    while srv.stats()["faults"].get("hang") != 1:
        assert thread.is_alive()
        time.sleep(0.01)
    srv.stop()
    thread.join(60)
    assert not thread.is_alive() and seen in (["closed"], ["reset"])
