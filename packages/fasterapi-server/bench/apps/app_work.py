"""The app of bench_workers.py: GET /work, whose answer costs the app about 0.7 ms of Python (the
CPU-bound part of a request, what more workers are for), and GET /plaintext, which costs it
next to nothing."""

from fasterapi import FastAPI
from fasterapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/work")
async def work() -> dict[str, int]:
    total = 0
    for i in range(20_000):
        total += i * i % 7
    return {"total": total}
