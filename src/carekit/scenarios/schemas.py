from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from carekit.core.api import StrictSchema


class ScenarioIn(StrictSchema):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    template: str | None = None  # a key of GET /scenario-templates
    definition: dict[str, Any] | None = None


class ScenarioPatch(StrictSchema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    rate_limit_per_hour: int | None = Field(default=None, ge=1)
    clear_rate_limit: bool = False


class ScenarioOut(Schema):
    id: str
    name: str
    description: str
    trigger_type: str
    published_version: int | None
    killed: bool
    rate_limit_per_hour: int | None
    rate_limited: int
    created_at: datetime


class ScenarioPage(Schema):
    items: list[ScenarioOut]
    next_cursor: str | None


class DraftIn(StrictSchema):
    definition: dict[str, Any]


class VersionOut(Schema):
    id: str
    number: int
    status: str
    definition: dict[str, Any]
    created_at: datetime
    published_at: datetime | None


class VersionPage(Schema):
    items: list[VersionOut]
    next_cursor: str | None


class ProblemOut(Schema):
    step: str
    code: str
    message: str


class ValidationOut(Schema):
    valid: bool
    problems: list[ProblemOut]


class DryRunIn(StrictSchema):
    days: int = Field(default=7, ge=1, le=90)


class DryRunOut(Schema):
    since: datetime
    until: datetime
    events_read: int
    entries: int
    skipped: dict[str, int]
    branches: dict[str, dict[str, int]]
    actions: dict[str, dict[str, int]]
    statuses: dict[str, int]
    sample: list[dict[str, Any]]


class ExportOut(Schema):
    format: str
    text: str


class ImportIn(StrictSchema):
    format: Literal["json", "yaml"]
    text: str = Field(max_length=200_000)


class KillOut(Schema):
    id: str
    killed: bool
    runs_stopped: int


class RunOut(Schema):
    id: str
    scenario_id: str
    version: int
    customer_id: str
    status: str
    arm: str
    step: str
    wait_until: datetime | None
    started_at: datetime
    finished_at: datetime | None


class RunPage(Schema):
    items: list[RunOut]
    next_cursor: str | None


class StepOut(Schema):
    seq: int
    step: str
    kind: str
    outcome: str
    branch: str
    detail: dict[str, Any]
    at: datetime


class RunDetail(RunOut):
    trace: list[StepOut]


class ArmIn(StrictSchema):
    name: str = Field(min_length=1, max_length=40)
    weight: int = Field(ge=1, le=10_000)
    holdout: bool = False
    start: str | None = None


class GoalIn(StrictSchema):
    event: str
    window_hours: int = Field(ge=1, le=24 * 365)
    when: list[dict[str, Any]] = []
    metric: str | None = None


class ExperimentIn(StrictSchema):
    arms: list[ArmIn] = Field(min_length=2)
    goal: GoalIn
    horizon_at: datetime
    min_sample_per_arm: int = Field(default=100, ge=1)


class ExperimentOut(Schema):
    id: str
    status: str
    arms: list[dict[str, Any]]
    goal: dict[str, Any]
    horizon_at: datetime
    min_sample_per_arm: int
    results: dict[str, Any] | None = None


class TemplateOut(Schema):
    id: str
    name: str
    description: str
    definition: dict[str, Any]


class TemplatePage(Schema):
    items: list[TemplateOut]
