"""The application factory: `create_app(settings)` wires features, stores, errors and docs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from sqlalchemy.engine import URL

from app import __version__
from app.accounts.authentication import BearerAuthenticationMiddleware
from app.accounts.controllers import AccountsController, AuthController, MeController, OrganisationsController
from app.accounts.deps import dependencies as account_dependencies
from app.accounts.oidc import OidcProviders
from app.accounts.passwords import Passwords
from app.accounts.tokens import SigningKeys
from app.assemblies.background import assemblies_lifespan, build_governance, channels_plugin
from app.assemblies.controllers import (
    AssembliesController,
    ProposalsController,
    StatutesController,
    TrusteeKeyController,
)
from app.assemblies.deps import dependencies as assembly_dependencies
from app.core.errors import EXCEPTION_HANDLERS
from app.core.logging import configure_logging
from app.core.mail import Mailer, build_mailer
from app.core.middleware import request_id_middleware
from app.core.rate_limit import STORE_NAME, AuthLimits, auth_rate_limit
from app.core.request_checks import check_request
from app.cv.controllers import CvExtractionsController
from app.cv.deps import dependencies as cv_dependencies
from app.db.engine import Database, open_database
from app.db.kv_store import PostgresStore
from app.db.transaction import BackgroundTasks, provide_session, provide_unit_of_work
from app.db.url import to_async_url
from app.diagnostic.controllers import DiagnosticController
from app.diagnostic.deps import dependencies as diagnostic_dependencies
from app.health.controllers import HealthController, KeysController
from app.members.controllers import MyProfileController, ProfilesController, SkillsController
from app.members.deps import dependencies as member_dependencies
from app.missions.controllers import (
    MatchingPolicyController,
    MissionsController,
    MyMissionsController,
    OrganisationReviewsController,
    ProfileReviewsController,
)
from app.missions.deps import dependencies as mission_dependencies
from app.notifications.background import notifications_lifespan
from app.notifications.controllers import MyNotificationsController, UnsubscribeController
from app.notifications.deps import dependencies as notification_dependencies
from app.openapi_ui import assets_router, render_plugins
from app.payments.background import payments_lifespan
from app.payments.controllers import PaymentsController, PayoutsController
from app.payments.deps import dependencies as payment_dependencies
from app.payments.stripe_gateway import StripeGateway
from app.settings import Settings, get_settings
from app.training.controllers import TrainingPathsController, TrainingsController
from app.training.deps import dependencies as training_dependencies
from app.vault.controllers import (
    ConventionsController,
    DidController,
    MyErasureController,
    MyGrantsController,
    MyVaultController,
    PartnerController,
    VaultImportsController,
)
from app.vault.credentials import VaultSigner
from app.vault.deps import dependencies as vault_dependencies
from app.vault.keys import master_keys_from_settings
from app.web.errors import UNROUTED_HANDLERS
from app.web.router import template_config, web_routers, web_state

SHUTDOWN_STEP_SECONDS = 3.0

API_DESCRIPTION = """
The API of a platform cooperative of freelancers: members, clients, missions, assemblies,
payments routed through the cooperative and each member's portable data vault.

