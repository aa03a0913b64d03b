from typing import Any, Union

from fasterapi import FastAPI
from fasterapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel, EmailStr


class UserBase(BaseModel):
    username: str
    email: EmailStr
    full_name: str | None = None


class UserIn(UserBase):
    password: str


class UserOut(UserBase):
    pass


class Message(BaseModel):
    message: str


class BaseItem(BaseModel):
    description: str
    type: str


class CarItem(BaseItem):
    type: str = "car"


class PlaneItem(BaseItem):
    type: str = "plane"
    size: int


app = FastAPI()


@app.post("/user/", response_model=UserOut)
async def create_user(user: UserIn) -> Any:
    return user


@app.get("/items/{item_id}", response_model=Union[PlaneItem, CarItem])  # noqa: UP007
async def read_item(item_id: str) -> Any:
    return {}


@app.get("/models/", response_model=list[UserOut], response_model_exclude_unset=True)
async def models() -> Any:
    return []


@app.get(
    "/alt/{item_id}",
    response_model=UserOut,
    responses={
        404: {"model": Message, "description": "The item was not found"},
        200: {
            "description": "Item requested by ID",
            "content": {"image/png": {}, "application/json": {"example": {"username": "x"}}},
        },
    },
)
async def alt(item_id: str) -> Any:
    return {}


@app.get("/html", response_class=HTMLResponse)
async def html() -> str:
    return "<p>x</p>"


@app.get("/text", response_class=PlainTextResponse, status_code=202)
async def text() -> str:
    return "x"


@app.get("/redirect", response_class=RedirectResponse, status_code=302)
async def redirect() -> str:
    return "/x"


@app.get("/plain-json")
async def plain() -> JSONResponse:
    return JSONResponse({})


@app.get("/keyword-weights/", response_model=dict[str, float])
async def weights() -> Any:
    return {}
