"""Full-text indexes on message texts (PostgreSQL only; SQLite uses the documented fallback)."""

from django.db import migrations

INDEXES = {
    "russian": "msg_text_fts_ru",
    "english": "msg_text_fts_en",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for config, name in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON conversations_message "
            f"USING gin (to_tsvector('{config}'::regconfig, COALESCE(text, '')))"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES.values():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
