from typing import Annotated

from fasterapi import Depends, FastAPI, Security
from fasterapi.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OpenIdConnect,
    SecurityScopes,
)

oauth2 = OAuth2PasswordBearer(
    tokenUrl="token", scopes={"me": "Read information about the current user.", "items": "Read items."}
)
code = OAuth2AuthorizationCodeBearer(authorizationUrl="/authorize", tokenUrl="/token", refreshUrl="/refresh")
basic = HTTPBasic(description="Basic auth", realm="simple")
bearer = HTTPBearer(bearerFormat="JWT", auto_error=False)
digest = HTTPDigest()
key_header = APIKeyHeader(name="X-Key", description="A key")
key_query = APIKeyQuery(name="key", scheme_name="QueryKey")
key_cookie = APIKeyCookie(name="session")
oidc = OpenIdConnect(openIdConnectUrl="/.well-known/openid-configuration")

app = FastAPI()


def current_user(security_scopes: SecurityScopes, token: Annotated[str, Depends(oauth2)]) -> str:
    return token


@app.post("/token")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    return {}


@app.get("/users/me")
async def me(user: Annotated[str, Security(current_user, scopes=["me"])]) -> str:
    return user


@app.get("/users/me/items")
async def my_items(user: Annotated[str, Security(current_user, scopes=["items", "me"])]) -> list[str]:
    return []


@app.get("/basic")
async def basic_auth(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> str:
    return ""


@app.get("/mixed", dependencies=[Depends(bearer), Depends(digest), Depends(oidc)])
async def mixed(
    a: Annotated[str, Depends(key_header)],
    b: Annotated[str, Depends(key_query)],
    c: Annotated[str, Depends(key_cookie)],
) -> str:
    return ""


@app.get("/code")
async def with_code(token: Annotated[str, Depends(code)]) -> str:
    return token
