from typing import Annotated

from fasterapi import APIRouter, Depends, FastAPI, Header, HTTPException


async def get_token_header(x_token: Annotated[str, Header()]) -> None:
    if x_token != "secret":
        raise HTTPException(status_code=400, detail="X-Token header invalid")


async def get_query_token(token: str) -> None:
    return None


users = APIRouter()


@users.get("/users/", tags=["users"])
async def read_users() -> list[dict[str, str]]:
    return []


@users.get("/users/{username}", tags=["users"])
async def read_user(username: str) -> dict[str, str]:
    return {}


items = APIRouter(
    prefix="/items",
    tags=["items"],
    dependencies=[Depends(get_token_header)],
    responses={404: {"description": "Not found"}},
)


@items.get("/")
async def read_items() -> dict[str, dict[str, str]]:
    return {}


@items.put("/{item_id}", tags=["custom"], responses={403: {"description": "Operation forbidden"}})
async def update_item(item_id: str) -> dict[str, str]:
    return {}


admin = APIRouter()


@admin.post("/")
async def update_admin() -> dict[str, str]:
    return {}


nested = APIRouter(prefix="/nested")
inner = APIRouter(prefix="/inner", deprecated=True)


@inner.get("/leaf")
async def leaf() -> dict[str, str]:
    return {}


nested.include_router(inner, tags=["deep"])

app = FastAPI(dependencies=[Depends(get_query_token)])
app.include_router(users)
app.include_router(items)
app.include_router(
    admin,
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(get_token_header)],
    responses={418: {"description": "I'm a teapot"}},
)
app.include_router(nested, prefix="/v1")


@app.get("/")
async def root() -> dict[str, str]:
    return {}
