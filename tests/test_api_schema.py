"""The API and its OpenAPI document cannot drift: schemathesis, bounded and seeded.

Every operation of /api/v1/openapi.json is called with requests generated from the
document, valid and invalid, against the real app (demo data, an admin's token),
and every answer is checked: no 5xx, a status, content type, headers and body the
document declares, and invalid input refused. Deterministic (derandomize) and
bounded (max_examples), so it runs in `make test` and fails the same way twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from moderation.extensions import db
from moderation.models import Moderator, Role
from moderation.services.api_tokens import create_token

# "Schema-valid data must be accepted" assumes the document can say everything
# the server checks. Signed values (receipts, page cursors, form tokens), email
# deliverability rules and "value or comment_id" are checked by the server and
# refused with a 4xx and a message; no JSON Schema generates valid ones.
NOT_EXPRESSIBLE = [checks.positive_data_acceptance]
DOCUMENT = Path(__file__).parent.parent / "moderation" / "api" / "openapi.json"
EXAMPLES = 25
OPERATIONS = [
    (operation.path, operation.method.upper())
    for result in schemathesis.openapi.from_path(DOCUMENT).get_all_operations()
    for operation in [result.ok()]
]


@pytest.fixture
def admin_token(app, demo) -> str:
    with app.app_context():
        admin = Moderator(email="schema@example.com", name="Schema", role=Role.ADMIN)
        admin.set_password("schema password that is long")
        db.session.add(admin)
        db.session.commit()
        return create_token(admin, "schemathesis")[1]


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=lambda v: str(v))
def test_the_api_answers_as_its_document_says(app, admin_token, path, method):
    app.config["VERDICT_WAIT"] = 0.0  # a post answers at once: held or published
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=NOT_EXPRESSIBLE)

    call()


# Drift an outside run found, pinned: the document and the server must agree on
# each. A request the document accepts must not be refused as invalid (400/422),
# one it refuses must be refused (4xx), and the status must be one it lists.
AGREEMENT = [
    pytest.param(
        "/sites/demo/threads/seed-article/comments",
        "post",
        {},
        {"handle": "Ann", "body": "Hello.", "parent_id": 0},
        id="parent_id-0",
    ),
    pytest.param("/sites/demo/counts", "get", {"thread": [""]}, None, id="empty-key"),
    pytest.param(
        "/sites/demo/threads/seed-article/comments",
        "get",
        {"lang": "AAA"},
        None,
        id="lang-outside-the-enum",
    ),
    pytest.param(
        "/moderation/bans/{ban}", "delete", {}, {"reason": 5}, id="lift-bad-reason"
    ),
]


def _template(document: dict, path: str) -> str:
    """The document's path template that `path` fills ("/sites/{site}/counts")."""
    parts = path.strip("/").split("/")
    for template in document["paths"]:
        pattern = template.strip("/").split("/")
        if len(pattern) == len(parts) and all(
            p.startswith("{") or p == q for p, q in zip(pattern, parts, strict=True)
        ):
            return template
    raise AssertionError(f"no path of the document matches {path}")


def _accepts(document: dict, operation: dict, query: dict, body) -> bool:
    """Whether the document allows these query parameters and this body."""
    import jsonschema_rs

    def valid(schema: dict, value) -> bool:
        rooted = {**schema, "components": document["components"]}
        return jsonschema_rs.validator_for(rooted).is_valid(value)

    parameters = {p["name"]: p for p in operation.get("parameters", [])}
    for name, value in query.items():
        if name not in parameters:
            return False
        schema = parameters[name]["schema"]
        if schema.get("type") != "array" and isinstance(value, list):
            value = value[0]
        if not valid(schema, value):
            return False
    if body is not None:
        media = operation["requestBody"]["content"]["application/json"]
        return valid(media["schema"], body)
    return True


@pytest.mark.parametrize(("path", "method", "query", "body"), AGREEMENT)
def test_document_and_server_agree(app, client, admin_token, path, method, query, body):
    import json

    if "{ban}" in path:
        banned = client.post(
            "/api/v1/moderation/bans",
            json={"kind": "handle", "value": "Someone", "site": "demo"},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        path = path.replace("{ban}", str(banned.get_json()["id"]))
    document = json.loads(DOCUMENT.read_text())
    operation = document["paths"][_template(document, path)][method]
    response = client.open(
        "/api/v1" + path,
        method=method.upper(),
        query_string=query,
        json=body,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert str(response.status_code) in operation["responses"], response.status_code
    if _accepts(document, operation, query, body):
        assert response.status_code not in (400, 422), response.get_data(as_text=True)
    else:
        assert 400 <= response.status_code < 500, response.status_code
