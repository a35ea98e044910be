"""`/forget` in the console deletes the current thread's stored data and confirms."""

from __future__ import annotations

from tests.test_cli import env, rows, run  # noqa: F401 - env is a fixture


async def test_forget_in_chat_deletes_the_thread(env):  # noqa: F811
    script = "our orders API got slow after we added line items\n/forget\n/quit\n"
    code, out, err = await run(["chat"], env, stdin=script)
    assert code == 0, err
    assert "deleted this thread's 2 stored messages" in out
    assert rows(env, "SELECT count(*) FROM messages")[0][0] == 0
    assert rows(env, "SELECT count(*) FROM case_facts")[0][0] == 0
