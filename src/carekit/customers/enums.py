from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another profile")
    ERASED = "erased", _("Erased")


class ContactKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TELEGRAM = "telegram", _("Telegram user id")
    VISITOR = "visitor", _("Web widget visitor id")
    MARKETPLACE = "marketplace", _("Marketplace buyer id")
    EXTERNAL = "external", _("Shop or CRM id")


class AttributeType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the code")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Too many wrong codes")
    EXPIRED = "expired", _("Expired")


class ConsentPurpose(models.TextChoices):
    SERVICE = "service", _("Service messages")
    MARKETING = "marketing", _("Marketing")
    SURVEYS = "surveys", _("Surveys")
    PROCESSING = "processing", _("Personal data processing")


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    PAID = "paid", _("Paid")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    RETURNED = "returned", _("Returned")
    PARTIALLY_RETURNED = "partially_returned", _("Partially returned")


class ReturnReason(models.TextChoices):
    DEFECT = "defect", _("Defect")
    WRONG_SIZE = "wrong_size", _("Wrong size")
    CHANGED_MIND = "changed_mind", _("Changed mind")
    OTHER = "other", _("Other")


class MergeStatus(models.TextChoices):
    MERGED = "merged", _("Merged")
    UNMERGED = "unmerged", _("Unmerged")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("Waiting for review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not the same person")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Being prepared")
    READY = "ready", _("Ready to download")
    DELETED = "deleted", _("Deleted")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    VALIDATING = "validating", _("Checking rows")
    WRITING = "writing", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
