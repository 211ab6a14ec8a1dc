"""A paginator for admin lists of tables that grow with every trigger or push."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections

# Below this many rows an exact count is cheap enough to keep.
ESTIMATE_ABOVE = 100_000


class EstimatedCountPaginator(Paginator):
    """Count an unfiltered PostgreSQL table from the planner's statistics.

    `SELECT COUNT(*)` over a year of triggers or a million-row push ledger reads the
    whole table on every changelist view; `pg_class.reltuples` (kept by ANALYZE and
    autovacuum) is exact enough for "page 1 of about 40,000". A filtered list, a
    small table and SQLite are counted exactly, as Django does.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    # A partitioned table (reports, triggers) keeps its statistics on
                    # its partitions: add up the leaves (a plain table is its own leaf).
                    table = queryset.model._meta.db_table
                    cursor.execute(
                        "SELECT coalesce((SELECT sum(greatest(c.reltuples, 0)) FROM pg_class c "
                        "JOIN pg_partition_tree(%s::regclass) t ON t.relid = c.oid "
                        "WHERE t.isleaf), (SELECT reltuples FROM pg_class "
                        "WHERE oid = %s::regclass))::bigint",
                        [table, table],
                    )
                    row = cursor.fetchone()
                if row and row[0] > ESTIMATE_ABOVE:
                    return row[0]
        return super().count
