"""An app whose lifespan startup always fails: a worker that never serves."""


async def app(scope, receive, send):
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "the database is not there"})
