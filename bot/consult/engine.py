"""The conversation engine: handle(inbound) -> reply, the same for every surface.

A turn is the consultant's method over one Case value:
    open      screen and redact the message, store it, read the thread
    read      route pasted evidence (DDL, plans, logs) to its analyzer
    understand  build the case from the whole thread (facts, symptoms, evidence, the team's nouns)
    diagnose  lead with the note that explains the reported symptom
    ask       2-4 questions that do not re-ask what the case knows
    teach     the answer: from the LLM, or composed offline from the notes
CPU-heavy steps (masking big text, analyzers, retrieval) run in a worker thread, so the event loop (acks, health
checks) never waits on them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot import metrics
from bot.analyzers import Analysis, Analyzer, AnalyzerRegistry, condensed_report
from bot.budgets import Budgets, Refusal, TokenTally
from bot.consult.case import Case, analysis_case_meta, build_case
from bot.consult.compose import compose_offline
from bot.consult.diagnose import Diagnosis, design_focus, diagnose
from bot.consult.followup import findings_markdown, latest_findings, relevant_findings
from bot.consult.history import TokenCounter
from bot.consult.prompt import PromptParts, QuestionFilter, build_messages, split_questions
from bot.consult.questions import choose_questions
from bot.consult.understand import describe_case
from bot.help import HELP, REVIEW_UNAVAILABLE, REVIEW_USAGE
from bot.knowledge.port import Retriever, ScoredNote
from bot.limits import screen, screen_review
from bot.llm.port import LLM, LLMError
from bot.messages import Inbound, Reply, Source
from bot.redact import redact
from bot.store.port import Store, Turn, new_id

log = logging.getLogger("bot.consult.engine")

TokenSink = Callable[[str], Awaitable[None]]
REVIEW_COMMAND = "schema-review"
FORGET_COMMAND = "forget"
TOPIC_BOOST = 1.5
OFF_LOOP_CHARS = 4_000  # texts longer than this are masked and searched in a worker thread
PROSE_HEAD, PROSE_TAIL = 16_000, 4_000  # what the conversation steps read of a long paste (analyzers read it all)
CONTEXT_FINDINGS = 100  # findings kept in the thread's context turn
_DIALECT_FLAG = re.compile(r"^\s*--dialect[ =](postgres|postgresql|mysql|sqlite)\b\s*", re.I)
COMMAND_SPELLING = {"teams": "schema-review"}  # how each surface spells the review command; "/schema-review" elsewhere


@dataclass(frozen=True)
class EngineSettings:
    max_input_chars: int = 40_000
    max_review_bytes: int = 512 * 1024
    history_token_budget: int = 6_000
    prompt_token_budget: int = 12_000


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


@dataclass
class Consultation:
    """One turn's working state: what the steps of the method read and produce."""

    inbound: Inbound
    text: str
    thread_id: str
    earlier: list[Turn]
    clock: _Clock
    turn_id: str
    case: Case = field(default_factory=Case)
    analysis: Analysis | None = None
    asked_about: list[dict] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    questions: list[str] = field(default_factory=list)
    asks: list[str] = field(default_factory=list)
    stored_facts: dict[str, str] = field(default_factory=dict)
    refusal: Refusal | None = None  # a budget is exhausted: answer offline, with the reason

    @property
    def prose(self) -> str:
        """The message as the conversation reads it: a long paste's start and end (the analyzer reads all of it)."""
        text = self.text
        if len(text) <= PROSE_HEAD + PROSE_TAIL:
            return text
        return text[:PROSE_HEAD] + "\n[…]\n" + text[-PROSE_TAIL:]

    @property
    def given(self) -> set[str]:
        return {key for t in self.earlier if t.role == "assistant" for key in t.meta.get("given", [])}


async def _maybe_off_loop(fn, text: str, *args):  # noqa: ANN001, ANN202
    """Run fn(text, *args) in a worker thread when the text is big enough to stall the loop."""
    if len(text) > OFF_LOOP_CHARS:
        return await asyncio.to_thread(fn, text, *args)
    return fn(text, *args)


