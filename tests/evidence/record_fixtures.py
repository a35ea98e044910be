"""Records the plan and query-log fixtures from a real PostgreSQL server (and real Django / SQLAlchemy runs).

    python tests/evidence/record_fixtures.py [--host 127.0.0.1] [--user postgres] [--orm-python PATH]

Builds a small dataset in a scratch database (created here, dropped at the end), then for each scenario runs
`EXPLAIN (ANALYZE, BUFFERS)` in text and `FORMAT JSON` through psql and writes what psql printed to
tests/evidence/fixtures/plans/. A few plans are also kept as psql prints them unaligned (`-A`), aligned JSON (with
the `+` continuation marks) and as pgAdmin/DBeaver copy them (each row in double quotes).

Query logs: the server log is read back with pg_read_file() (the superuser session turns statement logging on for
itself with SET, nothing is changed server-wide). The Django and SQLAlchemy logs come from running those ORMs, an
N+1 version and a prefetch version each, with the interpreter given by --orm-python: a scratch venv OUTSIDE the
repository (`python3 -m venv /tmp/scratch-orm && /tmp/scratch-orm/bin/pip install django sqlalchemy
'psycopg[binary]'`); the project does not depend on them. Timings differ on every run; the tests only rely on the
shape of each scenario (which node is slow, which rows are discarded), which the dataset makes deterministic.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLANS = HERE / "fixtures" / "plans"
LOGS = HERE / "fixtures" / "logs"
SERVER_LOG = "/var/log/postgresql/postgresql-15-main.log"

DATASET = """
CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, plan text NOT NULL);
INSERT INTO accounts SELECT g, 'account ' || g, (ARRAY['free','pro','team'])[1 + g % 3] FROM generate_series(1, 2000) g;
CREATE INDEX accounts_lower_name_idx ON accounts (lower(name));
CREATE TABLE events (id bigserial PRIMARY KEY,
                     account_id int NOT NULL CONSTRAINT events_account_id_fkey REFERENCES accounts (id),
                     kind text NOT NULL, created_at timestamptz NOT NULL, payload text NOT NULL);
INSERT INTO events (account_id, kind, created_at, payload)
SELECT 201 + g % 1800, CASE WHEN g % 500 = 0 THEN 'refund' ELSE (ARRAY['view','click','signup'])[1 + g % 3] END,
       timestamptz '2024-01-01' + g * interval '10 seconds', md5(g::text) || md5((g * 7)::text)
FROM generate_series(1, 300000) g;
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
                     created_at timestamptz NOT NULL, total numeric(10, 2) NOT NULL);
INSERT INTO orders SELECT g, 1 + g % 50, CASE WHEN g % 997 = 0 THEN 'refunded' ELSE 'paid' END,
       timestamptz '2024-01-01' + g * interval '1 minute', (g % 500) + 0.99 FROM generate_series(1, 200000) g;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE visits (id int PRIMARY KEY, city int NOT NULL, zone int NOT NULL);
INSERT INTO visits SELECT g, g % 100, g % 100 FROM generate_series(1, 200000) g;
CREATE TABLE line_items (id int PRIMARY KEY, order_id int NOT NULL, sku text NOT NULL)
  WITH (autovacuum_enabled = false);
