"""Dependencies of the members feature, wired by Litestar's dependency injection."""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide

from app.db.transaction import UnitOfWork
from app.members.service import MemberService
from app.models import Account


async def provide_member_service(unit_of_work: NamedDependency[UnitOfWork]) -> MemberService:
    return MemberService(unit_of_work)


def viewer_of(request: Request) -> Account | None:
    """Whoever is calling, if signed in: public reads answer anonymous visitors too."""
    return request.scope.get("user")


async def provide_viewer(request: Request) -> Account | None:
    return viewer_of(request)


dependencies = {
    "members": Provide(provide_member_service),
    "viewer": Provide(provide_viewer),
}
