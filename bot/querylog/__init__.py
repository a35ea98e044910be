"""Reads query logs (PostgreSQL server log, Django, SQLAlchemy, Rails, plain SQL) and finds N+1s, repeated and slow
statements deterministically."""

from .analyzer import LogResult, QueryLogAnalyzer, read_log
from .parse import FORMATS_READ

__all__ = ["FORMATS_READ", "LogResult", "QueryLogAnalyzer", "read_log"]
