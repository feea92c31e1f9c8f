"""Sandbox OAuth refusals google-auth must surface, and q-literal escaping of arbitrary file names end to end."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.oauth2 import service_account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailroom.drive import DriveClient, build_drive_service, quote
from mailroom.resilience import ResiliencePolicy
from mailroom_sandbox.drive.oauth import JWT_BEARER_GRANT, TokenAuthority


def test_a_non_drive_scope_is_refused(drive):
    impostor = build_drive_service(drive.service_account_info(), api_endpoint=drive.url, timeout=10,
                                   scopes=["https://www.googleapis.com/auth/calendar"])
    with pytest.raises(RefreshError) as refused:
        impostor.files().list().execute(num_retries=0)
    assert "invalid_scope" in str(refused.value)


def test_token_endpoint_refuses_other_grants_and_garbage(drive):
    other_grant = requests.post(drive.token_uri, data={"grant_type": "client_credentials"}, timeout=5)
    garbage = requests.post(drive.token_uri, data={"grant_type": JWT_BEARER_GRANT, "assertion": "not.a.jwt"}, timeout=5)
    assert (other_grant.status_code, other_grant.json()["error"]) == (400, "unsupported_grant_type")
    assert (garbage.status_code, garbage.json()["error"]) == (400, "invalid_grant")


def test_an_assertion_from_another_hour_is_refused(drive):
    credentials = service_account.Credentials.from_service_account_info(
        drive.service_account_info(), scopes=["https://www.googleapis.com/auth/drive"])
    assertion = credentials._make_authorization_grant_assertion()  # what google-auth would post, signed now
    later = TokenAuthority(drive.token_uri, clock=lambda: time.time() + 2 * 3600)
    later.register(drive.account)
    body = urlencode({"grant_type": JWT_BEARER_GRANT, "assertion": assertion}).encode()

    assert drive.auth.exchange(body).status == 200
    refused = later.exchange(body)
    assert refused.status == 400 and "short-lived" in refused.body["error_description"]


def test_service_account_info_holds_no_key_material_in_reprs(drive):
    assert "PRIVATE KEY" not in repr(drive.account) and "PRIVATE KEY" in drive.service_account_info()["private_key"]


_NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_NAMES)
def test_any_name_round_trips_through_q_escaping(drive, drive_service, name):
    """Quotes, backslashes, unicode, `../`: `name = <quoted>` finds exactly the file, through the real client."""
    folder = drive.create_folder("names")
    wanted = drive.add_file(name, folder, b"%PDF-")
    drive.add_file(name + "x", folder, b"%PDF-")
    q = f"{quote(folder)} in parents and name = {quote(name)}"
    found = drive_service.files().list(q=q, fields="files(id,name)").execute(num_retries=0)["files"]
    assert found == [{"id": wanted, "name": name}]


def test_folder_names_with_quotes_are_found_and_ensured_once(drive, drive_service):
    client = DriveClient(drive_service, policy=ResiliencePolicy("drive", max_retries=0))
    parent = drive.create_folder("parent")
    name = "O'Brien \\ CP2000 ../"
    first = client.ensure_folder(parent, name)
    assert client.ensure_folder(parent, name) == first
    assert [f.id for f in client.find_folders(parent, name_patterns=("cp2000",))] == [first]
