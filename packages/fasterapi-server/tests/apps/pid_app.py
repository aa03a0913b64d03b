"""A plain ASGI app for tests/test_workers.py: which process answered.

GET / answers the worker's PID; GET /exit answers, then the worker stops itself gracefully (as
it does after max_requests), which the supervisor must take as a worker to replace.
"""

import asyncio
import os
import signal


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/exit":
        asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(os.getpid()).encode()})


def create_app():
    """For factory=True."""
    return app
