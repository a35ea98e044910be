"""libpg_query's JSON parse, called straight from pglast's shared library.

`pglast.parser.parse_sql_json` is a thin wrapper over libpg_query's `pg_query_parse`, which pglast
links statically and exports from its extension module. Importing the `pglast` package to reach it
costs about 25 ms (it builds a thousand enum and AST classes), more than the parse of a 15k-line
dump; loading the same shared library with ctypes and calling `pg_query_parse` costs about 4 ms
and returns the very same JSON. When that is not possible (another platform, a pglast build that
hides the symbols, a layout check failing), or when CONSULTANT_REVIEW_PGLAST=1 is set, the review
falls back to `pglast.parser.parse_sql_json`. Loading the library this way does not initialise the
Python module, so a later `import pglast` in the same process works as usual.
"""

from __future__ import annotations

import os


class PgParseError(Exception):
    """A syntax error: the parser's message and the 0-based byte offset it points at (or None)."""

    def __init__(self, message: str, offset: int | None) -> None:
        super().__init__(message, offset)
        self.message = message
        self.offset = offset


_parse = None


def parse_json(text: str) -> str:
    """The libpg_query JSON parse tree of `text`; raises PgParseError."""
    global _parse
    if _parse is None:
        _parse = _pglast_parser() if os.environ.get("CONSULTANT_REVIEW_PGLAST") else _native_or_pglast()
    return _parse(text)


def _native_or_pglast():
    try:
        parse = _native_parser()
        if parse("SELECT 1").startswith('{"version":'):
            return parse
    except Exception:  # noqa: BLE001 - any failure means: use the regular binding
        pass
    return _pglast_parser()


def _native_parser():
    import ctypes
    import importlib.machinery
    import importlib.util

    spec = importlib.util.find_spec("pglast")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("pglast is not installed")
    folder = spec.submodule_search_locations[0]
    path = next(p for p in (os.path.join(folder, "parser" + s) for s in importlib.machinery.EXTENSION_SUFFIXES)
                if os.path.exists(p))
    lib = ctypes.CDLL(path)

    class PgQueryError(ctypes.Structure):
        _fields_ = [("message", ctypes.c_char_p), ("funcname", ctypes.c_char_p), ("filename", ctypes.c_char_p),
                    ("lineno", ctypes.c_int), ("cursorpos", ctypes.c_int), ("context", ctypes.c_char_p)]

    class PgQueryParseResult(ctypes.Structure):
        _fields_ = [("parse_tree", ctypes.c_void_p), ("stderr_buffer", ctypes.c_void_p),
                    ("error", ctypes.POINTER(PgQueryError))]

    pg_query_parse = lib.pg_query_parse
    pg_query_parse.argtypes = [ctypes.c_char_p]
    pg_query_parse.restype = PgQueryParseResult
    free = lib.pg_query_free_parse_result
    free.argtypes = [PgQueryParseResult]
    free.restype = None
    string_at = ctypes.string_at

    def parse(text: str) -> str:
        result = pg_query_parse(text.encode("utf-8"))
        try:
            if result.error:
                err = result.error.contents
                message = (err.message or b"syntax error").decode("utf-8", "replace")
                raise PgParseError(message, err.cursorpos - 1 if err.cursorpos > 0 else None)
            return string_at(result.parse_tree).decode("utf-8")
        finally:
            free(result)

    return parse


def _pglast_parser():
    from pglast.parser import ParseError, parse_sql_json

    def parse(text: str) -> str:
        try:
            return parse_sql_json(text)
        except ParseError as exc:
            index = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            offset = len(text[:index].encode("utf-8")) if index is not None else None
            raise PgParseError(exc.args[0] if exc.args else str(exc), offset) from None

    return parse
