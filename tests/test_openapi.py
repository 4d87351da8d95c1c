"""Schemathesis over the OpenAPI schema: no 5xx, and every response conforms to the schema, for single calls and for
workflows that follow the links Schemathesis infers between operations (create a group, then read, update or
delete it; add a member to it; ...)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import ignored_auth, negative_data_rejection, positive_data_acceptance

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Generated data cannot know which ids exist (a valid UUID of no group is rightly a 400) and django-filter parses
# numbers leniently; what must hold everywhere is no 5xx, and responses, status codes and content types as documented.
EXCLUDED_CHECKS = [negative_data_rejection, positive_data_acceptance]


@pytest.fixture
def auth_headers(db, sysadmin_key):
    return {"Authorization": f"Token {sysadmin_key}"}


@pytest.fixture(autouse=True)
def keep_test_connection_open():
    """Schemathesis calls the WSGI app directly, whose request signals would close the test's transaction; Django's
    own test client detaches the same handler."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, auth_headers):
    case.call_and_validate(headers=auth_headers, excluded_checks=EXCLUDED_CHECKS)


@pytest.mark.django_db
def test_workflows_along_the_schemas_links_conform_to_it(auth_headers):
    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": auth_headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Whether each operation refuses a missing or invalid key is the single-call test's to probe.
            excluded = [*EXCLUDED_CHECKS, ignored_auth]
            case.validate_response(response, excluded_checks=excluded, transport_kwargs=kwargs, recorder=self.recorder)

    Workflow.run(
        settings=settings(
            max_examples=30, stateful_step_count=6, deadline=None, suppress_health_check=list(HealthCheck)
        )
    )
