"""Drive v3's two request mini-languages, as the sandbox understands them.

* ``q`` (files.list search): ``'<id>' in parents``, ``name``/``mimeType`` with ``=``, ``!=``, ``contains``,
  ``trashed = true|false``, ``createdTime``/``modifiedTime`` comparisons against RFC 3339 strings, ``and``, ``or``,
  ``not`` and parentheses. String literals use single quotes; ``\\'`` and ``\\\\`` are the escapes Drive documents.
* ``fields`` (partial responses): ``a,b/c,files(id,name),*``.

Anything else is rejected the way Drive rejects it (400 ``invalid`` on ``q``, 400 ``invalidParameter`` on ``fields``)
so that a client bug surfaces here instead of in production.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Protocol


class QueryError(ValueError):
    """The request's ``q`` or ``fields`` is not something Drive would accept; ``location`` names the parameter."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location


class Searchable(Protocol):
    id: str
    name: str
    mime_type: str
    parents: list[str]
    trashed: bool
    created_time: datetime
    modified_time: datetime


Predicate = Callable[[Searchable], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^'\\]|\\.)*')|(?P<op>!=|<=|>=|=|<|>)|(?P<paren>[()])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
_STRING_FIELDS = {"name": "name", "mimeType": "mime_type"}
_TIME_FIELDS = {"createdTime": "created_time", "modifiedTime": "modified_time"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def _tokenize(q: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(q):
        if q[pos:].strip() == "":
            break
        match = _TOKEN.match(q, pos)
        if match is None:
            raise QueryError("Invalid Value", location="q")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "string":
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        tokens.append(_Token(kind, text))
        pos = match.end()
    return tokens


def word_prefix_match(haystack: str, needle: str) -> bool:
    """Drive's ``name contains``: prefix match at the start of the name or of any word in it (case-insensitive).

    Real Drive documents that ``name contains 'World'`` does not find ``HelloWorld``; this mirrors that rule.
    """
    haystack, needle = haystack.casefold(), needle.casefold()
    for start in range(len(haystack)):
        if (start == 0 or not haystack[start - 1].isalnum()) and haystack.startswith(needle, start):
            return True
    return False


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise QueryError("Invalid Value", location="q") from exc
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Parser:
    """Recursive descent: or_expr := and_expr ('or' and_expr)*; and_expr := unary ('and' unary)*."""

    def __init__(self, tokens: list[_Token], resolve: Callable[[str], str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve = resolve

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, kind: str | None = None, text: str | None = None) -> _Token:
        token = self._peek()
        if token is None or (kind and token.kind != kind) or (text and token.text.lower() != text):
            raise QueryError("Invalid Value", location="q")
        self.pos += 1
        return token

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token.kind == "word" and token.text.lower() == word

    def parse(self) -> Predicate:
        predicate = self._or()
        if self._peek() is not None:
            raise QueryError("Invalid Value", location="q")
        return predicate

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._at_word("or"):
            self.pos += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda f: any(p(f) for p in parts))

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._at_word("and"):
            self.pos += 1
            parts.append(self._unary())
        return parts[0] if len(parts) == 1 else (lambda f: all(p(f) for p in parts))

    def _unary(self) -> Predicate:
        if self._at_word("not"):
            self.pos += 1
            inner = self._unary()
            return lambda f: not inner(f)
        token = self._peek()
        if token is not None and token.kind == "paren" and token.text == "(":
            self.pos += 1
            inner = self._or()
            self._take("paren", ")")
            return inner
        return self._term()

    def _term(self) -> Predicate:
        first = self._take()
        if first.kind == "string":  # '<id>' in parents
            self._take("word", "in")
            self._take("word", "parents")
            parent_id = self.resolve(first.text)
            return lambda f: parent_id in f.parents
        if first.kind != "word":
            raise QueryError("Invalid Value", location="q")
        field = first.text
        if field == "trashed":
            op = self._take("op").text
            if op not in ("=", "!="):
                raise QueryError("Invalid Value", location="q")
            negate = op == "!="
            literal = self._take("word").text.lower()
            if literal not in ("true", "false"):
                raise QueryError("Invalid Value", location="q")
            wanted = (literal == "true") != negate
            return lambda f: f.trashed == wanted
        if field in _STRING_FIELDS:
            attr = _STRING_FIELDS[field]
            if self._at_word("contains"):
                self.pos += 1
                needle = self._take("string").text
                if field == "name":
                    return lambda f: word_prefix_match(getattr(f, attr), needle)
                return lambda f: needle in getattr(f, attr)
            op = self._take("op").text
            if op not in ("=", "!="):
                raise QueryError("Invalid Value", location="q")
            value = self._take("string").text
            compare = _COMPARE[op]
            return lambda f: compare(getattr(f, attr), value)
        if field in _TIME_FIELDS:
            attr = _TIME_FIELDS[field]
            compare = _COMPARE[self._take("op").text]
            moment = _parse_time(self._take("string").text)
            return lambda f: compare(getattr(f, attr), moment)
        raise QueryError("Invalid Value", location="q")  # fullText, properties, sharedWithMe...: not emulated


def compile_query(q: str | None, *, resolve: Callable[[str], str] = lambda file_id: file_id) -> Predicate:
    """Turn a Drive ``q`` string into a predicate over stored files; an empty query matches everything.

    ``resolve`` maps aliases such as ``'root' in parents`` to the real id.
    """
    if q is None or not q.strip():
        return lambda f: True
    return _Parser(_tokenize(q), resolve).parse()


# --- orderBy and pageToken: keyset paging ----------------------------------------------------------------------

_ORDER_FIELDS = {"name", "name_natural", "createdTime", "modifiedTime", "folder"}


def parse_order_by(order_by: str | None) -> list[tuple[str, bool]]:
    if not order_by:
        return [("createdTime", False)]
    order: list[tuple[str, bool]] = []
    for part in order_by.split(","):
        words = part.split()
        if not words or words[0] not in _ORDER_FIELDS or len(words) > 2 or (len(words) == 2 and words[1] != "desc"):
            raise QueryError("Invalid Value", location="orderBy")
        order.append((words[0], len(words) == 2))
    return order


def sort_key(stored: Searchable, order: list[tuple[str, bool]]) -> list[Any]:
    values: list[Any] = []
    for name, _desc in order:
        if name in ("name", "name_natural"):
            values.append([stored.name.casefold(), stored.name])
        elif name == "folder":
            values.append(0 if stored.mime_type == "application/vnd.google-apps.folder" else 1)
        else:
            moment = stored.created_time if name == "createdTime" else stored.modified_time
            values.append(moment.astimezone(timezone.utc).isoformat(timespec="microseconds"))
    return values + [stored.id]


def compare_keys(order: list[tuple[str, bool]], left: list[Any], right: list[Any]) -> int:
    for index, (_name, desc) in enumerate(order):
        if left[index] != right[index]:
            result = -1 if left[index] < right[index] else 1
            return -result if desc else result
    return (left[-1] > right[-1]) - (left[-1] < right[-1])


def encode_page_token(key: list[Any], fingerprint: str) -> str:
    raw = json.dumps({"k": key, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, fingerprint: str) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["f"] != fingerprint:
            raise ValueError("token belongs to another query")
        return list(data["k"])
    except (ValueError, KeyError, TypeError) as exc:
        raise QueryError("Invalid Value", location="pageToken") from exc


# --- fields= partial responses -------------------------------------------------------------------------------

FieldTree = dict[str, "FieldTree | None"]  # None = the whole value


def parse_fields(spec: str) -> FieldTree | None:
    """Parse a ``fields`` selector into a tree; ``None`` means "everything" (``*``)."""
    tree: FieldTree = {}
    pos = _parse_field_list(spec.replace(" ", ""), 0, tree)
    if pos != len(spec.replace(" ", "")):
        raise QueryError(f"Invalid field selection {spec[:60]}", location="fields")
    return None if "*" in tree else tree


def _parse_field_list(spec: str, pos: int, tree: FieldTree) -> int:
    while pos < len(spec):
        match = re.match(r"[A-Za-z_*][A-Za-z0-9_/*]*", spec[pos:])
        if match is None:
            raise QueryError("Invalid field selection", location="fields")
        path = match.group(0).split("/")
        pos += match.end()
        node = tree
        for segment in path[:-1]:
            child = node.get(segment, {})
            node[segment] = child if child is not None else None
            if node[segment] is None:
                break
            node = node[segment]  # type: ignore[assignment]
        leaf = path[-1]
        if pos < len(spec) and spec[pos] == "(":
            sub: FieldTree = {}
            pos = _parse_field_list(spec, pos + 1, sub)
            if pos >= len(spec) or spec[pos] != ")":
                raise QueryError("Invalid field selection", location="fields")
            pos += 1
            node[leaf] = None if "*" in sub else sub
        else:
            node[leaf] = None
        if pos < len(spec) and spec[pos] == ",":
            pos += 1
            continue
        break
    return pos


def check_fields(tree: FieldTree | None, allowed: dict[str, set[str] | None]) -> None:
    """Reject selections naming fields the resource does not have (Drive answers 400 for those)."""
    if tree is None:
        return
    for name, sub in tree.items():
        if name not in allowed:
            raise QueryError(f"Invalid field selection {name}", location="fields")
        nested = allowed[name]
        if sub is not None and nested is not None:
            check_fields(sub, {field: None for field in nested})


def apply_fields(value: Any, tree: FieldTree | None) -> Any:
    """Project ``value`` (dict or list of dicts) onto the selection; absent fields stay absent, like Drive."""
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_fields(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {key: apply_fields(value[key], sub) for key, sub in tree.items() if key in value}
