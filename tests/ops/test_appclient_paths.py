"""The app client writes where the web app writes: owner-scoped paths and keys from the route table."""

from __future__ import annotations

import base64
import json

from botocore.credentials import Credentials

from ops.appclient import AppUser, id_token_claims

REGIONS = {
    "primary": {"region": "us-east-1", "photosApi": "https://p.example/prod", "objectStoreBucketName": "bucket-a"},
    "secondary": {"region": "ap-northeast-1", "photosApi": "https://s.example/prod",
                  "objectStoreBucketName": "bucket-b"},
}


def user(owner: str = "alice") -> AppUser:
    return AppUser(identity_id="us-east-1:x", credentials=Credentials("AKID", "secret", "token"), regions=REGIONS,
                   endpoints={"ap-northeast-1": "http://127.0.0.1:4568"}, owner=owner)


def test_writes_go_to_the_owners_own_paths_and_reads_to_the_shared_ones() -> None:
    alice = user()
    assert alice.path("registerPhoto") == "/users/alice/photos"
    assert alice.path("postComment", photoId="p/1") == "/users/alice/comments/p%2F1"
    assert alice.path("listComments", photoId="p1") == "/comments/p1"
    assert alice.path("listPhotos") == "/photos"


def test_objects_are_keyed_under_the_owner_in_either_region() -> None:
    alice = user()
    assert alice.object_url("primary", "p1") == "https://bucket-a.s3.us-east-1.amazonaws.com/public/alice/p1"
    assert alice.object_url("secondary", "p1") == "http://127.0.0.1:4568/bucket-b/public/alice/p1"


def test_the_owner_is_the_id_tokens_cognito_username() -> None:
    claims = {"cognito:username": "alice", "sub": "1234"}
    token = "e30." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + ".sig"
    assert id_token_claims(token)["cognito:username"] == "alice"
    assert id_token_claims("garbage") == {} and id_token_claims("a.!!!.c") == {}
