"""The `consultant` command end to end, through subprocesses, then the database rows."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.openai_server import FakeOpenAIServer, Scripted

CLI = [sys.executable, "-m", "adapters.cli"]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def env(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATABASE_URL", "CONSULTANT_",
                                                                      "KNOWLEDGE_DIR", "LOG_"))}
    clean.update(CONSULTANT_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(ROOT))
    return clean


async def run(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 60):
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, env=env, cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), timeout)
    return proc.returncode, out.decode(), err.decode()


def rows(env: dict[str, str], sql: str) -> list[tuple]:
    with sqlite3.connect(Path(env["CONSULTANT_DATA_DIR"]) / "consultant.sqlite3") as conn:
        return conn.execute(sql).fetchall()


async def test_version_and_help_are_fast(env):
    started = time.monotonic()
    code, out, _ = await run(["--version"], env)
    assert code == 0 and out.startswith("consultant ")
    code, out, _ = await run(["--help"], env)
    assert code == 0 and "ask" in out and "chat" in out
    assert time.monotonic() - started < 5


async def test_ask_json_shape_and_stored_rows(env):
    code, out, err = await run(["ask", "--json", "our orders API got slow after we added line items"], env)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    reply = json.loads(lines[0])
    assert list(reply) == ["thread", "text", "mode", "problem_type", "questions", "sources", "findings"]
    assert reply["mode"] == "offline" and reply["problem_type"] in ("design", "performance", "correctness", "unknown")
    assert len(reply["questions"]) >= 2 and len(reply["sources"]) >= 1
    assert all(set(s) == {"id", "title"} for s in reply["sources"]) and reply["findings"] == []
    stored = rows(env, "SELECT m.role, t.thread FROM messages m JOIN threads t ON t.id = m.thread_id")
    assert stored == [("user", reply["thread"]), ("assistant", reply["thread"])]


async def test_ask_reads_stdin_with_dash(env):
    code, out, _ = await run(["ask", "--json", "-"], env, stdin="two workers charged the same card twice")
    assert code == 0 and json.loads(out)["problem_type"] == "correctness"


async def test_llm_mode_carries_persona_notes_and_only_this_threads_turns(env):
    async with FakeOpenAIServer(Scripted(text="Model answer.")) as server:
        env.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=server.base_url, OPENAI_MODEL="gpt-test")
        secret = "postgres://app:s3cr3t-pass@db.internal/prod"
        assert (await run(["ask", "--thread", "A", "orders endpoint slow with line items"], env))[0] == 0
        assert (await run(["ask", "--thread", "B", "unrelated topic about GraphQL resolvers"], env))[0] == 0
        code, out, _ = await run(["ask", "--thread", "A", "--json", f"does it matter that we connect with {secret}?"],
                                 env)
    assert code == 0 and json.loads(out)["mode"] == "llm" and json.loads(out)["text"] == "Model answer."
    request = server.requests[-1]
    sent = server.all_text()
    assert request["model"] == "gpt-test"
    assert request["messages"][0]["role"] == "system" and "senior backend engineer" in request["messages"][0]["content"]
    assert "## Reference notes" in request["messages"][0]["content"]
    assert "orders endpoint slow with line items" in sent and "Model answer." in sent
    assert "GraphQL resolvers" not in sent
    assert "s3cr3t-pass" not in sent and "[REDACTED]" in sent
    stored = " ".join(r[0] for r in rows(env, "SELECT text FROM messages"))
    assert "s3cr3t-pass" not in stored and "[REDACTED]" in stored


async def test_llm_failing_forever_still_answers_offline(env):
    async with FakeOpenAIServer(Scripted(status=500)) as server:
        env.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=server.base_url, CONSULTANT_LLM_DEADLINE="2")
        started = time.monotonic()
        code, out, _ = await run(["ask", "--json", "orders list slow, n+1?"], env)
    assert code == 0 and json.loads(out)["mode"] == "offline"
    assert time.monotonic() - started < 30 and len(server.requests) >= 2


async def test_usage_error_exits_2(env):
    code, _, err = await run(["ask"], env)
    assert code == 2 and "usage" in err


async def test_bad_config_exits_1_with_one_line(env):
    env["OPENAI_TIMEOUT"] = "soon"
    code, _, err = await run(["ask", "hello"], env)
    assert code == 1 and err.strip().count("\n") == 0 and "OPENAI_TIMEOUT" in err and "Traceback" not in err


async def test_unreachable_database_exits_1_with_one_line(env):
    env["DATABASE_URL"] = "postgresql+asyncpg://nobody:pw@127.0.0.1:1/none"
    code, _, err = await run(["db", "upgrade"], env)
    assert code == 1 and err.strip().count("\n") == 0 and "Traceback" not in err and "pw@" not in err


@pytest.mark.parametrize("args", [["ask", "hello"], ["db", "upgrade"], ["db", "purge"], ["serve"]])
async def test_a_data_dir_that_cannot_hold_the_database_exits_1_with_one_line(env, tmp_path, args):
    (tmp_path / "a-file").write_text("not a folder")
    env["CONSULTANT_DATA_DIR"] = str(tmp_path / "a-file" / "data")
    code, _, err = await run(args, env)
    assert code == 1 and err.strip().count("\n") == 0 and "Traceback" not in err, err[-600:]
    assert "database unreachable" in err and "Not a directory" in err


async def test_a_database_file_that_is_not_sqlite_exits_1_with_one_line(env):
    Path(env["CONSULTANT_DATA_DIR"]).mkdir(parents=True)
    (Path(env["CONSULTANT_DATA_DIR"]) / "consultant.sqlite3").write_text("garbage " * 100)
    code, _, err = await run(["ask", "hello"], env)
    assert code == 1 and err.strip().count("\n") == 0 and "file is not a database" in err, err[-600:]


async def test_db_upgrade_creates_the_tables(env):
    from bot.store.migrate import head

    code, out, _ = await run(["db", "upgrade"], env)
    assert code == 0 and f"database upgraded to revision {head()}" in out
    names = {r[0] for r in rows(env, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"threads", "messages", "case_facts", "processed_events", "feedback", "usage_counters",
            "alembic_version"} <= names


async def test_chat_with_piped_stdin(env):
    script = "/help\nour orders API got slow after we added line items\n/new\n/quit\n"
    code, out, err = await run(["chat"], env, stdin=script)
    assert code == 0, err
    assert "schema-review" in out and "To narrow it down" in out and "New consultation" in out
    threads = rows(env, "SELECT count(*) FROM threads")[0][0]
    assert threads == 1  # /new made no turns yet, so no second thread row


async def test_each_turn_logs_one_structured_record_without_the_text(env):
    env.update(LOG_FORMAT="json", LOG_LEVEL="INFO")
    question = "zebra-marker orders list slow with line items"
    code, _, err = await run(["ask", question], env)
    assert code == 0
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    turns = [r for r in records if r["event"] == "turn"]
    assert len(turns) == 1
    turn = turns[0]
    assert turn["platform"] == "console" and turn["tenant"] == "local" and turn["mode"] == "offline"
    assert turn["turn_id"] and turn["thread_id"] and isinstance(turn["notes"], list) and turn["notes"]
    assert all(isinstance(turn[k], float | int) for k in ("retrieval_ms", "llm_ms", "storage_ms", "total_ms"))
    assert "zebra-marker" not in err


async def test_binary_stdin_gets_a_clear_reply(env):
    proc = await asyncio.create_subprocess_exec(*CLI, "ask", "--json", "-", env=env, cwd=ROOT,
                                                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate(bytes(range(256)) * 8)
    assert proc.returncode == 0 and "binary" in json.loads(out)["text"]


async def test_interactive_chat_streams_llm_answers_on_a_terminal(env):
    import pty

    async with FakeOpenAIServer(Scripted(text="## Diagnosis\nAn **N+1** in the serializer.", chunk_delay=0.02)) as server:
        env.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=server.base_url, COLUMNS="100", TERM="xterm")
        main, child = pty.openpty()
        proc = await asyncio.create_subprocess_exec(*CLI, "chat", env=env, cwd=ROOT, stdin=child, stdout=child,
                                                    stderr=child)
        os.close(child)
        os.write(main, b"orders API slow after adding line items\n/quit\n")

        def read_until_closed() -> bytes:
            chunks = []
            while True:
                try:
                    chunk = os.read(main, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks)

        output = await asyncio.wait_for(asyncio.to_thread(read_until_closed), 60)
        await asyncio.wait_for(proc.wait(), 30)
        os.close(main)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode(errors="replace"))  # drop terminal escapes
    assert proc.returncode == 0
    assert "LLM mode" in text and "Diagnosis" in text and "N+1" in text
    assert "## Diagnosis" not in text  # rendered as Markdown, not echoed raw
    assert "To narrow it down" in text and server.requests[0]["stream"] is True


async def test_the_input_limit_is_configurable(env):
    env["CONSULTANT_MAX_INPUT_CHARS"] = "200"
    code, out, _ = await run(["ask", "--json", "slow query " * 30], env)
    assert code == 0 and "the limit is 200" in json.loads(out)["text"]


async def test_kill_9_during_an_ask_leaves_a_database_the_next_ask_uses(env):
    """The console store under the way processes really die: SIGKILL while the LLM is answering."""
    async with FakeOpenAIServer(Scripted(text="never delivered", delay=60)) as server:
        llm_env = dict(env, OPENAI_API_KEY="test-key", OPENAI_BASE_URL=server.base_url)
        proc = await asyncio.create_subprocess_exec(
            *CLI, "ask", "--thread", "K", "orders list slow on postgres 15", env=llm_env, cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert server.requests, "the ask never reached the LLM"
        proc.kill()
        await proc.wait()

    code, out, err = await run(["ask", "--thread", "K", "--json", "it is a seq scan on 2 million rows"], env)
    assert code == 0, err
    assert rows(env, "PRAGMA integrity_check") == [("ok",)]
    stored = rows(env, "SELECT m.role, m.text FROM messages m JOIN threads t ON t.id = m.thread_id "
                       "WHERE t.thread = 'K' ORDER BY m.created_at, m.id")
    # The killed turn's question stays in the thread (it was stored before the LLM was called), so the next
    # answer still knows the database it named.
    assert stored[0] == ("user", "orders list slow on postgres 15")
    assert [role for role, _ in stored[-2:]] == ["user", "assistant"] and stored[-2][1].startswith("it is a seq scan")
    assert "PostgreSQL 15" in json.loads(out)["text"]
    assert not any("never delivered" in text for _, text in stored)
