"""Reads PostgreSQL EXPLAIN output (text or FORMAT JSON) into a timed plan tree and diagnoses it deterministically."""

from .analyzer import FORMATS_READ, PlanAnalyzer, PlanResult, read_plan

__all__ = ["FORMATS_READ", "PlanAnalyzer", "PlanResult", "read_plan"]