CREATE INDEX line_items_order_id_idx ON line_items (order_id) INCLUDE (sku);
CREATE TABLE skus (code text, alt text);
INSERT INTO skus SELECT 'sku-' || g, 'alt-' || g FROM generate_series(1, 400) g;
CREATE TABLE shelf (code text, alt text);
INSERT INTO shelf SELECT 'sku-' || (g * 3), 'alt-' || (g * 5) FROM generate_series(1, 400) g;
VACUUM ANALYZE accounts, events, orders, visits, skus, shelf;
INSERT INTO line_items SELECT g, 1 + g / 4, 'sku-' || (g % 400) FROM generate_series(1, 100000) g;
ANALYZE line_items;
"""

# name -> (session settings, statement, wrapped in a rolled-back transaction?)
SCENARIOS: dict[str, tuple[str, str, bool]] = {
    "fk_delete": ("", "DELETE FROM accounts WHERE id <= 150", True),
    # The same DELETE once the referencing column is indexed (inside the rolled-back transaction).
    "fk_delete_indexed": ("CREATE INDEX events_account_id_idx ON events (account_id);",
                          "DELETE FROM accounts WHERE id <= 150", True),
    "seq_scan_filter": ("", "SELECT id, account_id, created_at FROM events WHERE kind = 'refund'", False),
    "index_filter": ("", "SELECT id, total FROM orders WHERE customer_id = 7 AND status = 'refunded'", False),
    "join_filter": ("", "SELECT s.code, h.alt FROM skus s JOIN shelf h ON s.code = h.code OR s.alt = h.alt", False),
    "misestimate": ("", "SELECT count(*) FROM visits v JOIN orders o ON o.id = v.id WHERE v.city = 7 AND v.zone = 7",
                    False),
    "sort_spill": ("SET work_mem = '1MB';", "SELECT id, payload FROM events ORDER BY payload LIMIT 100000 OFFSET 1",
                   False),
    "hash_spill": ("SET work_mem = '256kB'; SET max_parallel_workers_per_gather = 0; SET enable_mergejoin = off;",
                   "SELECT o.status, e.kind FROM events e JOIN orders o ON o.id = e.id WHERE e.kind = 'view'", False),
    "hashagg_spill": ("SET work_mem = '256kB'; SET enable_sort = off; SET max_parallel_workers_per_gather = 0;",
                      "SELECT payload, count(*) FROM events GROUP BY payload HAVING count(*) > 1", False),
    "lossy_bitmap": ("SET work_mem = '64kB'; SET enable_indexscan = off; SET enable_seqscan = off;",
                     "SELECT count(*), max(payload) FROM events "
                     "WHERE created_at BETWEEN '2024-01-10' AND '2024-01-25'", False),
    "heap_fetches": ("", "SELECT order_id, sku FROM line_items WHERE order_id BETWEEN 1000 AND 9000", False),
    "many_loops": ("SET enable_hashjoin = off; SET enable_mergejoin = off; SET enable_memoize = off;",
                   "SELECT o.id, a.name FROM orders o JOIN accounts a ON a.id = o.customer_id "
                   "WHERE o.created_at < '2024-01-10'", False),
    "jit": ("SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = 0; SET jit_optimize_above_cost = 0;",
            "SELECT plan, count(*), sum(id) FROM accounts GROUP BY plan", False),
    "workers_short": ("SET max_parallel_workers_per_gather = 4; SET max_parallel_workers = 1; "
                      "SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;",
                      "SELECT kind, count(*) FROM events WHERE payload LIKE '%ff%' GROUP BY kind", False),
    "parallel_ok": ("SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0;",
                    "SELECT count(*) FROM events WHERE payload LIKE '%abc%'", False),
    # Eleven tables to order: the planner searches long, the executor finds nothing at once.
    "slow_planning": ("", "SELECT a1.name FROM accounts a1 " + " ".join(
        f"JOIN accounts a{i} ON a{i}.id = a{i - 1}.id" for i in range(2, 12)) + " WHERE a1.plan = 'enterprise'",
        False),
    "cte_subplan": ("",
                    "WITH recent AS MATERIALIZED (SELECT account_id, count(*) AS n FROM events "
                    "WHERE created_at > '2024-01-30' GROUP BY account_id) "
                    "SELECT a.name, r.n, (SELECT max(total) FROM orders o WHERE o.customer_id = a.id) "
                    "FROM recent r JOIN accounts a ON a.id = r.account_id WHERE r.n > 10 ORDER BY r.n DESC LIMIT 20",
                    False),
    "pk_lookup": ("", "SELECT * FROM accounts WHERE id = 42", False),
    "expression_index": ("", "SELECT id, plan FROM accounts WHERE lower(name) = 'account 1234'", False),
}
ESTIMATES_ONLY = ("estimates_only", "SELECT o.id, a.name FROM orders o JOIN accounts a ON a.id = o.customer_id "
                                    "WHERE o.status = 'refunded'")
VARIANTS = ("fk_delete", "seq_scan_filter", "hash_spill")


class Recorder:
    def __init__(self, host: str, user: str, db: str) -> None:
        self.host, self.user, self.db = host, user, db

    def psql(self, sql: str, *flags: str, db: str | None = None) -> str:
        cmd = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", self.host, "-U", self.user, "-d", db or self.db,
               *flags]
        done = subprocess.run(cmd, input=sql, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def explain(self, settings: str, statement: str, rollback: bool, options: str, *flags: str) -> str:
        sql = f"{settings}\nEXPLAIN ({options}) {statement};\n"
        if rollback:
            sql = f"BEGIN;\n{sql}ROLLBACK;\n"
        return self.psql(sql, *flags)


def quoted(unaligned_rows: str) -> str:
    """The rows as pgAdmin and DBeaver copy a result column: each value in double quotes, quotes doubled."""
    rows = [r for r in unaligned_rows.splitlines() if r]
    return "\n".join('"' + r.replace('"', '""') + '"' for r in rows) + "\n"


def record_plans(rec: Recorder) -> None:
    PLANS.mkdir(parents=True, exist_ok=True)
    for name, (settings, statement, rollback) in SCENARIOS.items():
        (PLANS / f"{name}.txt").write_text(rec.explain(settings, statement, rollback, "ANALYZE, BUFFERS"))
        (PLANS / f"{name}.json").write_text(
            rec.explain(settings, statement, rollback, "ANALYZE, BUFFERS, FORMAT JSON", "-A", "-t"))
        if name in VARIANTS:
            (PLANS / f"{name}.unaligned.txt").write_text(
                rec.explain(settings, statement, rollback, "ANALYZE, BUFFERS", "-A"))
            (PLANS / f"{name}.aligned-json.txt").write_text(
                rec.explain(settings, statement, rollback, "ANALYZE, BUFFERS, FORMAT JSON"))
            (PLANS / f"{name}.quoted.txt").write_text(
                quoted(rec.explain(settings, statement, rollback, "ANALYZE, BUFFERS", "-A", "-t")))
    name, statement = ESTIMATES_ONLY
    (PLANS / f"{name}.txt").write_text(rec.explain("", statement, False, "COSTS"))
    (PLANS / f"{name}.json").write_text(rec.explain("", statement, False, "FORMAT JSON", "-A", "-t"))
    for fmt in ("YAML", "XML"):
        (PLANS / f"seq_scan_filter.{fmt.lower()}.txt").write_text(
            rec.explain(*SCENARIOS["seq_scan_filter"][:2], False, f"ANALYZE, BUFFERS, FORMAT {fmt}", "-A", "-t"))


# --- query logs ---------------------------------------------------------------------------------------------------

APP_WORKLOAD = """
SET log_min_duration_statement = 0;
SELECT id, name, plan FROM accounts WHERE plan = 'team' ORDER BY id LIMIT 12;
{n_plus_one}
SELECT count(*) FROM events WHERE kind = 'refund';
{repeated}
SET work_mem = '1MB';
SELECT payload, count(*) FROM events GROUP BY payload HAVING count(*) > 1;
"""


def server_log_since(rec: Recorder, offset: int) -> str:
    text = rec.psql(f"SELECT pg_read_file('{SERVER_LOG}', {offset}, 10000000);", "-A", "-t")
    lines = text.splitlines()
    # Keep this database's lines (other sessions may share the server), with their continuation lines.
    kept, keep = [], False
    for line in lines:
        if line[:4].isdigit():
            keep = f"@{rec.db} " in line
        if keep:
            kept.append(line)
    return "\n".join(kept) + "\n"


def log_size(rec: Recorder) -> int:
    return int(rec.psql(f"SELECT (pg_stat_file('{SERVER_LOG}')).size;", "-A", "-t").strip())


def record_server_logs(rec: Recorder) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    # psql's simple protocol: `duration: … statement: …` lines, one N+1 loop over the accounts.
    loop = "\n".join(f"SELECT id, kind, created_at FROM events WHERE account_id = {a} ORDER BY created_at DESC LIMIT 5;"
                     for a in range(1 + 204, 205 + 3 * 12, 3))
    start = log_size(rec)
    repeated = "SELECT id, name, plan FROM accounts WHERE id = 42;\n" * 6  # the same lookup from six helpers
    rec.psql(APP_WORKLOAD.format(n_plus_one=loop, repeated=repeated))
    (LOGS / "server_simple.log").write_text(server_log_since(rec, start))
    # A loop that touches two relations per row interleaves two N+1 groups (events, orders, events, orders, ...).
    start = log_size(rec)
    pairs = "\n".join(f"SELECT kind FROM events WHERE account_id = {a} LIMIT 3;\n"
                      f"SELECT total FROM orders WHERE customer_id = {a % 50 + 1} LIMIT 3;" for a in range(205, 217))
    rec.psql(f"SET log_min_duration_statement = 0;\nBEGIN;\nSELECT id FROM accounts WHERE plan = 'pro' LIMIT 12;\n"
             f"{pairs}\nCOMMIT;\n")
    (LOGS / "server_interleaved.log").write_text(server_log_since(rec, start))
    # log_statement = 'all' without durations; then a clean version, one query with a join.
    start = log_size(rec)
    rec.psql("SET log_statement = 'all';\nSELECT a.id, a.name, count(e.id) FROM accounts a "
             "LEFT JOIN events e ON e.account_id = a.id WHERE a.plan = 'team' AND a.id < 240 GROUP BY a.id;\n"
             "SELECT id FROM accounts WHERE id = ANY('{205,208,211}'::int[]);\n")
    (LOGS / "server_statement_clean.log").write_text(server_log_since(rec, start))


def record_orm_logs(rec: Recorder, python: str) -> None:
    env = dict(os.environ, PGHOST=rec.host, PGUSER=rec.user, PGDATABASE=rec.db)
    for script, outputs in ((DJANGO_APP, ("django_n_plus_one", "django_prefetch")),
                            (SQLALCHEMY_APP, ("sqlalchemy_n_plus_one", "sqlalchemy_selectin"))):
        for variant, name in zip(("n_plus_one", "prefetch"), outputs, strict=True):
            start = log_size(rec)
            done = subprocess.run([python, "-c", script, variant], capture_output=True, text=True, env=env,
                                  check=False)
            if done.returncode:
                raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
            (LOGS / f"{name}.log").write_text(done.stderr + done.stdout)
            if name == "sqlalchemy_n_plus_one":  # the same requests as the server saw them (extended protocol)
                (LOGS / "server_extended.log").write_text(server_log_since(rec, start))


DJANGO_APP = textwrap.dedent("""
    import os, sys, tempfile
    from pathlib import Path
    app = Path(tempfile.mkdtemp()) / "shop"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text('''
    from django.db import models
    class Account(models.Model):
        name = models.TextField()
        plan = models.TextField()
        class Meta:
            db_table = "accounts"
            managed = False
    class Event(models.Model):
        account = models.ForeignKey(Account, on_delete=models.DO_NOTHING, related_name="events")
        kind = models.TextField()
        created_at = models.DateTimeField()
        payload = models.TextField()
        class Meta:
            db_table = "events"
            managed = False
    ''')
    sys.path.insert(0, str(app.parent))
    import django
    from django.conf import settings
    settings.configure(DEBUG=True, INSTALLED_APPS=["shop"], USE_TZ=True, DATABASES={"default": {
        "ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PGDATABASE"], "USER": os.environ["PGUSER"],
        "HOST": os.environ["PGHOST"], "OPTIONS": {"options": "-c log_min_duration_statement=0"}}},
        LOGGING={"version": 1, "handlers": {"err": {"class": "logging.StreamHandler"}},
                 "loggers": {"django.db.backends": {"level": "DEBUG", "handlers": ["err"]}}})
    django.setup()
    from shop.models import Account
    accounts = Account.objects.filter(plan="team", id__gte=205).order_by("id")[:12]
    if sys.argv[1] == "prefetch":
        for account in accounts.prefetch_related("events"):
            len(account.events.all())
    else:
        for account in accounts:
            [e.kind for e in account.events.order_by("-created_at")[:5]]
