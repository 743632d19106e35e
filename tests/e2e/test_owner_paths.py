"""An encoded `/` in a write route's path cannot forge an author or a photo id.

The app users' role may invoke `.../POST/users/${aws:PrincipalTag/owner}/comments/*`: IAM matches the decoded
path, and `*` spans `/`, so `POST /users/demo%2Fcomments%2Fforged/comments/p` is demo's to invoke. The write
templates refuse a path owner outside the username pattern, and a photoId outside its pattern, whichever form
API Gateway hands them over in (components/templates/comments-post.request.vtl): 400, nothing written.
"""

from __future__ import annotations

from urllib.parse import quote

from ops.appclient import AppUser, new_photo_id


def test_a_slash_in_the_owner_segment_cannot_forge_a_comment_author(user: AppUser) -> None:
    photo_id = new_photo_id("slash-")
    forged = quote(f"{user.owner}/comments/forged", safe="")
    answer = user.api("POST", "primary", f"/users/{forged}/comments/{photo_id}", {"message": "who wrote this?"})
    assert answer.status == 400, answer.body
    assert answer.body["code"] == "BAD_REQUEST"
    assert answer.body["message"].startswith("Path parameter owner must be a username")
    assert user.comments("primary", photo_id) == []
    # The honest path still works: the refusal is the segment's, not the user's.
    assert user.send_comment("primary", photo_id, "mine").status == 200
    assert [c["user"] for c in user.comments("primary", photo_id)] == [user.owner]


def test_a_slash_in_the_photo_id_segment_cannot_comment_on_another_key(user: AppUser) -> None:
    photo_id = new_photo_id("slash-")  # the path carries it as {photo_id}%2Fx (one encoded segment)
    answer = user.api("POST", "primary", user.path("postComment", photoId=f"{photo_id}/x"), {"message": "m"})
    assert answer.status == 400, answer.body
    assert answer.body["message"].startswith("Path parameter photoId must")
    assert user.comments("primary", f"{photo_id}/x") == [] and user.comments("primary", photo_id) == []
