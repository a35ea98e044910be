"""The conversation engine: handle(inbound) -> reply, the same for every surface."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import metrics
from bot.analyzers import Analysis, AnalyzerRegistry
from bot.budgets import Budgets, Refusal, TokenTally
from bot.consult.classify import classify
from bot.consult.compose import compose_offline
from bot.consult.facts import extract_facts, merge_facts
from bot.consult.followup import findings_markdown, latest_findings, relevant_findings
from bot.help import HELP, REVIEW_UNAVAILABLE, REVIEW_USAGE
from bot.consult.history import TokenCounter, trim_history
from bot.knowledge.port import Note, Retriever, ScoredNote
from bot.limits import screen
from bot.llm.port import LLM, LLMError
from bot.messages import Inbound, Reply, Source
from bot.consult.prompt import build_messages
from bot.consult.questions import choose_questions
from bot.redact import redact
from bot.store.port import Store, Turn
from bot.store.sql import new_id

log = logging.getLogger("bot.consult.engine")

TokenSink = Callable[[str], Awaitable[None]]
REVIEW_COMMAND = "schema-review"
FORGET_COMMAND = "forget"
MAX_REVIEW_CHARS = 5_000_000
TOPIC_BOOST = 1.5
_DIALECT_FLAG = re.compile(r"^\s*--dialect[ =](postgres|postgresql|mysql|sqlite)\b\s*", re.I)


@dataclass(frozen=True)
class EngineSettings:
    max_input_chars: int = 40_000
    history_token_budget: int = 6_000
    max_notes: int = 3


class _Clock:
    """Accumulates wall time per phase of a turn for the structured log record."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.phases: dict[str, float] = {"retrieval": 0.0, "llm": 0.0, "storage": 0.0}

    async def timed(self, phase: str, awaitable):  # noqa: ANN001, ANN201
        began = time.perf_counter()
        try:
            return await awaitable
        finally:
            self.phases[phase] += time.perf_counter() - began

    def report(self) -> dict[str, float]:
        out = {f"{k}_ms": round(v * 1000, 2) for k, v in self.phases.items()}
        out["total_ms"] = round((time.perf_counter() - self.start) * 1000, 2)
        return out


