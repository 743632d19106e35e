"""Nobody learns the key of another user's upload before it is registered (registration front-running).

Publishing a photo is two steps: the bytes go to S3 (create-only, under the owner's own `public/<owner>/`),
then the API registers the photo id (once, by anyone: the id's uniqueness marker). Between the two, an app user
who could list the bucket would see the new key and register its id first: the owner's registration would then
be 409 PHOTO_EXISTS. So the app users' role grants no listing at all (components/identity.py; nothing the app
does lists: the gallery comes from the API), and the ids are 132 random bits (webapp/src/photos.ts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from components.contract import PHOTO_PREFIX, REGION_ROLES, RegionOut, photo_key
from ops.appclient import AppUser, new_photo_id
from sandbox.up import Sandbox

S3V4 = Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1})


def s3_as(sandbox: Sandbox, role: str, credentials: Credentials) -> Any:
    region = sandbox.ui_config[role][RegionOut.REGION]
    return boto3.client("s3", region_name=region, endpoint_url=sandbox.cloud.region_endpoint(region),
                        aws_access_key_id=credentials.access_key, aws_secret_access_key=credentials.secret_key,
                        aws_session_token=credentials.token, config=S3V4)


def refusal(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def every_listing(s3: Any, bucket: str, prefixes: list[str]) -> list[Callable[[], Any]]:
    """Each way S3 lists keys (objects v1 and v2, versions, multipart uploads), for each prefix and for none."""
    calls: list[Callable[[], Any]] = [
        lambda: s3.list_objects_v2(Bucket=bucket),
        lambda: s3.list_objects(Bucket=bucket),
        lambda: s3.list_object_versions(Bucket=bucket),
        lambda: s3.list_multipart_uploads(Bucket=bucket),
    ]
    for prefix in prefixes:
        calls += [
            lambda prefix=prefix: s3.list_objects_v2(Bucket=bucket, Prefix=prefix),
            lambda prefix=prefix: s3.list_objects_v2(Bucket=bucket, Prefix=prefix, Delimiter="/"),
            lambda prefix=prefix: s3.list_objects(Bucket=bucket, Prefix=prefix),
            lambda prefix=prefix: s3.list_object_versions(Bucket=bucket, Prefix=prefix),
            lambda prefix=prefix: s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix),
        ]
    return calls


@pytest.mark.parametrize("role", REGION_ROLES)
def test_another_user_cannot_list_someones_unregistered_upload(sandbox: Sandbox, user: AppUser,
                                                               other_user: AppUser, role: str) -> None:
    photo_id = new_photo_id("unregistered-")
    assert user.put_object(role, photo_id, b"\x89PNG not registered yet", "image/png").status == 200
    key = photo_key(user.owner, photo_id)
    bucket = sandbox.ui_config[role][RegionOut.BUCKET]
    prefixes = [PHOTO_PREFIX, f"{PHOTO_PREFIX}{user.owner}", f"{PHOTO_PREFIX}{user.owner}/", key[:-4], key]

    s3 = s3_as(sandbox, role, other_user.credentials)
    for listing in every_listing(s3, bucket, prefixes):
        assert refusal(listing) == (403, "AccessDenied")
    # Without the id, nothing to front-run: the owner registers their own upload (where writes go while active).
    answer = user.register_photo("primary", photo_id, 23)
    assert answer.status == 200, answer.body


@pytest.mark.parametrize("role", REGION_ROLES)
def test_no_app_user_lists_the_photo_buckets_not_even_their_own_prefix(sandbox: Sandbox, other_user: AppUser,
                                                                     role: str) -> None:
    # Nothing the app does lists (the gallery is the API's); an own-prefix grant would only add surface.
    photo_id = new_photo_id("own-")
    assert other_user.put_object(role, photo_id, b"\x89PNG own", "image/png").status == 200
    s3 = s3_as(sandbox, role, other_user.credentials)
    own = f"{PHOTO_PREFIX}{other_user.owner}/"
    for listing in every_listing(s3, sandbox.ui_config[role][RegionOut.BUCKET], [own, f"{own}{photo_id}"]):
        assert refusal(listing) == (403, "AccessDenied")
    assert other_user.get_object(role, photo_id).body == b"\x89PNG own"  # reading a known key still works
