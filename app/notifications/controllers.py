"""HTTP surface of the notifications feature: /api/v1/me/notifications and the one-click
/api/v1/notifications/unsubscribe that marketplace mails link to."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from app.accounts.guards import signed_in
from app.core.problems import problems
from app.core.request_checks import ACCEPTS_FORM
from app.models import Account, NotificationMode
from app.notifications.schemas import PreferenceInput, PreferenceOut, UnsubscribedOut
from app.notifications.service import NotificationService

UnsubscribeToken = Annotated[
    str, QueryParameter(min_length=34, max_length=80, pattern=r"^[0-9a-f]{32}\.[A-Za-z0-9_-]+$")
]


class MyNotificationsController(Controller):
    path = "/api/v1/me/notifications"
    tags = ["notifications"]
    guards = [signed_in]

    @get(
        summary="How you are told about the marketplace: a mail at once, a daily digest, or none",
        responses=problems(401),
    )
    async def my_preference(
        self, current_account: NamedDependency[Account], notifications: NamedDependency[NotificationService]
    ) -> PreferenceOut:
        mode, pending = await notifications.preference(current_account.id)
        return PreferenceOut(mode=mode, pending=pending, updated_at=None)

    @put(
        summary="Choose how you are told: immediate, daily (one digest a day) or off", responses=problems(400, 401, 413)
    )
    async def set_preference(
        self,
        data: JSONBody[PreferenceInput],
        current_account: NamedDependency[Account],
        notifications: NamedDependency[NotificationService],
    ) -> PreferenceOut:
        saved = await notifications.set_preference(current_account.id, NotificationMode(data.mode))
        _, pending = await notifications.preference(current_account.id)
        return PreferenceOut(mode=saved.mode, pending=pending, updated_at=saved.updated_at)


class UnsubscribeController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]

    @post(
        "/unsubscribe",
        status_code=HTTP_200_OK,
        # Mail clients POST `List-Unsubscribe=One-Click` form-encoded (RFC 8058), without credentials.
        opt={"exclude_from_auth": True, ACCEPTS_FORM: True},
        summary="One-click unsubscribe from marketplace mails (the link in their List-Unsubscribe header)",
        description="Signed token from the mail; takes effect at once. Account and governance mails are not affected.",
        responses=problems(400, 401),
    )
    async def unsubscribe(
        self, token: UnsubscribeToken, notifications: NamedDependency[NotificationService]
    ) -> UnsubscribedOut:
        preference = await notifications.unsubscribe(token)
        return UnsubscribedOut(
            mode=preference.mode, detail="You will get no more marketplace mail. Change it at /api/v1/me/notifications."
        )