""")

SQLALCHEMY_APP = textwrap.dedent("""
    import os, sys
    from sqlalchemy import ForeignKey, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload
    class Base(DeclarativeBase): pass
    class Account(Base):
        __tablename__ = "accounts"
        id: Mapped[int] = mapped_column(primary_key=True); name: Mapped[str]; plan: Mapped[str]
        events: Mapped[list["Event"]] = relationship(back_populates="account")
    class Event(Base):
        __tablename__ = "events"
        id: Mapped[int] = mapped_column(primary_key=True)
        account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id")); kind: Mapped[str]
        account: Mapped[Account] = relationship(back_populates="events")
    url = f"postgresql+psycopg://{os.environ['PGUSER']}@{os.environ['PGHOST']}/{os.environ['PGDATABASE']}"
    engine = create_engine(url, echo=True, connect_args={"options": "-c log_min_duration_statement=0"})
    with Session(engine) as session:
        query = select(Account).where(Account.plan == "pro", Account.id >= 205).order_by(Account.id).limit(10)
        if sys.argv[1] == "prefetch":
            query = query.options(selectinload(Account.events))
        for account in session.scalars(query):
            len(account.events)
""")


RAILS_APP = """
require "active_record"
require "logger"
ActiveRecord::Base.establish_connection(adapter: "postgresql", host: ENV["PGHOST"], username: ENV["PGUSER"],
                                        database: ENV["PGDATABASE"])
