"""The OpenAPI 3 description of the Open311 interface (served at openapi.json)."""


def openapi_document() -> dict:
    return {"openapi": "3.0.3", "info": {"title": "Cetatea Open311", "version": "2"}, "paths": {}}