class Engine:
    def __init__(self, *, store: Store, retriever: Retriever, llm: LLM | None = None,
                 analyzers: AnalyzerRegistry | None = None, settings: EngineSettings | None = None,
                 token_counter: TokenCounter | None = None, budgets: Budgets | None = None) -> None:
        self.store = store
        self.budgets = budgets
        self.retriever = retriever
        self.llm = llm
        self.analyzers = analyzers or AnalyzerRegistry()
        self.settings = settings or EngineSettings()
        self.tokens = token_counter or TokenCounter()

    async def handle(self, inbound: Inbound, on_token: TokenSink | None = None) -> Reply:
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
        long_evidence = None if is_review else await self._long_evidence(raw)
        if is_review or long_evidence:
            # Evidence (a schema, a plan, a log) may be far longer than prose; it has the review's byte cap.
            problem = screen_review(raw, self.settings.max_review_bytes)
        else:
            problem = screen(raw, self.settings.max_input_chars)
        if problem:
            log.info("turn rejected", extra={"platform": inbound.platform, "tenant": inbound.tenant,
                                             "reason": problem.split(";")[0][:60]})
            metrics.turn_finished(inbound.platform, "offline", "rejected")
            return Reply(text=problem)
        clock = _Clock()
        refusal = await clock.timed("storage", self.budgets.admit(inbound)) if self.budgets else None
        if refusal:
            metrics.budget_refused(refusal.budget)
        turn = await self._open(inbound, raw, is_review, clock)
        turn.refusal = refusal
        await self._read(turn, forced=is_review, routed=long_evidence)
        await self._understand(turn)
        await self._diagnose(turn)
        return await self._teach(turn, on_token)

    async def _long_evidence(self, raw: str) -> Analyzer | None:
        """The analyzer that reads a message over the prose limit (a pasted or shared plan, log or schema)."""
        if len(raw) <= self.settings.max_input_chars or len(raw) > self.settings.max_review_bytes:
            return None
        return await asyncio.to_thread(self.analyzers.route, raw)

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

    # ---- open: mask, store, read the thread ------------------------------------------------------------------

    async def _open(self, inbound: Inbound, raw: str, is_review: bool, clock: _Clock) -> Consultation:
        text = await _maybe_off_loop(redact, raw)
        thread_id = await clock.timed("storage", self.store.thread_id(inbound.thread_key))
        stored_text = f"/{REVIEW_COMMAND} {text}" if is_review else text
        meta = {"kind": inbound.kind, **({"event_id": inbound.event_id} if inbound.event_id else {})}
        # Storing the message (before anything can fail) and reading the thread are independent round trips.
        earlier, stored, user_turn = await clock.timed("storage", asyncio.gather(
            self.store.turns(thread_id), self.store.facts(thread_id),
            self.store.add_turn(thread_id, "user", stored_text, meta)))
        earlier = [t for t in earlier if t.id != user_turn]
        return Consultation(inbound, text, thread_id, earlier, clock, new_id(), stored_facts=stored)

    # ---- read: evidence goes to its analyzer -----------------------------------------------------------------

    async def _read(self, turn: Consultation, *, forced: bool, routed: Analyzer | None = None) -> None:
        options = {"command": COMMAND_SPELLING.get(turn.inbound.platform, "/" + REVIEW_COMMAND)}
        text = turn.text
        if forced:
            if match := _DIALECT_FLAG.match(text):
                options["dialect"] = match.group(1).lower().replace("postgresql", "postgres")
                text = text[match.end():]
            analyzer = self.analyzers.get(REVIEW_COMMAND)
        else:
            analyzer = routed or await _maybe_off_loop(self.analyzers.route, text)
        if analyzer is None:
            turn.asked_about = relevant_findings(turn.prose, latest_findings(turn.earlier))
            return
        if analyzer.name != REVIEW_COMMAND and (schema := _reviewed_schema(turn.earlier)):
            options["schema"] = schema  # a plan's fixes can name the columns of the schema reviewed in this thread
        turn.analysis = await asyncio.to_thread(analyzer.analyze, text, options)
        # The findings ride along in the turn's meta, so later follow-ups can be matched against them.
        await turn.clock.timed("storage", self.store.add_turn(
            turn.thread_id, "context",
            f"Analysis by {turn.analysis.analyzer}:\n{condensed_report(turn.analysis, CONTEXT_FINDINGS)}",
            {"analyzer": turn.analysis.analyzer, "findings": turn.analysis.findings[:CONTEXT_FINDINGS],
             "case": analysis_case_meta(turn.analysis)}))

    # ---- understand: the case from the whole thread ----------------------------------------------------------

    async def _understand(self, turn: Consultation) -> None:
        stored = turn.stored_facts
        if len(turn.prose) > OFF_LOOP_CHARS:
            turn.case = await asyncio.to_thread(build_case, turn.earlier, turn.prose, turn.analysis, stored)
        else:
            turn.case = build_case(turn.earlier, turn.prose, turn.analysis, stored)
        rows = turn.case.to_rows()
        changed = {k: v for k, v in rows.items() if stored.get(k) != v}
        if changed:
            await turn.clock.timed("storage", self.store.save_facts(turn.thread_id, changed))

    # ---- diagnose: symptom first ------------------------------------------------------------------------------

    async def _diagnose(self, turn: Consultation) -> None:
        began = time.perf_counter()
        prose = turn.prose
        query = self._retrieval_query(prose, turn.earlier)
        results = self._stay_on_topic(await _maybe_off_loop(self.retriever.search, query, 5), turn.earlier)
        if focus := design_focus(prose):
            # "…is a cache right for us?": what the question is about names the topic better than its context
            focused = self.retriever.search(focus, k=1)
            results = focused + [r for r in results if r.note not in {f.note for f in focused}]
        analysis = turn.analysis
        previous = next((t.meta for t in reversed(turn.earlier) if t.role == "assistant"), {})
        turn.diagnosis = diagnose(
            turn.case, prose, results, self.retriever,
            analysis_notes=analysis.notes[:1] if analysis else None,
            analysis_type=analysis.problem_type if analysis else None,
            finding_notes=[f["note"] for f in turn.asked_about if f.get("note")][:2],
            previous_type=previous.get("problem_type"), previous_lead=(previous.get("sources") or [None])[0])
        turn.clock.phases["retrieval"] += time.perf_counter() - began
        turn.questions, turn.asks = choose_questions(turn.case, turn.diagnosis.causes, turn.diagnosis.related)

    @staticmethod
    def _retrieval_query(text: str, earlier: list[Turn]) -> str:
        # A short follow-up ("why is that bad?") carries little signal alone; the thread's opening question does.
        if len(text.split()) < 8 and earlier:
            opening = next((t.text for t in earlier if t.role == "user"), "")
            return f"{text} {opening[:500]}"
        return text

    @staticmethod
    def _stay_on_topic(results: list[ScoredNote], earlier: list[Turn]) -> list[ScoredNote]:
        """A follow-up usually continues the thread's topic: notes the last answer cited rank a little higher."""
        cited = next((t.meta.get("sources", []) for t in reversed(earlier) if t.role == "assistant"), [])
        if not cited:
            return results
        boosted = [ScoredNote(r.note, r.score * TOPIC_BOOST) if r.note.id in cited else r for r in results]
        return sorted(boosted, key=lambda r: -r.score)

    # ---- teach: the answer, then the turn is stored ----------------------------------------------------------

    async def _teach(self, turn: Consultation, on_token: TokenSink | None) -> Reply:
        diagnosis = turn.diagnosis
        assert diagnosis is not None
        extra = findings_markdown(turn.asked_about) if turn.asked_about else ""
        shown: list[str] = []
        if self.llm is None or turn.refusal is not None:
            answer, shown = compose_offline(turn.case, diagnosis, analysis=turn.analysis, extra=extra,
                                            given=turn.given, notice=turn.refusal.message if turn.refusal else "")
            mode = "offline"
        else:
            answer, mode, shown = await self._llm_answer(turn, on_token, extra)
        reply = Reply(text=answer, problem_type=diagnosis.problem_type, questions=turn.questions,
                      sources=[Source(n.id, n.title) for n in diagnosis.notes],
                      findings=list(turn.analysis.findings) if turn.analysis else [], mode=mode,
                      summary=turn.analysis.summary if turn.analysis else None,
                      analyzer=turn.analysis.analyzer if turn.analysis else None)
        stored = answer + ("\n\nQuestions:\n" + "\n".join(f"- {q}" for q in turn.questions) if turn.questions else "")
        meta = {"mode": mode, "problem_type": diagnosis.problem_type, "questions": turn.questions, "asks": turn.asks,
                "sources": [n.id for n in diagnosis.notes], "given": shown, "findings": len(reply.findings),
                "turn_id": turn.turn_id, **({"event_id": turn.inbound.event_id} if turn.inbound.event_id else {})}
        reply.answer_id = await turn.clock.timed("storage", self.store.add_turn(turn.thread_id, "assistant", stored, meta))
        log.info("turn", extra={"turn_id": turn.turn_id, "platform": turn.inbound.platform,
                                "tenant": turn.inbound.tenant, "thread_id": turn.thread_id, "mode": mode,
                                "problem_type": diagnosis.problem_type, "notes": [n.id for n in diagnosis.notes],
                                "symptoms": turn.case.latest, "analyzer": turn.analysis.analyzer if turn.analysis else None,
                                **turn.clock.report()})
        outcome = "budget_refused" if turn.refusal else "fallback" if mode == "offline" and self.llm else "answered"
        metrics.turn_finished(turn.inbound.platform, mode, outcome, turn.clock.phases, turn.clock.start)
        return reply

    async def _llm_answer(self, turn: Consultation, on_token: TokenSink | None, extra: str) -> tuple[str, str, list[str]]:
        diagnosis = turn.diagnosis
        assert diagnosis is not None and self.llm is not None
        about = f"\n\nThe team is asking about these findings:\n{extra}" if extra else ""
        parts = PromptParts(case=describe_case(turn.case, diagnosis.causes or diagnosis.notes), diagnosis=_diagnosis_text(diagnosis) + about,
                            candidates=turn.questions, notes=diagnosis.notes, analysis=turn.analysis)
        messages = build_messages(parts, history=turn.earlier, message=turn.text,
                                  counter=self.tokens, budget=self.settings.prompt_token_budget,
                                  history_budget=self.settings.history_token_budget)
        began = time.perf_counter()
        tally = TokenTally()
        try:
            if on_token is None:
                answer, drafted = split_questions(await self.llm.complete(messages, on_usage=tally.add))
            else:
                stream = QuestionFilter(on_token)
                pieces: list[str] = []
                async for piece in self.llm.stream(messages, on_usage=tally.add):
                    pieces.append(piece)
                    await stream.feed(piece)
                await stream.close()
                answer, drafted = stream.text, split_questions("".join(pieces))[1]
            if not answer.strip():
                raise LLMError("LLM returned an empty answer")
            turn.questions, turn.asks = choose_questions(turn.case, diagnosis.causes, diagnosis.related, drafted)
            return answer, "llm", []
        except LLMError as exc:
            metrics.llm_failed()
            log.warning("llm failed, answering offline", extra={"platform": turn.inbound.platform, "error": str(exc),
                                                                "turn_id": turn.turn_id})
            answer, shown = compose_offline(turn.case, diagnosis, analysis=turn.analysis, extra=extra,
                                            given=turn.given, llm_failed=True)
            return answer, "offline", shown
        finally:
            turn.clock.phases["llm"] += time.perf_counter() - began
            if self.budgets and tally.total:
                await turn.clock.timed("storage", self.budgets.record_tokens(turn.inbound, tally.total))