ActiveRecord::Base.logger = Logger.new($stdout)
class Account < ActiveRecord::Base; has_many :events; end
class Event < ActiveRecord::Base; belongs_to :account; end
accounts = Account.where(plan: "free").where("id >= 205").order(:id).limit(10)
accounts = accounts.includes(:events) if ARGV[0] == "prefetch"
accounts.each { |account| account.events.to_a.size }
"""


def record_rails_logs(rec: Recorder) -> None:
    """ActiveRecord from Debian's ruby-activerecord and ruby-pg packages (apt-get install ruby-activerecord ruby-pg)."""
    env = dict(os.environ, PGHOST=rec.host, PGUSER=rec.user, PGDATABASE=rec.db)
    for variant, name in (("n_plus_one", "rails_n_plus_one"), ("prefetch", "rails_includes")):
        done = subprocess.run(["ruby", "-e", RAILS_APP, variant], capture_output=True, text=True, env=env, check=False)
        if done.returncode:
            raise SystemExit(f"{name} failed: {done.stderr[-2000:]}")
        (LOGS / f"{name}.log").write_text(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("--orm-python", default="/tmp/scratch-orm/bin/python",
                        help="a Python with django, sqlalchemy and psycopg installed (outside the repository)")
    args = parser.parse_args()
    db = f"t_evidence_{secrets.token_hex(4)}"
    subprocess.run(["createdb", "-h", args.host, "-U", args.user, db], check=True)
    rec = Recorder(args.host, args.user, db)
    try:
        rec.psql(DATASET)
        record_plans(rec)
        record_server_logs(rec)
        if Path(args.orm_python).exists():
            record_orm_logs(rec, args.orm_python)
        else:
            print(f"skipping the ORM logs: {args.orm_python} does not exist", file=sys.stderr)
        if shutil.which("ruby"):
            record_rails_logs(rec)
        else:
            print("skipping the Rails logs: no ruby (apt-get install ruby-activerecord ruby-pg)", file=sys.stderr)
    finally:
        subprocess.run(["dropdb", "-h", args.host, "-U", args.user, "--if-exists", db], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
