"""Domain events that notify someone: the shell turns them into bell notifications."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from carekit.accounts import public as accounts
from carekit.core.events import Actor, subscribe
from carekit.core.models import Event
from carekit.core.realtime import notifications

TEAM_JOINED = "team.joined"
notifications.register_kind(TEAM_JOINED, _("You were added to the team %(team)s"))

SYSTEM = Actor.system("notifications")


@subscribe("accounts.team.member_added", name="ui.notify_team_member_added")
def notify_team_member_added(event: Event) -> None:
    member_id = event.payload.get("member", "")
    agent = next((a for a in accounts.agents(event.workspace_id) if a.member_id == member_id), None)
    team = next((t for t in accounts.teams(event.workspace_id) if t.team_id == event.subject_id), None)
    if agent is None or team is None:  # removed since: nobody to tell
        return
    notifications.notification_create(
        actor=SYSTEM,
        workspace_id=event.workspace_id,
        user_ids=[agent.user_id],
        kind=TEAM_JOINED,
        subject_type="team",
        subject_id=team.team_id,
        params={"team": team.name},
    )
