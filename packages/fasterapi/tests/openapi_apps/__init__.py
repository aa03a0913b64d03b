"""Small applications whose OpenAPI documents are compared with FastAPI's (test_fa_openapi.py).

Each module builds `app` with `from fasterapi import ...`; the expected documents in
../openapi_expected/ were produced by FastAPI from the same sources with `fasterapi` read as
`fastapi` (../openapi_expected/generate.py, run once in an environment with FastAPI).
"""
