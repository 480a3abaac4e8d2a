"""Opaque public ids: `<prefix>_<16 base32 chars>`; internal integer keys never leave the server."""

from __future__ import annotations

import base64
import secrets

from django.db import models


def new_public_id(prefix: str) -> str:
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()
    return f"{prefix}_{raw}"


class PublicIdField(models.CharField):
    """A unique, indexed opaque id generated on creation."""

    def __init__(self, prefix: str = "", *args, **kwargs):
        self.prefix = prefix
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        kwargs["default"] = None
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if not value:
            value = new_public_id(self.prefix)
            setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["prefix"] = self.prefix
        kwargs.pop("default", None)
        return name, path, args, kwargs
