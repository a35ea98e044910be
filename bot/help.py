"""Help text shared by every surface (each adapter adds its own syntax for the commands)."""

HELP = """\
**Backend Consultant** helps with API design (REST, GraphQL, gRPC), service structure, auth flows, job queues, \
schema design, query optimization, indexing, zero-downtime migrations, caching and consistency bugs.

Ask in plain words: describe the data model, what you observe and what you expected. Paste the slow query, its \
`EXPLAIN (ANALYZE, BUFFERS)` output (text or `FORMAT JSON`), a query log (PostgreSQL, Django, SQLAlchemy or Rails), \
the model code or the error message: plans and logs are read by rules, like schemas. I'll diagnose whether it is a design, \
performance or correctness problem, explain the patterns and their tradeoffs, show how to measure, leave code in your \
stack, and ask a few questions to narrow it down.

Commands:
- `schema-review <DDL or migration>`: a rule-based review with the reasoning and the fix SQL for each finding.
- `new`: start a fresh consultation.
- `forget`: delete everything stored about this conversation (messages, case facts, feedback).
- `help`: this message.
"""

REVIEW_UNAVAILABLE = ("Schema review is not available yet in this installation. You can still paste the DDL and ask "
                      "about it, and I'll answer from the knowledge base.")

REVIEW_USAGE = ("Paste the DDL or migration after the command, for example `schema-review CREATE TABLE orders "
                "(id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id));`. Add `--dialect mysql` or "
                "`--dialect sqlite` at the start for those databases.")
