"""Bulk writes that check each foreign key once, not once per row.

PostgreSQL checks a foreign key with one index probe per inserted row, and Django's
foreign keys are `DEFERRABLE INITIALLY DEFERRED`, so a bulk seed pays all of them at
COMMIT: about 20 of the 46 minutes a year of history took (docs/benchmarks.md). A
superuser can switch the per-row checks off for one transaction
(`session_replication_role = replica` fires no trigger, and the checks are triggers);
the writer then checks every foreign key with one anti-join each, and an orphan row
rolls the whole transaction back as the per-row check would have.
"""

from contextlib import contextmanager

from django.db import IntegrityError

FOREIGN_KEYS = """
    SELECT c.conname,
           c.conrelid::regclass::text,
           c.confrelid::regclass::text,
           array(SELECT quote_ident(a.attname)
                 FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                 ORDER BY k.n),
           array(SELECT quote_ident(a.attname)
                 FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, n)
                 JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum
                 ORDER BY k.n)
    FROM pg_constraint c
    JOIN pg_namespace ns ON ns.oid = c.connamespace
    WHERE c.contype = 'f' AND c.conparentid = 0 AND ns.nspname = current_schema()
    ORDER BY 2, 1
"""


@contextmanager
def foreign_keys_checked_once(cursor):
    """Inside an open transaction: no per-row foreign-key checks; one check per key at exit.

    Yields whether the per-row checks are off: only a superuser may turn them off, and
    for anyone else nothing changes (the checks run at COMMIT as usual).
    """
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    if not cursor.fetchone()[0]:
        yield False
        return
    cursor.execute("SET LOCAL session_replication_role = replica")
    yield True
    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    foreign_keys_check(cursor)


def foreign_keys_check(cursor) -> int:
    """Check every foreign key of the schema with one anti-join; return how many.

    Raise IntegrityError naming the key and the count of rows whose reference is
    missing (a NULL in any column passes, as MATCH SIMPLE says).
    """
    cursor.execute(FOREIGN_KEYS)
    keys = cursor.fetchall()
    for name, table, referenced, columns, referenced_columns in keys:
        present = " AND ".join(f"c.{column} IS NOT NULL" for column in columns)
        pairs = zip(columns, referenced_columns, strict=True)
        joined = " AND ".join(f"r.{theirs} = c.{ours}" for ours, theirs in pairs)
        cursor.execute(
            f"SELECT count(*) FROM {table} c WHERE {present} "  # noqa: S608 (catalog names)
            f"AND NOT EXISTS (SELECT 1 FROM {referenced} r WHERE {joined})"
        )
        orphans = cursor.fetchone()[0]
        if orphans:
            raise IntegrityError(
                f"{orphans} row(s) of {table} reference a missing {referenced} ({name})."
            )
    return len(keys)
