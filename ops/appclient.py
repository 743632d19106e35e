"""The application as a signed-in user sees it: Cognito sign-in, identity-pool credentials, SigV4-signed
calls to the REST APIs and the photo buckets of either region.

Used by `ops smoke`, the drill's workload generator and the end-to-end tests; it talks to AWS or
to the sandbox alike (`endpoints`: {region: base URL} for the sandbox, empty for AWS).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from components.contract import OWNER_CLAIM, REGION_ROLES, WRITABLE_STATE, RegionOut, photo_key
from components.routes import route_named

TIMEOUT = 5.0
_UNSIGNED = Config(signature_version=UNSIGNED, connect_timeout=3, read_timeout=5, retries={"max_attempts": 1})


class AppError(Exception):
    """A call that did not succeed: HTTP status (0 = no answer), the API's code and message."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}" if status else message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Answer:
    status: int
    body: Any


def writer_of(state: str) -> str | None:
    """The role whose region accepts writes in `state` (None while fenced)."""
    return next((role for role, writable in WRITABLE_STATE.items() if writable == state), None)


def new_photo_id(prefix: str = "") -> str:
    return f"{prefix}{secrets.token_urlsafe(12)}".replace("=", "")


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims of an id token Cognito just issued (not verified: the servers never trust them)."""
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


@dataclass
class AppUser:
    """A signed-in user: identity id and temporary credentials (valid in both regions), and the owner
    value (user-pool username) the write routes name: the same in both regions."""

    identity_id: str
    credentials: Credentials
    regions: Mapping[str, Mapping[str, Any]]  # role -> the uiConfig region block
    endpoints: Mapping[str, str] = field(default_factory=dict)  # region -> local base URL (sandbox)
    owner: str = ""  # the id token's cognito:username; "" for keys that are no app user

    # -- sign-in ------------------------------------------------------------------------------------
    @classmethod
    def sign_in(cls, ui_config: Mapping[str, Any], username: str, password: str, role: str = "primary") -> AppUser:
        """USER_PASSWORD_AUTH in `role`'s user pool, then that region's identity pool."""
        regions = {r: ui_config[r] for r in REGION_ROLES}
        endpoints = {b[RegionOut.REGION]: b["endpoint"] for b in regions.values() if b.get("endpoint")}
        block = regions[role]
        region = block[RegionOut.REGION]
        idp = _client("cognito-idp", region, endpoints.get(region))
        try:
            auth = idp.initiate_auth(ClientId=block[RegionOut.USER_POOL_CLIENT_ID], AuthFlow="USER_PASSWORD_AUTH",
                                     AuthParameters={"USERNAME": username, "PASSWORD": password})
        except idp.exceptions.NotAuthorizedException:
            raise AppError(400, "NotAuthorizedException", f"wrong username or password for {username!r}") from None
        if "AuthenticationResult" not in auth:
            raise AppError(400, auth.get("ChallengeName", "Challenge"),
                           f"user {username!r} must answer {auth.get('ChallengeName')} before signing in")
        id_token = auth["AuthenticationResult"]["IdToken"]
        logins = {f"cognito-idp.{region}.amazonaws.com/{block[RegionOut.USER_POOL_ID]}": id_token}
        identity = _client("cognito-identity", region, endpoints.get(region))
        identity_id = identity.get_id(IdentityPoolId=block[RegionOut.IDENTITY_POOL_ID], Logins=logins)["IdentityId"]
        creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
        credentials = Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"])
        owner = str(id_token_claims(id_token).get(OWNER_CLAIM) or "")
        return cls(identity_id=identity_id, credentials=credentials, regions=regions, endpoints=endpoints,
                   owner=owner)

    # -- raw signed HTTP ----------------------------------------------------------------------------
    def call(self, method: str, url: str, region: str, body: Any = None, *, service: str = "execute-api",
             data: bytes | None = None, headers: Mapping[str, str] | None = None,
             timeout: float = TIMEOUT) -> Answer:
        """A SigV4-signed request; (status, parsed JSON body or bytes). Status 0 = no answer."""
        if body is not None:
            data = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if service == "s3":
            all_headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
        request = AWSRequest(method=method, url=url, data=data or b"", headers=all_headers)
        SigV4Auth(self.credentials, service, region).add_auth(request)
        prepared = urllib.request.Request(url, data=data if method in ("PUT", "POST") else None, method=method,
                                          headers=dict(request.headers.items()))
        try:
            with urllib.request.urlopen(prepared, timeout=timeout) as response:
                return Answer(response.status, _parse(response.read(), service))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _parse(error.read(), service))
        except (urllib.error.URLError, OSError) as error:
            return Answer(0, {"code": "UNREACHABLE", "message": str(getattr(error, "reason", error))})

    def api(self, method: str, role: str, path: str, body: Any = None, timeout: float = TIMEOUT) -> Answer:
        """A call to `role`'s photos API (path like /comments/<photoId>; see `path`)."""
        block = self.regions[role]
        return self.call(method, block[RegionOut.PHOTOS_API] + path, block[RegionOut.REGION], body, timeout=timeout)

    def state(self, role: str, timeout: float = TIMEOUT) -> Answer:
        block = self.regions[role]
        return self.call("GET", block[RegionOut.STATE_URL], block[RegionOut.REGION], timeout=timeout)

    def routing_state(self, timeout: float = TIMEOUT) -> str | None:
        """The state from the first region whose state API answers (primary first), as the web app asks;
        None when neither answers."""
        for role in REGION_ROLES:
            answer = self.state(role, timeout=timeout)
            if answer.status == 200:
                return str(answer.body.get("state"))
        return None

    def path(self, route: str, **params: str) -> str:
        """The path of a named route (components/routes.py), the owner being this user's."""
        named = route_named(route)
        if named.owner_param:
            params = {named.owner_param: self.owner, **params}
        return named.url_path(**params)

    # -- the app's operations, as answers (status 0 = no answer): the drill's workload and its checks --
    def send_comment(self, role: str, photo_id: str, message: str, timeout: float = TIMEOUT) -> Answer:
        return self.api("POST", role, self.path("postComment", photoId=photo_id), {"message": message},
                        timeout=timeout)

    def list_comments(self, role: str, photo_id: str, timeout: float = TIMEOUT) -> Answer:
        return self.api("GET", role, self.path("listComments", photoId=photo_id), timeout=timeout)

    def send_photo(self, role: str, photo_id: str, data: bytes, content_type: str = "image/png",
                   timeout: float = TIMEOUT) -> Answer:
        """Bytes to `role`'s bucket (create-only, under the owner's prefix), then the record through the API
        (the web app's order); the first failure."""
        put = self.put_object(role, photo_id, data, content_type)
        if put.status != 200:
            return put
        return self.register_photo(role, photo_id, len(data), content_type, timeout=timeout)

    def all_photos(self, role: str, timeout: float = TIMEOUT, max_pages: int = 50,
                   newer_than_ms: int | None = None) -> list[dict[str, Any]] | None:
        """The photo records of `role`'s region, newest first, following `next` until a page reaches records
        older than `newer_than_ms` (epoch ms; None: every page); None when the region does not answer."""
        photos: list[dict[str, Any]] = []
        cursor = ""
        for _ in range(max_pages):
            query = "?limit=100" + (f"&cursor={quote(cursor)}" if cursor else "")
            answer = self.api("GET", role, self.path("listPhotos") + query, timeout=timeout)
            if answer.status != 200:
                return None
            page = answer.body["photos"]
            photos += page
            cursor = answer.body.get("next") or ""
            if not cursor or (newer_than_ms is not None and page and int(page[-1].get("createdAt") or 0)
                              < newer_than_ms):
                break
        return photos

    # -- the app's operations (raise AppError unless 2xx) --------------------------------------------
    def post_comment(self, role: str, photo_id: str, message: str) -> dict[str, Any]:
        return checked(self.send_comment(role, photo_id, message))

    def comments(self, role: str, photo_id: str) -> list[dict[str, Any]]:
        return checked(self.list_comments(role, photo_id))["comments"]

    def photos(self, role: str, limit: int = 100) -> list[dict[str, Any]]:
        return checked(self.api("GET", role, f"{self.path('listPhotos')}?limit={limit}"))["photos"]

    def register_photo(self, role: str, photo_id: str, size: int, content_type: str = "image/png",
                       timeout: float = TIMEOUT) -> Answer:
        return self.api("POST", role, self.path("registerPhoto"),
                        {"photoId": photo_id, "size": size, "contentType": content_type}, timeout=timeout)

    def upload_photo(self, role: str, photo_id: str, data: bytes, content_type: str = "image/png") -> dict[str, Any]:
        """Bytes to `role`'s bucket (create-only, under the owner's prefix), then the record through the
        API (the web app's order)."""
        return checked(self.send_photo(role, photo_id, data, content_type))

    def object_url(self, role: str, photo_id: str) -> str:
        """URL of this user's photo `photo_id` (key public/<owner>/<photoId>) in `role`'s bucket."""
        block = self.regions[role]
        region, bucket = block[RegionOut.REGION], block[RegionOut.BUCKET]
        key = quote(photo_key(self.owner, photo_id))
        base = self.endpoints.get(region)
        return f"{base}/{bucket}/{key}" if base else f"https://{bucket}.s3.{region}.amazonaws.com/{key}"

    def put_object(self, role: str, photo_id: str, data: bytes, content_type: str) -> Answer:
        """Create-only (If-None-Match: *): what the app users' role requires; an existing key is 412."""
        region = self.regions[role][RegionOut.REGION]
        return self.call("PUT", self.object_url(role, photo_id), region, service="s3", data=data,
                         headers={"Content-Type": content_type, "If-None-Match": "*"})

    def get_object(self, role: str, photo_id: str) -> Answer:
        region = self.regions[role][RegionOut.REGION]
        return self.call("GET", self.object_url(role, photo_id), region, service="s3")


def _client(service: str, region: str, endpoint: str | None) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=endpoint, config=_UNSIGNED)


def _parse(raw: bytes, service: str) -> Any:
    if service == "s3":
        return raw
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return {"code": "NOT_JSON", "message": raw[:200].decode(errors="replace")}


def checked(answer: Answer) -> Any:
    """The body of a 2xx answer; AppError otherwise (an S3 refusal's XML is its message)."""
    if 200 <= answer.status < 300:
        return answer.body
    if isinstance(answer.body, bytes):  # S3: <Error><Code>...</Code><Message>...</Message></Error>
        code = _xml_text(answer.body, "Code") or "S3"
        raise AppError(answer.status, code, _xml_text(answer.body, "Message") or answer.body[:300].decode(
            errors="replace"))
    body = answer.body if isinstance(answer.body, dict) else {}
    raise AppError(answer.status, str(body.get("code", "ERROR")), str(body.get("message", body or answer.body)))


def _xml_text(body: bytes, tag: str) -> str:
    """The text of the first <tag> of an S3 error document ("" when there is none)."""
    match = re.search(rf"<{tag}>([^<]*)</{tag}>".encode(), body)
    return match.group(1).decode(errors="replace") if match else ""
