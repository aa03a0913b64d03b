from typing import Annotated

from fasterapi import FastAPI, File, Form, UploadFile
from pydantic import BaseModel


class Login(BaseModel):
    username: str
    password: str
    model_config = {"extra": "forbid"}


app = FastAPI()


@app.post("/login/")
async def login(
    username: Annotated[str, Form()], password: Annotated[str, Form(min_length=8)]
) -> dict[str, str]:
    return {}


@app.post("/login-model/")
async def login_model(data: Annotated[Login, Form()]) -> Login:
    return data


@app.post("/files/")
async def create_file(file: Annotated[bytes, File(description="A file read as bytes")]) -> dict[str, int]:
    return {}


@app.post("/uploadfiles/")
async def upload(
    files: Annotated[list[UploadFile], File(description="Many files")],
    token: Annotated[str, Form()],
    note: Annotated[str | None, Form()] = None,
) -> dict[str, list[str]]:
    return {}


@app.post("/optional-file/")
async def optional(file: UploadFile | None = None) -> dict[str, str]:
    return {}