class Engine:
    def __init__(self, *, store: Store, retriever: Retriever, llm: LLM | None = None,
                 analyzers: AnalyzerRegistry | None = None, settings: EngineSettings | None = None,
                 token_counter: TokenCounter | None = None, budgets: Budgets | None = None) -> None:
        self.store = store
        self.retriever = retriever
        self.llm = llm
        self.analyzers = analyzers or AnalyzerRegistry()
        self.settings = settings or EngineSettings()
        self.tokens = token_counter or TokenCounter()
        self.budgets = budgets

    async def handle(self, inbound: Inbound, on_token: TokenSink | None = None) -> Reply:
        clock = _Clock()
        turn_id = new_id()
        is_review = inbound.kind == "command" and (inbound.command or "").lower() == REVIEW_COMMAND
        raw = (inbound.args or "") if inbound.kind == "command" else inbound.text
        if inbound.kind == "command" and (inbound.command or "").lower() == FORGET_COMMAND:
            return await self._forget(inbound)
        if inbound.kind == "command" and not is_review:
            return self._command_reply(inbound)
        if is_review and self.analyzers.get(REVIEW_COMMAND) is None:
            return Reply(text=REVIEW_UNAVAILABLE)
        if is_review and not raw.strip():
            return Reply(text=REVIEW_USAGE)
        if problem := screen(raw, MAX_REVIEW_CHARS if is_review else self.settings.max_input_chars):
            log.info("turn rejected", extra={"turn_id": turn_id, "platform": inbound.platform,
                                             "tenant": inbound.tenant, "reason": problem.split(";")[0][:60]})
            metrics.turn_finished(inbound.platform, "offline", "rejected")
            return Reply(text=problem)

        refusal = await clock.timed("storage", self.budgets.admit(inbound)) if self.budgets else None
        if refusal:
            metrics.budget_refused(refusal.budget)

        text = redact(raw)
        thread_id = await clock.timed("storage", self.store.thread_id(inbound.thread_key))
        stored_text = f"/{REVIEW_COMMAND} {text}" if is_review else text
        # Storing the message (before anything can fail) and reading the thread are independent round trips.
        earlier, known, user_turn = await clock.timed("storage", asyncio.gather(
            self.store.turns(thread_id), self.store.facts(thread_id),
            self.store.add_turn(thread_id, "user", stored_text, {"kind": inbound.kind})))
        earlier = [t for t in earlier if t.id != user_turn]
        facts = merge_facts(known, extract_facts(text))
        if facts != known:
            await clock.timed("storage", self.store.save_facts(thread_id, facts))

        analysis = self._analyze(text, forced=is_review)
        if analysis:
            # The findings ride along in the turn's meta, so later follow-ups can be matched against them.
            await clock.timed("storage", self.store.add_turn(
                thread_id, "context", f"Analysis by {analysis.analyzer}:\n{analysis.report}",
                {"analyzer": analysis.analyzer, "findings": analysis.findings[:100]}))
        asked_about = [] if analysis else relevant_findings(text, latest_findings(earlier))

        began = time.perf_counter()
        query = self._retrieval_query(text, earlier, analysis)
        results = self._stay_on_topic(self.retriever.search(query, k=5), earlier)
        notes = self._pick_notes(results, analysis, [f["note"] for f in asked_about if f.get("note")])
        problem_type = analysis.problem_type if analysis else classify(text, results)
        clock.phases["retrieval"] += time.perf_counter() - began

        asked = {q for t in earlier if t.role == "assistant" for q in t.meta.get("questions", [])}
        questions = choose_questions(notes, facts, asked)

        answer, mode = await self._answer(inbound, text, earlier, notes, facts, problem_type, analysis,
                                          questions, on_token, clock, refusal)
        if asked_about and mode == "offline":
            answer = answer.replace("\n\n", "\n\n" + findings_markdown(asked_about) + "\n\n", 1)
        reply = Reply(
            text=answer, problem_type=problem_type, questions=questions,
            sources=[Source(n.id, n.title) for n in notes],
            findings=list(analysis.findings) if analysis else [], mode=mode,
            summary=analysis.summary if analysis else None,
        )
        stored_answer = answer + ("\n\nQuestions:\n" + "\n".join(f"- {q}" for q in questions) if questions else "")
        reply.answer_id = await clock.timed("storage", self.store.add_turn(thread_id, "assistant", stored_answer, {
            "mode": mode, "problem_type": problem_type, "questions": questions,
            "sources": [n.id for n in notes], "findings": len(reply.findings), "turn_id": turn_id}))
        log.info("turn", extra={"turn_id": turn_id, "platform": inbound.platform, "tenant": inbound.tenant,
                                "thread_id": thread_id, "mode": mode, "problem_type": problem_type,
                                "notes": [n.id for n in notes], "analyzer": analysis.analyzer if analysis else None,
                                **clock.report()})
        outcome = "budget_refused" if refusal else "fallback" if mode == "offline" and self.llm else "answered"
        metrics.turn_finished(inbound.platform, mode, outcome, clock.phases, clock.start)
        return reply

    async def _forget(self, inbound: Inbound) -> Reply:
        deleted = await self.store.forget_thread(inbound.thread_key)
        log.info("thread forgotten", extra={"platform": inbound.platform, "tenant": inbound.tenant, "turns": deleted})
        metrics.turn_finished(inbound.platform, "offline", "forgotten")
        if not deleted:
            return Reply(text="There was nothing stored for this thread, so there is nothing to forget.")
        return Reply(text=f"Done: I deleted this thread's {deleted} stored messages, its case facts and any "
                          "feedback on my answers. I no longer remember this conversation.")

    def _command_reply(self, inbound: Inbound) -> Reply:
        # "new" is handled by adapters (it changes the thread key); anything else gets the help text.
        return Reply(text=HELP)

    def _analyze(self, text: str, *, forced: bool) -> Analysis | None:
        options: dict[str, str] = {}
        if forced:
            if match := _DIALECT_FLAG.match(text):
                options["dialect"] = match.group(1).lower().replace("postgresql", "postgres")
                text = text[match.end():]
            analyzer = self.analyzers.get(REVIEW_COMMAND)
        else:
            analyzer = self.analyzers.route(text)
        return analyzer.analyze(text, options) if analyzer else None

    def _retrieval_query(self, text: str, earlier: list[Turn], analysis: Analysis | None) -> str:
        query = text
        # A short follow-up ("why is that bad?") carries little signal alone; the thread's opening question does.
        if len(text.split()) < 8 and earlier:
            opening = next((t.text for t in earlier if t.role == "user"), "")
            query = f"{text} {opening[:500]}"
        return query

    @staticmethod
    def _stay_on_topic(results: list[ScoredNote], earlier: list[Turn]) -> list[ScoredNote]:
        """A follow-up usually continues the thread's topic: notes the last answer cited rank a little higher."""
        cited = next((t.meta.get("sources", []) for t in reversed(earlier) if t.role == "assistant"), [])
        if not cited:
            return results
        boosted = [ScoredNote(r.note, r.score * TOPIC_BOOST) if r.note.id in cited else r for r in results]
        return sorted(boosted, key=lambda r: -r.score)

    def _pick_notes(self, results, analysis: Analysis | None,  # noqa: ANN001
                    finding_notes: list[str]) -> list[Note]:
        picked: list[Note] = []
        for note_id in ((analysis.notes if analysis else []) + finding_notes)[:2]:
            if (note := self.retriever.get(note_id)) and note not in picked:
                picked.append(note)
        if results:
            best = results[0].score
            for scored in results:
                if len(picked) >= self.settings.max_notes:
                    break
                if scored.score >= 0.4 * best and scored.note not in picked:
                    picked.append(scored.note)
        return picked

    async def _answer(self, inbound: Inbound, text: str, earlier: list[Turn], notes: list[Note],
                      facts: dict[str, str], problem_type: str, analysis: Analysis | None,
                      questions: list[str], on_token: TokenSink | None, clock: _Clock,
                      refusal: Refusal | None = None) -> tuple[str, str]:
        if refusal is not None:
            offline = compose_offline(notes, problem_type, facts, analysis=analysis)
            return f"{refusal.message}\n\n{offline}", "offline"
        if self.llm is None:
            return compose_offline(notes, problem_type, facts, analysis=analysis), "offline"
        history = trim_history(earlier, self.settings.history_token_budget, self.tokens)
        messages = build_messages(notes=notes, facts=facts, history=history, message=text,
                                  problem_type=problem_type, analysis=analysis, questions=questions)
        began = time.perf_counter()
        tally = TokenTally()
        try:
            if on_token is None:
                answer = await self.llm.complete(messages, on_usage=tally.add)
            else:
                pieces: list[str] = []
                async for piece in self.llm.stream(messages, on_usage=tally.add):
                    pieces.append(piece)
                    await on_token(piece)
                answer = "".join(pieces)
            if not answer.strip():
                raise LLMError("LLM returned an empty answer")
            return answer, "llm"
        except LLMError as exc:
            metrics.llm_failed()
            log.warning("llm failed, answering offline", extra={"platform": inbound.platform, "error": str(exc)})
            return compose_offline(notes, problem_type, facts, analysis=analysis, llm_failed=True), "offline"
        finally:
            clock.phases["llm"] += time.perf_counter() - began
            if self.budgets and tally.total:
                await clock.timed("storage", self.budgets.record_tokens(inbound, tally.total))
