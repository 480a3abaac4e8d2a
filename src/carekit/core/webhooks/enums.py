from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class AttemptOutcome(models.TextChoices):
    SUCCESS = "success", _("Success")
    HTTP_ERROR = "http_error", _("Error response")
    NETWORK_ERROR = "network_error", _("Network error")
    REFUSED = "refused", _("Refused target")
