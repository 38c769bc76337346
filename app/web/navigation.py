"""The site's main navigation, as data: each feature's pages add their entries here.

A feature that lands later (payments, the data vault...) appends a `NavItem` from its page module;
the layout shows the entries its visitor may use, in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.models import Account, MemberStatus, Role
from app.web.i18n import N_


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English message id, translated when rendered
    visible: Callable[[Account | None], bool]


def anyone(_: Account | None) -> bool:
    return True


def signed_in(account: Account | None) -> bool:
    return account is not None


def admitted(account: Account | None) -> bool:
    return account is not None and account.role == Role.MEMBER and account.member_status == MemberStatus.MEMBER


def admin(account: Account | None) -> bool:
    return account is not None and account.role == Role.ADMIN


def member_or_admin(account: Account | None) -> bool:
    return admitted(account) or admin(account)


def vault_owner(account: Account | None) -> bool:
    return account is not None and account.role == Role.MEMBER


NAV: list[NavItem] = [
    NavItem("/dashboard", N_("Dashboard"), signed_in),
    NavItem("/profiles", N_("Profiles"), anyone),
    NavItem("/missions", N_("Missions"), anyone),
    NavItem("/assemblies", N_("Assemblies"), member_or_admin),
    NavItem("/admin/members", N_("Administration"), admin),
    NavItem("/payments", N_("Payments"), signed_in),
    NavItem("/vault", N_("Data vault"), vault_owner),
    NavItem("/vault/conventions", N_("Conventions"), admin),
    NavItem("/me/cv", N_("My CV"), admitted),
    NavItem("/trainings", N_("Trainings"), anyone),
    NavItem("/diagnostic", N_("Needs diagnostic"), lambda account: not admitted(account)),
]


def nav_for(account: Account | None) -> list[NavItem]:
    return [item for item in NAV if item.visible(account)]
