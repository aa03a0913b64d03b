from datetime import datetime

from fasterapi import APIRouter, FastAPI
from pydantic import BaseModel


class Subscription(BaseModel):
    username: str
    monthly_fee: float
    start_date: datetime


class Invoice(BaseModel):
    id: str
    title: str | None = None
    total: float


class InvoiceEvent(BaseModel):
    description: str
    paid: bool


class InvoiceEventReceived(BaseModel):
    ok: bool


tags_metadata = [
    {"name": "users", "description": "Operations with users. The **login** logic is also here."},
    {
        "name": "items",
        "description": "Manage items.",
        "externalDocs": {"description": "Items external docs", "url": "https://example.com/"},
    },
]

app = FastAPI(
    title="ChimichangApp",
    summary="Deadpool's favorite app. Nuff said.",
    description="ChimichangApp API helps you do awesome stuff.",
    version="0.0.1",
    terms_of_service="http://example.com/terms/",
    contact={
        "name": "Deadpoolio",
        "url": "http://x-force.example.com/contact/",
        "email": "dp@x-force.example.com",
    },
    license_info={"name": "Apache 2.0", "identifier": "MIT"},
    openapi_tags=tags_metadata,
    servers=[{"url": "https://stag.example.com", "description": "Staging environment"}],
    openapi_external_docs={"description": "More", "url": "https://example.com/docs"},
)


@app.webhooks.post("new-subscription")
def new_subscription(body: Subscription) -> None:
    """When a new user subscribes to your service we'll send you a POST request."""


callback_router = APIRouter()


@callback_router.post("{$callback_url}/invoices/{$request.body.id}", response_model=InvoiceEventReceived)
def invoice_notification(body: InvoiceEvent) -> None:
    pass


@app.post("/invoices/", callbacks=callback_router.routes, tags=["items"])
def create_invoice(invoice: Invoice, callback_url: str | None = None) -> dict[str, str]:
    return {"msg": "Invoice received"}


@app.get("/users/", tags=["users"], openapi_extra={"x-aperture-labs-portal": "blue"})
def users() -> list[str]:
    return []
