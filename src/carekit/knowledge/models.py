"""Knowledge base: categories, articles (one row per language), their versions and helpfulness votes."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from carekit.core.ids import PublicIdField
from carekit.core.models import Workspace
from carekit.knowledge.enums import ArticleStatus, Language


class Category(models.Model):
    public_id = PublicIdField(prefix="kbc")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=80)
    # Display names per language code, e.g. {"en": "Returns", "ru": "Возвраты"}.
    names = models.JSONField(default=dict)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="kb_category_slug")]
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug

    def name_in(self, language: str) -> str:
        return str(self.names.get(language) or next(iter(self.names.values()), self.slug))


class Article(models.Model):
    """One article in one language; translations share a slug. Content lives in its versions; the
    row keeps a copy of the current version so reads need no join."""

    public_id = PublicIdField(prefix="kba")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    slug = models.SlugField(max_length=120)
    language = models.CharField(max_length=8, choices=Language.choices)
    status = models.CharField(max_length=12, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    title = models.CharField(max_length=300)
    body = models.TextField()
    keywords = models.CharField(max_length=500, blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    related = models.ManyToManyField("self", blank=True, symmetrical=False, related_name="+")
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "language", "slug"], name="kb_article_slug")
        ]
        indexes = [models.Index(fields=["workspace", "status", "language"], name="kb_article_ws_status")]

    def __str__(self) -> str:
        return f"{self.slug} ({self.language})"


class ArticleVersion(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    body = models.TextField()
    keywords = models.CharField(max_length=500, blank=True, default="")
    author = models.CharField(max_length=80, blank=True, default="")  # the actor, as "kind:id"
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="kb_version_once")]
        ordering = ["-number"]


class ArticleVote(models.Model):
    """One "was this helpful?" answer per voter (a hashed session or customer reference) and article."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "voter"], name="kb_vote_once")]
