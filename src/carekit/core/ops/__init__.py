"""Operations: consistent backups, restore into an empty database, upgrades, and the erasure journal.

Start here: `backup.create_backup` / `restore.restore_backup` (the `carekit backup|restore` commands),
`upgrade` (pre-flight checks, then migrate), and `erasure`, the hook contexts call when they erase
personal data so that a restore from an older backup erases it again.
"""
