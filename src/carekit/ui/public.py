"""What other contexts may use from the UI shell: the decorator for signed-in pages in the current
workspace (403 page without the scope)."""

from carekit.ui.shell import workspace_view

__all__ = ["workspace_view"]
