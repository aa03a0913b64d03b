from typing import Annotated

from fasterapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fasterapi.routing import APIRoute


def custom_uid(route: APIRoute) -> str:
    return f"{route.tags[0] if route.tags else 'default'}-{route.name}"


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 100):
        self.q = q
        self.skip = skip
        self.limit = limit


async def verify_key(x_key: Annotated[str, Header(convert_underscores=False)]) -> str:
    return x_key


def query_extractor(q: str | None = None) -> str | None:
    return q


def query_or_cookie(
    q: Annotated[str | None, Depends(query_extractor)], last: Annotated[str | None, Header()] = None
):
    return q or last


app = FastAPI(generate_unique_id_function=custom_uid)
router = APIRouter(tags=["things"])


@router.get("/things/{thing_id}")
async def thing(
    thing_id: Annotated[float, Path(gt=0, lt=10.5, description="between")],
    commons: Annotated[CommonQueryParams, Depends()],
    value: Annotated[str | None, Depends(query_or_cookie)],
    request: Request,
    size: Annotated[float | None, Query(gt=0, alias="sz", title="Size", examples=[1.5])] = None,
) -> dict[str, str]:
    return {}


@app.get("/keys/", dependencies=[Depends(verify_key)])
async def keys(
    required: Annotated[str, Query()],
    opt_list: Annotated[list[int], Query()] = [1, 2],  # noqa: B006
) -> list[int]:
    return []


app.include_router(router)