Errors are RFC 9457 `application/problem+json` documents with a stable `type` (`urn:coop:problem:*`).
Authenticate with `Authorization: Bearer <access token>` from `POST /api/v1/auth/sign-in`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    database_url: URL | None = None,
    mailer: Mailer | None = None,
    passwords: Passwords | None = None,
) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        database: Database = open_database(settings, database_url)
        app.state.database = database
        if not settings.redis_url:
            app.stores.register(
                STORE_NAME, PostgresStore(database.sessionmaker, namespace=STORE_NAME), allow_override=True
            )
        try:
            async with (
                assemblies_lifespan(app.state, database),
                notifications_lifespan(app.state, database),
                payments_lifespan(app.state, database),
            ):
                yield
        finally:
            # Every step bounded: SIGTERM must stop the server in seconds, whatever state it is in
            # (database gone, a mail server hanging, a vote closing).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app.state.background.drain(), SHUTDOWN_STEP_SECONDS)
            with contextlib.suppress(TimeoutError, Exception):
                await asyncio.wait_for(database.dispose(), SHUTDOWN_STEP_SECONDS)
            if database.embedded is not None:
                database.embedded.stop()

    listen_url = to_async_url(settings.database_listen_url) if settings.database_listen_url else None
    channels = channels_plugin(settings, lambda: listen_url or app.state.database.url)
    state = State(
        {
            "governance": build_governance(settings, channels),
            "settings": settings,
            "signing_keys": SigningKeys.from_settings(settings),
            "passwords": passwords or Passwords(),
            "mailer": mailer or build_mailer(settings),
            "oidc_providers": OidcProviders(settings.oidc_providers, settings.public_base_url),
            "background": BackgroundTasks(),
            # The store is registered in the lifespan (PostgreSQL) or built on first use (Redis).
            "auth_limits": AuthLimits(settings, lambda: app.stores.get(STORE_NAME)),
            **web_state(settings),
            "payments_gateway": StripeGateway(
                settings.stripe_api_key.get_secret_value(),
                settings.stripe_webhook_secret.get_secret_value(),
                settings.stripe_api_base,
            ),
            "vault_signer": VaultSigner.from_settings(settings),
            "vault_master_keys": master_keys_from_settings(settings),
        }
    )

    stores = StoreRegistry(default_factory=_store_factory(settings))
    auth_router = Router(
        path="/",
        route_handlers=[AuthController],
        middleware=[auth_rate_limit(settings).middleware],
    )

    app = Litestar(
        route_handlers=[
            auth_router,
            MeController,
            AccountsController,
            OrganisationsController,
            HealthController,
            KeysController,
            ProfilesController,
            MyProfileController,
            SkillsController,
            MissionsController,
            MyMissionsController,
            ProfileReviewsController,
            OrganisationReviewsController,
            MatchingPolicyController,
            StatutesController,
            AssembliesController,
            ProposalsController,
            TrusteeKeyController,
            MyNotificationsController,
            UnsubscribeController,
            assets_router(),
            CvExtractionsController,
            TrainingsController,
            TrainingPathsController,
            DiagnosticController,
            *web_routers(settings),
            PaymentsController,
            PayoutsController,
            MyVaultController,
            VaultImportsController,
            DidController,
            ConventionsController,
            MyGrantsController,
            MyErasureController,
            PartnerController,
        ],
        dependencies={
            "unit_of_work": Provide(provide_unit_of_work),
            "db_session": Provide(provide_session),
            **account_dependencies,
            **member_dependencies,
            **mission_dependencies,
            **notification_dependencies,
            **assembly_dependencies,
            **cv_dependencies,
            **training_dependencies,
            **diagnostic_dependencies,
            **payment_dependencies,
            **vault_dependencies,
        },
        middleware=[
            DefineMiddleware(BearerAuthenticationMiddleware, exclude=["^/schema", "^/health"]),
        ],
        before_request=check_request,
        exception_handlers={**EXCEPTION_HANDLERS, **UNROUTED_HANDLERS},
        template_config=template_config(),
        plugins=[channels],
        lifespan=[lifespan],
        state=state,
        stores=stores,
        cors_config=CORSConfig(
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id", "retry-after"],
        )
        if settings.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="Cooperative platform API",
            version=__version__,
            description=API_DESCRIPTION,
            path="/schema",
            render_plugins=render_plugins(),
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{}, {"BearerToken": []}],
        ),
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # structlog is configured above; Litestar must not replace it
        debug=False,
    )
    # Outermost, so that even unrouted requests (404, 405) get a request id and security headers.
    app.asgi_handler = request_id_middleware(app.asgi_handler, https=settings.public_base_url.startswith("https://"))
    return app


def _store_factory(settings: Settings):  # type: ignore[no-untyped-def]
    if settings.redis_url:
        redis_store = RedisStore.with_client(url=settings.redis_url, namespace="coop")
        return lambda name: redis_store.with_namespace(name)
    return lambda name: MemoryStore()
