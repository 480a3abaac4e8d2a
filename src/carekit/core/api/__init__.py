"""API plumbing shared by every context's router: auth, scopes, errors, pagination."""

from carekit.core.api.auth import Principal, WorkspaceAuth, need
from carekit.core.api.errors import ApiError, StrictSchema
from carekit.core.api.pagination import Page, paginate

__all__ = ["ApiError", "Page", "Principal", "StrictSchema", "WorkspaceAuth", "need", "paginate"]