def _reviewed_schema(earlier: list[Turn]) -> str | None:
    """The DDL of the latest schema review in the thread (the user turn just before its analysis)."""
    for i in range(len(earlier) - 1, 0, -1):
        turn = earlier[i]
        if turn.role == "context" and turn.meta.get("analyzer") == REVIEW_COMMAND:
            before = next((t for t in reversed(earlier[:i]) if t.role == "user"), None)
            if before is None:
                return None
            text = before.text.removeprefix(f"/{REVIEW_COMMAND} ")
            return _DIALECT_FLAG.sub("", text, count=1)
    return None


def _diagnosis_text(diagnosis: Diagnosis) -> str:
    lines = [f"Problem type: {diagnosis.problem_type}."]
    if diagnosis.lead:
        role = "explains the reported symptom" if diagnosis.symptom else "answers the question"
        lines.append(f"Lead with [{diagnosis.lead.id}] {diagnosis.lead.title}: it {role}.")
    if len(diagnosis.causes) > 1:
        lines.append("Other candidate causes: " + ", ".join(f"[{n.id}]" for n in diagnosis.causes[1:]) + ".")
    if diagnosis.related:
        lines.append("Related, not causes: " + ", ".join(f"[{n.id}]" for n in diagnosis.related) + ".")
    lines.extend(f"- {line.replace('**', '')}" for line in diagnosis.derived)
    return "\n".join(lines)
