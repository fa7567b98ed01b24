"""The served OpenAPI document is valid OpenAPI 3.0 by a validator nobody here wrote
(openapi-spec-validator): generators and API browsers refuse an invalid one."""

from __future__ import annotations

from openapi_spec_validator import OpenAPIV30SpecValidator

from .conftest import ApiEnv


async def test_served_document_is_valid_openapi_3_0(api_env: ApiEnv) -> None:
    response = await api_env.client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.0.")
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in OpenAPIV30SpecValidator(document).iter_errors()
    ]
    assert errors == []
