import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Attachments that tests store (Telegram photos and documents) go to a temporary directory."""
    settings.MEDIA_ROOT = str(tmp_path)
