"""The conversation eval (tests/eval/conversations.jsonl): whole threads through the offline engine.

    python -m bench.conversation_eval [--split blind|tuned|all] [--verbose]

Per turn it checks the lead note (the answer's first source), the problem type, that no question matches a
`no_ask` regex (a re-ask of a known fact or of evidence already given), that code in the answer is only in the
team's stack once the stack is evident, that the team's words and derived numbers appear, and that an answer to
new facts changed substantially. It prints the scores per split and every miss.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CONVERSATIONS = Path(__file__).resolve().parents[1] / "tests" / "eval" / "conversations.jsonl"
GOALS = {"lead": 0.85, "no_reask": 0.95, "purity": 0.9, "words": 0.8, "changed": 1.0}
CHANGED_BELOW = 0.7  # word-level similarity of consecutive answers under which an answer counts as changed

# What tells each stack, in the team's messages; and the code markers of each stack's own code.
STACK_SAID = {
    "django": r"\bdjango\b|\bdrf\b", "fastapi": r"\bfast ?api\b|\bflask\b|\bsql ?alchemy\b|\balembic\b",
    "node": r"\bnode(?:\.?js)?\b|\bexpress\b|\bprisma\b|\bknex\b|\bnode-postgres\b|\bjavascript\b|\btypescript\b",
    "nestjs": r"\bnest(?:\.?js)?\b", "spring": r"\bspring\b|\bhibernate\b|\bjpa\b|\bjava\b|\bkotlin\b",
    "go": r"\bgo(?:lang)?\b(?! (?:to|ahead|back|through|over|live)\b)|\bpgx\b|\bgorm\b|\bsqlc\b",
    "rails": r"\brails\b|\bruby\b|\bactive ?record\b|\bsidekiq\b", "laravel": r"\blaravel\b|\beloquent\b|\bphp\b",
}
STACK_LANGUAGES = {"django": {"python", "py"}, "fastapi": {"python", "py"}, "node": {"javascript", "js", "typescript", "ts", "prisma"},
                   "nestjs": {"typescript", "ts", "javascript", "js", "prisma"}, "spring": {"java", "kotlin", "kt"},
                   "go": {"go", "golang"}, "rails": {"ruby", "rb"}, "laravel": {"php"}}
STACK_MARKERS = {
    "django": r"\.objects\.|\bselect_related\b|\bprefetch_related\b|\bfrom django\b|\bmodels\.Model\b",
    "fastapi": r"\bfrom sqlalchemy\b|\bselectinload\b|\bjoinedload\b|\bfrom fastapi\b|\bfrom flask\b|\bDepends\(",
    "node": r"\brequire\(|\bnew Pool\(|\bprisma\.\w|\bknex\(|\bexpress\(\)",
    "nestjs": r"@Injectable\(|@InjectRepository\(|@Module\(",
    "spring": r"@Transactional\b|\bJpaRepository\b|@EntityGraph\b|@Version\b|\bpublic (?:class|interface)\b",
    "go": r"\bfunc \w*\(|\berr != nil\b|\bpgx\.|\bgorm\.",
    "rails": r"\bActiveRecord\b|\bhas_many\b|\.includes\(|\bApplicationRecord\b|\bdef change\b",
    "laravel": r"<\?php|\bEloquent\b|->with\(|\bSchema::|::query\(\)",
}
GENERIC = {"sql", "console", "text", "bash", "sh", "shell", "json", "yaml", "yml", "http", "ini", "toml", "dockerfile",
           "protobuf", "proto", "lua", "hcl", "", "diff", "csv", "xml", "redis"}
_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.M | re.S)


@dataclass
class Score:
    hits: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.hits += int(ok)
        self.total += 1

    @property
    def value(self) -> float:
        return self.hits / self.total if self.total else 1.0


@dataclass
class Result:
    scores: dict[str, Score] = field(default_factory=lambda: {k: Score() for k in (*GOALS, "type")})
    misses: list[str] = field(default_factory=list)
    conversations: int = 0


def load(split: str = "all") -> list[dict]:
    rows = [json.loads(line) for line in CONVERSATIONS.read_text().splitlines() if line.strip()]
    return [r for r in rows if split == "all" or r["split"] == split]


def impure_code(answer: str, stack: str) -> list[str]:
    """Code blocks in another stack's language, or carrying another stack's markers."""
    bad = []
    own = STACK_LANGUAGES[stack]
    for info, code in _FENCE.findall(answer):
        language = (info.split() or [""])[0].lower()
        if language in GENERIC and language != "":
            continue
        if language and language not in own:
            bad.append(f"```{info}")
            continue
        for other, marker in STACK_MARKERS.items():
            if other != stack and STACK_LANGUAGES[other] & own == set() and re.search(marker, code):
                bad.append(f"```{info} with {other} code")
            elif other != stack and STACK_LANGUAGES[other] == own and re.search(marker, code) \
                    and not re.search(STACK_MARKERS[stack], code):
                bad.append(f"```{info} with {other} code")
    return bad


def _body(text: str) -> str:
    return text.split("\n\nQuestions:")[0]


async def evaluate(conversations: list[dict]) -> Result:
    from bot.bootstrap import build_analyzers
    from bot.config import PACKAGED_KNOWLEDGE_DIR
    from bot.consult.engine import Engine
    from bot.knowledge.index import FTS5Retriever
    from bot.messages import Inbound
    from tests.fakes import MemoryStore

    engine = Engine(store=MemoryStore(), retriever=FTS5Retriever(PACKAGED_KNOWLEDGE_DIR, None),
                    analyzers=build_analyzers())
    result = Result()
    for conv in conversations:
        result.conversations += 1
        said = ""
        previous = ""
        for n, turn in enumerate(conv["turns"], 1):
            where = f"{conv['id']}#{n}"
            reply = await engine.handle(Inbound("console", "eval", "eval", conv["id"], "u", turn["user"]))
            said += "\n" + turn["user"]
            lead = reply.sources[0].id if reply.sources else None
            result.scores["lead"].add(lead in turn["lead"])
            if lead not in turn["lead"]:
                result.misses.append(f"{where} lead: got {lead}, want {turn['lead']}")
            result.scores["type"].add(reply.problem_type == turn["type"])
            if reply.problem_type != turn["type"]:
                result.misses.append(f"{where} type: got {reply.problem_type}, want {turn['type']}")
            reasks = [f"{q!r} ~ /{p}/" for q in reply.questions for p in turn.get("no_ask", []) if re.search(p, q)]
            result.scores["no_reask"].add(not reasks)
            if reasks:
                result.misses.append(f"{where} re-ask: {reasks[0]}")
            stack = conv.get("stack", "none")
            if stack in STACK_SAID and re.search(STACK_SAID[stack], said, re.I):
                bad = impure_code(reply.text, stack)
                result.scores["purity"].add(not bad)
                if bad:
                    result.misses.append(f"{where} purity ({stack}): {', '.join(bad[:3])}")
            for word in turn.get("words", []):
                found = word.lower() in reply.text.lower()
                result.scores["words"].add(found)
                if not found:
                    result.misses.append(f"{where} words: {word!r} missing")
            body = _body(reply.text)
            if turn.get("changed") and previous:
                ratio = difflib.SequenceMatcher(None, previous.split(), body.split(), autojunk=False).ratio()
                result.scores["changed"].add(ratio < CHANGED_BELOW)
                if ratio >= CHANGED_BELOW:
                    result.misses.append(f"{where} unchanged: similarity {ratio:.2f} to the previous answer")
            previous = body
    return result


def report(name: str, result: Result) -> str:
    lines = [f"{name}: {result.conversations} conversations"]
    for key, score in result.scores.items():
        goal = GOALS.get(key)
        mark = "" if goal is None else (" ok" if score.value >= goal else f" BELOW {goal}")
        lines.append(f"  {key:9} {score.value:.3f} ({score.hits}/{score.total}){mark}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="all", choices=("all", "blind", "tuned"))
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    splits = ("tuned", "blind") if args.split == "all" else (args.split,)
    for split in splits:
        result = asyncio.run(evaluate(load(split)))
        print(report(split, result))
        if args.verbose or result.misses:
            for miss in result.misses:
                print("   -", miss)


if __name__ == "__main__":
    main()
