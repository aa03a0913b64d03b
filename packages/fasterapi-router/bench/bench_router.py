"""fasterapi-router against Starlette's router, on one realistic REST route table.

    python bench/bench_router.py [--quick] [--json out.json]

The table has 50 routes (25 static, 25 with params), registered in the order a FastAPI app
would declare them (grouped by resource, static paths before the params beside them). Three
requests: a static hit, a hit with two int params, and a miss (404). Before anything is timed,
both routers (and the C++ core) must give the same answer for each request.

What is timed, per request:
- fasterapi (Python): `Router.lookup(method, path)`, the whole decision: the Match with its
  converted params, or a Miss with its status, allowed methods and trailing-slash redirect.
- fasterapi (C++): the same lookup through the C++ core alone (bench_router_core.cpp, compiled
  here with g++ -O2 against the installed headers); params stay text. Skipped without g++.
- starlette: what `starlette.routing.Router.app` does before it hands the request to an
  endpoint: `route.matches(scope)` over the routes in order, the first FULL match wins, else the
  first PARTIAL (405); on a miss, the redirect_slashes pass over the routes with the other path.
  The scope is one a server such as uvicorn passes; the endpoint is never called.

Each figure is the median of several runs of ns per lookup (7 runs; 3 with --quick), each run
calibrated to last at least 200 ms (20 ms with --quick), with the garbage collector off.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter_ns
from typing import Any

import fasterapi_router
from fasterapi_router import Match, Miss, Router

try:
    import starlette
    from starlette._utils import get_route_path
    from starlette.routing import BaseRoute
    from starlette.routing import Match as StarletteMatch
    from starlette.routing import Route as StarletteRoute
except ImportError:  # the anchor is not optional: a figure without it means nothing
    sys.exit("bench_router.py needs starlette: pip install 'fasterapi-router[bench]'")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "tools"))  # benchkit: what every benchmark shares
from benchkit import Loop, fmt_ns, measure  # noqa: E402

CORE_SOURCE = HERE / "bench_router_core.cpp"

# (method, pattern), in the order an app declares them. 25 static, 25 with params.
ROUTES: list[tuple[str, str]] = [
    ("GET", "/"),
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/static/{file_path:path}"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/logout"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/me"),
    ("PATCH", "/api/v1/users/me"),
    ("GET", "/api/v1/users/by-name/{username}"),
    ("GET", "/api/v1/users/{user_id:int}"),
    ("PUT", "/api/v1/users/{user_id:int}"),
    ("DELETE", "/api/v1/users/{user_id:int}"),
    ("GET", "/api/v1/users/{user_id:int}/posts"),
    ("GET", "/api/v1/users/{user_id:int}/posts/{post_id:int}"),
    ("GET", "/api/v1/users/{user_id:int}/followers"),
    ("GET", "/api/v1/posts"),
    ("POST", "/api/v1/posts"),
    ("GET", "/api/v1/posts/trending"),
    ("GET", "/api/v1/posts/{post_id:int}"),
    ("PATCH", "/api/v1/posts/{post_id:int}"),
    ("DELETE", "/api/v1/posts/{post_id:int}"),
    ("GET", "/api/v1/posts/{post_id:int}/comments"),
    ("POST", "/api/v1/posts/{post_id:int}/comments"),
    ("DELETE", "/api/v1/posts/{post_id:int}/comments/{comment_id:int}"),
    ("GET", "/api/v1/tags/{tag}"),
    ("GET", "/api/v1/products"),
    ("GET", "/api/v1/products/featured"),
    ("GET", "/api/v1/products/categories"),
    ("GET", "/api/v1/products/categories/{slug}"),
    ("GET", "/api/v1/products/{product_id:uuid}"),
    ("GET", "/api/v1/products/{product_id:uuid}/reviews"),
    ("GET", "/api/v1/orders"),
    ("POST", "/api/v1/orders"),
    ("GET", "/api/v1/orders/{order_id:uuid}"),
    ("POST", "/api/v1/orders/{order_id:uuid}/cancel"),
    ("GET", "/api/v1/orders/{order_id:uuid}/invoice.{fmt}"),
    ("GET", "/api/v1/cart"),
    ("POST", "/api/v1/cart/checkout"),
    ("PUT", "/api/v1/cart/items/{item_id:int}"),
    ("DELETE", "/api/v1/cart/items/{item_id:int}"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/admin/stats"),
    ("GET", "/api/v1/admin/audit-log"),
    ("GET", "/api/v1/admin/users/{user_id:int}/sessions"),
    ("GET", "/api/v2/users/{user_id:int}"),
]


@dataclass(frozen=True)
class Case:
    name: str  # one word: it travels on the C++ program's command line protocol
    label: str
    method: str
    path: str


CASES = [
    Case("static", "static hit", "GET", "/api/v1/products/featured"),
    Case("params", "2-param hit", "GET", "/api/v1/users/42/posts/7"),
    Case("miss", "miss (404)", "GET", "/api/v1/users/42/likes"),
]

# A scope as uvicorn builds it for `GET <path>`.
BASE_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "server": ("127.0.0.1", 8000),
    "client": ("127.0.0.1", 51234),
    "scheme": "http",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"localhost:8000"), (b"user-agent", b"bench"), (b"accept", b"*/*")],
    "state": {},
}


def route_name(method: str, pattern: str) -> str:
    return f"{method} {pattern}"


# --- the two routers ---------------------------------------------------------------------------


def build_ours() -> Router[str]:
    router: Router[str] = Router()
    for method, pattern in ROUTES:
        router.add(method, pattern, route_name(method, pattern))
    router.freeze()
    return router


async def endpoint(request: Any) -> None:  # never called: only matching is timed
    raise AssertionError("the benchmark never calls an endpoint")


def build_starlette() -> list[BaseRoute]:
    return [
        StarletteRoute(pattern, endpoint, methods=[method], name=route_name(method, pattern))
        for method, pattern in ROUTES
    ]


def starlette_resolve(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[str, Any, Any]:
    """The decision of starlette.routing.Router.app (redirect_slashes on), without the response.

    -> ("found", route, child_scope) | ("405", route, child_scope) | ("redirect", path, None)
       | ("404", None, None)
    """
    partial = None
    partial_scope: Any = None
    for route in routes:
        match, child_scope = route.matches(scope)
        if match is StarletteMatch.FULL:
            return "found", route, child_scope
        if match is StarletteMatch.PARTIAL and partial is None:
            partial = route
            partial_scope = child_scope
    if partial is not None:
        return "405", partial, partial_scope
    route_path = get_route_path(scope)
    if scope["type"] == "http" and route_path != "/":
        redirect_scope = dict(scope)
        if route_path.endswith("/"):
            redirect_scope["path"] = redirect_scope["path"].rstrip("/")
        else:
            redirect_scope["path"] = redirect_scope["path"] + "/"
        for route in routes:
            match, _ = route.matches(redirect_scope)
            if match is not StarletteMatch.NONE:
                return "redirect", redirect_scope["path"], None
    return "404", None, None


def scope_for(case: Case) -> dict[str, Any]:
    return {**BASE_SCOPE, "method": case.method, "path": case.path, "raw_path": case.path.encode()}


# --- answers, which must agree before anything is timed -----------------------------------------

Answer = tuple[Any, ...]


def our_answer(router: Router[str], case: Case) -> Answer:
    result = router.lookup(case.method, case.path)
    if isinstance(result, Match):
        return ("found", result.value, result.params)
    assert isinstance(result, Miss)
    return (str(result.status_code), result.redirect_path)


def starlette_answer(routes: list[BaseRoute], case: Case) -> Answer:
    kind, found, child_scope = starlette_resolve(routes, scope_for(case))
    if kind == "found":
        return ("found", found.name, child_scope["path_params"])
    if kind == "405":
        return ("405", None)
    return ("404", found if kind == "redirect" else None)


def starlette_position(routes: list[BaseRoute], case: Case) -> int | None:
    """1-based index of the route Starlette settles on; its cost grows with it."""
    _, found, _ = starlette_resolve(routes, scope_for(case))
    return routes.index(found) + 1 if isinstance(found, BaseRoute) else None


def check_cpp(router: Router[str], case: Case, line: dict[str, str]) -> None:
    """The C++ core's answer must be the Python API's (its param texts converted as the binding does)."""
    result = router.lookup(case.method, case.path)
    if isinstance(result, Match):
        texts = dict(p.split("=", 1) for p in line["params"].split(";") if p)
        same = (
            line["outcome"] == "found"
            and line["pattern"] == result.route
            and texts.keys() == result.params.keys()
            and all(type(v)(texts[k]) == v for k, v in result.params.items())
        )
    else:
        redirect = None if line["redirect"] == "-" else line["redirect"]
        same = line["outcome"] == str(result.status_code) and redirect == result.redirect_path
    if not same:
        raise SystemExit(f"{case.method} {case.path}: the C++ core says {line}, the Python API {result}")


# --- timing -------------------------------------------------------------------------------------


def our_loop(router: Router[str], case: Case) -> Loop:
    lookup, method, path = router.lookup, case.method, case.path

    def run(n: int) -> int:
        it = itertools.repeat(None, n)
        start = perf_counter_ns()
        for _ in it:
            lookup(method, path)
        return perf_counter_ns() - start

    return run


def starlette_loop(routes: list[BaseRoute], case: Case) -> Loop:
    resolve, scope = starlette_resolve, scope_for(case)

    def run(n: int) -> int:
        it = itertools.repeat(None, n)
        start = perf_counter_ns()
        for _ in it:
            resolve(routes, scope)
        return perf_counter_ns() - start

    return run


# --- the C++ core -------------------------------------------------------------------------------


def run_cpp(runs: int, min_run_ms: int) -> tuple[dict[str, dict[str, str]] | None, str]:
    """Compiles and runs bench_router_core.cpp -> ({case name: fields}, compiler) or (None, why)."""
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        return None, f"skipped: no C++ compiler ({cxx}); install g++ for the C++ figures"
    with tempfile.TemporaryDirectory(prefix="bench_router_core-") as tmp:
        binary = Path(tmp) / "bench_router_core"
        compile_cmd = [
            cxx, "-O2", "-std=c++20", "-I", fasterapi_router.get_include(),
            str(CORE_SOURCE), "-o", str(binary),
        ]  # fmt: skip
        built = subprocess.run(compile_cmd, check=False, capture_output=True, text=True)
        if built.returncode != 0:
            raise SystemExit(f"compiling {CORE_SOURCE.name} failed:\n{built.stderr}")
        table = "".join(f"route {m} {p}\n" for m, p in ROUTES)
        table += "".join(f"case {c.name} {c.method} {c.path}\n" for c in CASES)
        ran = subprocess.run(
            [str(binary), str(runs), str(min_run_ms)],
            input=table,
            check=False,
            capture_output=True,
            text=True,
        )
        if ran.returncode != 0:
            raise SystemExit(f"{CORE_SOURCE.name} failed:\n{ran.stderr}")
    fields = ["name", "outcome", "pattern", "params", "redirect", "median", "runs"]
    lines = [dict(zip(fields, line.split("\t"), strict=True)) for line in ran.stdout.splitlines()]
    version = subprocess.run([cxx, "--version"], check=False, capture_output=True, text=True).stdout
    return {line["name"]: line for line in lines}, version.splitlines()[0] if version else cxx


# --- report -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 short runs per figure instead of 7 long ones")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results to PATH as JSON")
    args = parser.parse_args()
    runs, min_run_ms = (3, 20) if args.quick else (7, 200)

    ours = build_ours()
    theirs = build_starlette()
    assert len(ours) == len(theirs) == len(ROUTES)

    # Same answers first: a fast wrong router is not a result.
    answers = {}
    for case in CASES:
        a, b = our_answer(ours, case), starlette_answer(theirs, case)
        if a != b:
            raise SystemExit(f"{case.method} {case.path}: fasterapi says {a}, starlette says {b}")
        answers[case.name] = a

    cpp, compiler = run_cpp(runs, min_run_ms)
    if cpp is not None:
        for case in CASES:
            check_cpp(ours, case, cpp[case.name])

    results = []
    for case in CASES:
        our_runs = measure(our_loop(ours, case), runs, min_run_ms * 1_000_000)
        their_runs = measure(starlette_loop(theirs, case), runs, min_run_ms * 1_000_000)
        cpp_runs = [float(x) for x in cpp[case.name]["runs"].split(",")] if cpp is not None else None
        our_ns, their_ns = statistics.median(our_runs), statistics.median(their_runs)
        cpp_ns = statistics.median(cpp_runs) if cpp_runs else None
        results.append(
            {
                "case": case.label,
                "method": case.method,
                "path": case.path,
                "answer": answers[case.name][0],
                "starlette_route_position": starlette_position(theirs, case),
                "fasterapi_cpp_ns": cpp_ns,
                "fasterapi_ns": our_ns,
                "starlette_ns": their_ns,
                "ratio": their_ns / our_ns,
                "ratio_cpp": their_ns / cpp_ns if cpp_ns else None,
                "runs_ns": {"fasterapi_cpp": cpp_runs, "fasterapi": our_runs, "starlette": their_runs},
            }
        )

    print(
        f"fasterapi-router {fasterapi_router.__version__} vs starlette {starlette.__version__}: "
        f"{len(ROUTES)} routes, ns per lookup, median of {runs} runs" + (" (--quick)" if args.quick else "")
    )
    header = ["case", "request", "C++ core", "fasterapi", "starlette", "starlette/fasterapi", "starlette/C++"]
    rows = [
        [
            r["case"],
            f"{r['method']} {r['path']}",
            fmt_ns(r["fasterapi_cpp_ns"]),
            fmt_ns(r["fasterapi_ns"]),
            fmt_ns(r["starlette_ns"]),
            f"{r['ratio']:.1f}x",
            f"{r['ratio_cpp']:.0f}x" if r["ratio_cpp"] else "-",
        ]
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for k, row in enumerate([header, *rows]):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if k == 0:
            print("  ".join("-" * w for w in widths))
    hits = [
        f"#{r['starlette_route_position']} for the {r['case']}"
        for r in results
        if r["starlette_route_position"]
    ]
    print(
        f"starlette tries its routes in order: it settles on route {', '.join(hits)} (of {len(ROUTES)}); "
        "on a miss it tries them all, twice (redirect_slashes)."
    )
    print(f"C++ core: {compiler}")

    if args.json:
        report = {
            "benchmark": "fasterapi-router/bench_router",
            "unit": "ns per lookup",
            "statistic": "median",
            "runs": runs,
            "min_run_ms": min_run_ms,
            "quick": args.quick,
            "routes": len(ROUTES),
            "versions": {
                "python": platform.python_version(),
                "fasterapi_router": fasterapi_router.__version__,
                "starlette": starlette.__version__,
                "cxx": compiler if cpp is not None else None,
            },
            "cpp_skipped": None if cpp is not None else compiler,
            "results": results,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
