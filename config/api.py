"""The NinjaAPI root at /api/v1/: every context router, behind one auth and one error envelope."""

from __future__ import annotations

from ninja import NinjaAPI

from carekit.accounts.api import router as accounts_router
from carekit.bot.api import router as bot_router
from carekit.channels.api import router as channels_router
from carekit.conversations.api import router as conversations_router
from carekit.core.api import WorkspaceAuth
from carekit.core.api.errors import install_error_handlers
from carekit.core.events.api import router as events_router
from carekit.core.webhooks.api import router as webhooks_router
from carekit.customers.api import router as customers_router
from carekit.knowledge.api import router as knowledge_router
from carekit.loyalty.api import router as loyalty_router
from carekit.scenarios.api import router as scenarios_router

api = NinjaAPI(
    title="Carekit API",
    version="1",
    urls_namespace="api-v1",
    auth=WorkspaceAuth(),
    docs_url="/docs",
    description="Bearer tokens (`Authorization: Bearer ck_...`) for integrations; session auth for the UI.",
)
install_error_handlers(api)
api.add_router("", events_router)
api.add_router("", accounts_router)
api.add_router("", webhooks_router)
api.add_router("", customers_router)
api.add_router("", loyalty_router)
api.add_router("", knowledge_router)
api.add_router("", bot_router)
api.add_router("", conversations_router)
api.add_router("", scenarios_router)
api.add_router("", channels_router)
