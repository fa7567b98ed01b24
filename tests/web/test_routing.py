"""The route table: module-level handlers get the request and the typed state; the OpenAPI paths
come from the declarations next to them."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from newsdesk.web.api.errors import ApiError, endpoint, json_error
from newsdesk.web.routing import Doc, RouteTable


@dataclass
class Counter:
    hits: int = 0


TABLE = RouteTable[Counter](endpoint(json_error))


@TABLE.get("/things/new", doc=Doc("A new thing", {"200": {"description": "text"}}, tag="t"))
async def new_thing(request: Request, state: Counter) -> Response:
    state.hits += 1
    return PlainTextResponse("new")


@TABLE.route("/things/{thing_id}", "GET", "DELETE", doc=Doc("A thing", {}, tag="t", public=True))
async def thing(request: Request, state: Counter) -> Response:
    state.hits += 1
    if request.path_params["thing_id"] == "0":
        raise ApiError(404, "no thing 0")
    return JSONResponse({"id": request.path_params["thing_id"], "method": request.method})


@TABLE.post("/undocumented")
async def undocumented(request: Request, state: Counter) -> Response:
    raise RuntimeError("boom")


async def test_handlers_get_the_bound_state_and_errors_take_the_api_shape() -> None:
    state = Counter()
    app = Starlette(routes=TABLE.routes(state))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        assert (await client.get("/things/new")).text == "new"
        assert (await client.delete("/things/7")).json() == {"id": "7", "method": "DELETE"}
        missing = (await client.get("/things/0")).json()
        assert missing == {"error": {"status": 404, "message": "no thing 0"}}
        failed = await client.post("/undocumented")
        assert failed.status_code == 500 and "boom" not in failed.text
        assert (await client.put("/things/7")).status_code == 405
    assert state.hits == 3


def test_openapi_paths_come_from_the_declarations() -> None:
    paths = TABLE.openapi_paths()
    assert set(paths) == {"/things/new", "/things/{thing_id}"}
    assert set(paths["/things/{thing_id}"]) == {"get", "delete"}
    assert paths["/things/{thing_id}"]["get"]["security"] == []
    assert "401" not in paths["/things/{thing_id}"]["get"]["responses"]
    assert "401" in paths["/things/new"]["get"]["responses"]
    assert paths["/things/new"]["get"]["summary"] == "A new thing"
