"""Route tables: handlers are module-level functions, declared with their path, methods and (for
the documented APIs) their OpenAPI operation, in one table per API or page module.

    TABLE = RouteTable[ApiState](json_error)

    @TABLE.get("/api/subscriptions", doc=Doc("List subscriptions", {...}, tag="subscriptions"))
    async def subscriptions(request: Request, api: ApiState) -> Response: ...

``TABLE.routes(api)`` gives the Starlette routes with the state bound (each handler gets the
request and the typed state, nothing else); ``TABLE.openapi_paths()`` gives the ``paths`` of an
OpenAPI document from the declarations, so the document cannot drift from the routes. With an
error renderer, every handler is wrapped by ``web.api.errors.endpoint`` (its API's error shape).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

S = TypeVar("S")
Handler = Callable[[Request, S], Awaitable[Response]]
Bound = Callable[[Request], Awaitable[Response]]
Wrapper = Callable[[Bound], Bound]

JSON = "application/json"
UNAUTHORIZED: dict[str, Any] = {
    "description": "missing or wrong credentials",
    "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
}


@dataclass(frozen=True, slots=True)
class Doc:
    """One OpenAPI operation, written next to its handler."""

    summary: str
    responses: dict[str, Any]
    tag: str
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: dict[str, Any] | None = None
    public: bool = False
    description: str | None = None

    def operation(self) -> dict[str, Any]:
        responses = dict(self.responses)
        found: dict[str, Any] = {"summary": self.summary, "tags": [self.tag]}
        if self.description:
            found["description"] = self.description
        if self.parameters:
            found["parameters"] = list(self.parameters)
        if self.body:
            found["requestBody"] = self.body
        if self.public:
            found["security"] = []
        else:
            responses.setdefault("401", UNAUTHORIZED)
        found["responses"] = responses
        return found


@dataclass(frozen=True, slots=True)
class Declared(Generic[S]):
    path: str
    methods: tuple[str, ...]
    handler: Handler[S]
    doc: Doc | None
    name: str


class RouteTable(Generic[S]):
    """The routes of one API or page module, in declaration order (Starlette tries them in that
    order, so declare a literal path before a parametrised one that would also match it)."""

    def __init__(self, wrap: Wrapper | None = None) -> None:
        self._wrap = wrap
        self.declared: list[Declared[S]] = []

    def route(
        self, path: str, *methods: str, doc: Doc | None = None, name: str | None = None
    ) -> Callable[[Handler[S]], Handler[S]]:
        def declare(handler: Handler[S]) -> Handler[S]:
            self.declared.append(
                Declared(path, methods or ("GET",), handler, doc, name or handler.__name__)
            )
            return handler

        return declare

    def get(self, path: str, *, doc: Doc | None = None) -> Callable[[Handler[S]], Handler[S]]:
        return self.route(path, "GET", doc=doc)

    def post(self, path: str, *, doc: Doc | None = None) -> Callable[[Handler[S]], Handler[S]]:
        return self.route(path, "POST", doc=doc)

    def routes(self, state: S) -> list[BaseRoute]:
        """Starlette routes with ``state`` bound: each handler is called as ``(request, state)``."""
        return [
            Route(d.path, self._bind(d.handler, state), methods=list(d.methods), name=d.name)
            for d in self.declared
        ]

    def _bind(self, handler: Handler[S], state: S) -> Bound:
        """Each request gets the state's ``for_request(request)`` when it has one: the state as
        the person asking sees it (issue 15), never shared with another request."""
        scope: Callable[[Request], S] | None = getattr(state, "for_request", None)

        async def bound(request: Request) -> Response:
            return await handler(request, scope(request) if scope else state)

        bound.__name__ = bound.__qualname__ = handler.__name__
        bound.__doc__ = handler.__doc__
        return self._wrap(bound) if self._wrap else bound

    def openapi_paths(self) -> dict[str, dict[str, Any]]:
        """``paths`` of an OpenAPI document: every declared operation that has a ``Doc``."""
        paths: dict[str, dict[str, Any]] = {}
        for d in self.declared:
            if d.doc is None:
                continue
            for method in d.methods:
                if method != "HEAD":
                    paths.setdefault(d.path, {})[method.lower()] = d.doc.operation()
        return paths
