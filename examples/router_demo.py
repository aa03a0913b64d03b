"""fasterapi-router in a few requests: a small REST API routed, then a million lookups timed.

    python examples/router_demo.py [--iterations N]

Needs only fasterapi-router (pip install fasterapi-router).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
from collections.abc import Callable
from typing import Any

from fasterapi_router import Match, Router

Handler = Callable[..., Any]


# The endpoints of a small shop API; the router only hands them back, the demo never calls them.
def list_users() -> None: ...
def create_user() -> None: ...
def current_user() -> None: ...
def get_user(user_id: int) -> None: ...
def delete_user(user_id: int) -> None: ...
def get_post(user_id: int, post_id: int) -> None: ...
def get_order(order_id: str) -> None: ...
def download_invoice(order_id: str, fmt: str) -> None: ...
def static_files() -> None: ...  # a mounted sub-application


def build() -> Router[Handler]:
    router: Router[Handler] = Router()
    router.add("GET", "/users/", list_users)
    router.add("POST", "/users/", create_user)
    router.add("GET", "/users/me", current_user)
    router.add("GET", "/users/{user_id:int}", get_user)
    router.add("DELETE", "/users/{user_id:int}", delete_user)
    router.add("GET", "/users/{user_id:int}/posts/{post_id:int}", get_post)
    router.add("GET", "/orders/{order_id:uuid}", get_order)
    router.add("GET", "/orders/{order_id:uuid}/invoice.{fmt}", download_invoice)
    router.mount("/static", static_files)
    router.freeze()
    return router


REQUESTS = [
    ("GET", "/users/me"),  # a static route wins over /users/{user_id:int}
    ("GET", "/users/42/posts/7"),  # two int params
    ("GET", "/orders/0f8fad5b-d9cb-469f-a165-70867728950e/invoice.pdf"),  # uuid + a mixed segment
    ("PUT", "/users/42"),  # 405: the path matches, the method does not
    ("GET", "/users"),  # 404, but /users/ exists: a redirect is suggested
    ("GET", "/static/css/site.css"),  # a mount: the sub-application gets the tail
    ("GET", "/nowhere"),  # 404
]


def show(router: Router[Handler]) -> None:
    print(f"{len(router)} routes:")
    for route in router.routes():
        kind = "mount" if route.mount else route.method
        print(f"  {kind:<7} {route.path:<45} -> {route.value.__name__}")
    print()
    for method, path in REQUESTS:
        result = router.lookup(method, path)
        print(f"{method} {path}")
        if isinstance(result, Match):
            print(f"  -> {result.value.__name__}  route={result.route!r}  params={result.params}", end="")
            print(f"  tail={result.tail!r}" if result.tail is not None else "")
        elif result.status_code == 405:
            allow = ", ".join(sorted(result.allowed_methods))
            print(f"  -> 405 Method Not Allowed  Allow: {allow}")
        elif result.redirect_path is not None:
            print(f"  -> 404 Not Found  (try {result.redirect_path!r}: 307 redirect)")
        else:
            print("  -> 404 Not Found")
    print()


def time_matches(router: Router[Handler], iterations: int) -> None:
    method, path = "GET", "/users/42/posts/7"
    match = router.match
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in itertools.repeat(None, iterations):
            match(method, path)
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    print(f"{iterations:,} matches of {method} {path}: {elapsed / iterations:.0f} ns/match")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=1_000_000, help="lookups to time (default 1e6)")
    args = parser.parse_args()
    router = build()
    show(router)
    time_matches(router, args.iterations)


if __name__ == "__main__":
    main()
