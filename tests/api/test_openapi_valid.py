"""The OpenAPI document the app serves at /api/openapi.json is valid OpenAPI, as
openapi-spec-validator (a validator nobody here wrote) reads it."""

from __future__ import annotations

from openapi_spec_validator import validate

from .conftest import ApiEnv


async def test_served_openapi_document_is_valid(api_env: ApiEnv) -> None:
    answer = await api_env.client.get("/api/openapi.json")
    assert answer.status_code == 200
    validate(answer.json())  # raises OpenAPIValidationError with the first problem
