"""Concurrent first starts never fail: migrations (and the first run's setup) run under a lock.

Before the lock, 4 `consultant ask` on a fresh data dir failed in 10 of 36 trials ("table threads already exists")
and 4 `consultant db upgrade` on a fresh PostgreSQL in 6 of 8 (a pg_type unique violation)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.ops.processes import CONSULTANT, base_env, fresh_postgres

pytestmark = pytest.mark.skipif(not Path(CONSULTANT).exists(), reason="the consultant entry point is not installed")
TRIALS = 2  # tests/test_store_inbox.py repeats the SQLite race in-process, cheaply


async def run_together(args: list[str], env: dict[str, str], n: int = 4) -> list[tuple[int, str]]:
    procs = [await asyncio.create_subprocess_exec(CONSULTANT, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                  stderr=asyncio.subprocess.STDOUT) for _ in range(n)]
    outputs = await asyncio.gather(*[p.communicate() for p in procs])
    return [(p.returncode, out.decode(errors="replace")) for p, (out, _) in zip(procs, outputs)]


async def test_four_first_asks_on_a_fresh_data_dir_all_succeed(tmp_path):
    for trial in range(1):
        env = base_env(CONSULTANT_DATA_DIR=str(tmp_path / f"trial{trial}"))
        results = await run_together(["ask", "--json", "our orders API got slow"], env)
        assert [code for code, _ in results] == [0, 0, 0, 0], results


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL tests need CONSULTANT_TEST_DATABASE_URL (set by .ci/run)")
async def test_four_db_upgrades_on_a_fresh_postgres_all_succeed(tmp_path):
    for _ in range(TRIALS):
        async with fresh_postgres(PG_URL) as url:
            results = await run_together(["db", "upgrade"], base_env(DATABASE_URL=url))
            assert [code for code, _ in results] == [0, 0, 0, 0], results
            assert all("database upgraded to revision" in out for _, out in results)


async def test_serve_refuses_a_database_it_cannot_migrate_and_says_why(tmp_path):
    env = base_env(CONSULTANT_DATA_DIR=str(tmp_path), DATABASE_URL="postgresql+asyncpg://nobody:pw@127.0.0.1:1/none",
                   PORT="0")
    [(code, out)] = await run_together(["serve", "--host", "127.0.0.1"], env, n=1)
    assert code == 1 and "cannot migrate the database" in out
    assert "Traceback" not in out and "pw@" not in out and "serving" not in out
