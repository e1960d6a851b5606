"""The call protocol between a trusted process and a sandboxed candidate (stdlib only).

A verdict must not depend on anything the candidate's process can forge, so the
candidate's process only *executes calls* and answers each with plain data; the
test's assertions run in a trusted process that compares plain data.

This one file plays three roles:

* ``serve`` (inside the sandbox, copied into the run directory): loads the candidate
  program, then answers call requests read from its stdin with frames on its stdout.
  Before the candidate's code runs, both are moved to private descriptors and fd 0/1
  are pointed at ``/dev/null`` / the capture file, so ``print`` cannot reach the
  channel.
* ``check`` (a trusted, unsandboxed process that runs no candidate code): runs the
  task's whole test, ``check(candidate)``, with ``candidate`` a :class:`Handle`: each
  call sends plain-data arguments to ``serve`` and decodes the plain-data result; the
  verdict goes back to the parent over the checker's own socket.
* a client library for the FRANC parent (:class:`Channel`, :func:`encode`, :func:`decode`).

Handles (a :class:`Peer` at each end): a value with no plain form stays in the process
that made it and the other side gets a :class:`Handle`, whose every use (attribute,
call, item, ``len``, iteration, ``with``, ``str``...) is a request there answered with
plain data or more handles; comparisons use the object's plain form, here. So a test
that makes a StringIO, a file, a data frame or a database, or patches ``input``, runs
here too: the modules with state it imports (all but :data:`OWN_MODULES`) and its
``open`` and ``input`` are the candidate's, reached through handles, and what the test
lends the candidate (a callback, an object of its own class) the candidate can only
use (:class:`TrustedPeer`). A class the test bases on a class of the candidate's (an HTTP
handler) is made in the candidate's process from the test's source of it (``define``),
with the test's values for its free names: the test holds a handle to it. While a side
waits for an answer it serves the other's requests, so callbacks nest.

Framing: a 4-byte big-endian length, then UTF-8 JSON. Each request carries a fresh
random id that the answer must echo: a candidate can write to the channel (it shares
the process with ``serve``), but it only learns an id when the call reaches it, and
then all it can do is answer that call, which it may do anyway by returning a value.
Frames with another id, malformed frames and oversized frames end the session.

Plain data (the JSON dialect shared with Java's ``franc.FrancPlain``): null, booleans,
integers, floats (``NaN``/``Infinity`` allowed), strings and lists are JSON; every
other value is an object ``{"$": tag, "v": ...}``: ``tuple``, ``set``, ``frozenset``,
``dict`` (a list of ``[key, value]`` pairs), ``bytes`` (latin-1 text), ``iterator``
(the items a generator or iterator yielded), ``complex``, ``Decimal``, ``Fraction``, the
``datetime`` module's ``datetime``, ``date``, ``time`` and ``timedelta`` (their ISO text
or fields) and ``frame`` (a data frame's columns: a :class:`Frame` here, a
``pandas.DataFrame`` in the candidate's process; only for the arguments and results of
plain calls, never lent objects); Java adds ``long``, ``short``, ``byte``,
``float``, ``char``, ``bigint`` and ``bigdec``. Decoding builds exact built-in types
only, so no ``__eq__`` of the candidate's ever runs in the trusted process.
"""

from __future__ import annotations

import json
import os
import struct
import sys

# The sandboxed end imports as little as possible (each module costs start-up time per run).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: A frame larger than this ends the session (a result that big is no answer).
MAX_FRAME_BYTES = 64 * 1024 * 1024
#: Items an iterator result may yield before it counts as unserialisable (endless generators).
MAX_ITERATOR_ITEMS = 100_000
MAX_DEPTH = 200
MESSAGE_CHARS = 2000
HEADER = struct.Struct(">I")
#: Modules the trusted test imports itself: they hold no state shared with the candidate
#: (``random`` too, unless the test seeds it). Any other module is the candidate's.
OWN_MODULES = frozenset({
    "math", "cmath", "itertools", "functools", "collections", "fractions", "decimal", "string",
    "re", "copy", "heapq", "bisect", "statistics", "operator", "typing", "random", "numbers",
    "json", "unicodedata", "datetime"})
#: Built-ins that reach the process's files and input: the test uses the candidate's.
STATEFUL_BUILTINS = ("open", "input")
#: Built-ins the trusted end never lends: they reach past the object they are given.
REACHING_BUILTINS = ("getattr", "setattr", "delattr", "open", "exec", "eval", "compile",
                     "__import__", "globals", "locals", "vars", "input", "breakpoint", "help")


class ChannelClosed(Exception):
    """The other side closed the channel, broke the framing or answered another call."""


class NotPlainData(Exception):
    """A value that has no plain-data form."""


# --- plain data -------------------------------------------------------------------------


class Frame(dict):
    """A data frame as plain data: column name -> the column's values, in order (the index
    is not kept). A plain call's argument that is a Frame reaches the candidate as a
    ``pandas.DataFrame``; a ``DataFrame`` a plain call returns comes back as a Frame. It
    compares as the mapping of its columns (a docstring's ``{"a": [1, 2]}`` equals it)."""

    def __repr__(self) -> str:  # not a dict's: a cache keyed by repr must tell them apart
        return f"Frame({dict.__repr__(self)})"


def encode(value: Any, depth: int = 0, lender: Peer | None = None) -> Any:
    """``value`` as plain JSON-ready data; raises :class:`NotPlainData`. With a
    ``lender``, a part with no plain form (or that is an iterator, an array, a record
    with named fields) is lent instead: it stays here and the other side gets a handle."""
    if depth > MAX_DEPTH:
        raise NotPlainData("nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, str):
        return value
    if kind is int:
        return value
    if kind is float:
        return value
    if kind is list:
        return [encode(item, depth + 1, lender) for item in value]
    if kind is tuple:
        return {"$": "tuple", "v": [encode(item, depth + 1, lender) for item in value]}
    if kind in (set, frozenset):
        return {"$": kind.__name__, "v": [encode(item, depth + 1, lender) for item in value]}
    if kind is dict:
        return {"$": "dict", "v": [[encode(k, depth + 1, lender), encode(v, depth + 1, lender)]
                                   for k, v in value.items()]}
    if kind is Frame:
        return {"$": "frame", "v": [[encode(k, depth + 1), encode(list(v), depth + 1)]
                                    for k, v in value.items()]}
    if kind in (bytes, bytearray):
        return {"$": "bytes", "v": bytes(value).decode("latin-1")}
    if kind is complex:
        return {"$": "complex", "v": [value.real, value.imag]}
    if lender is not None:
        return lender.lend_other(value, depth)
    return _encode_other(value, depth)


def _encode_standard(value: Any) -> Any:
    """A value of the standard library's value types (exact type or subclass) as a tagged
    text or field list; None for any other value. Only modules already imported are looked
    at: a value of a type never imported cannot exist."""
    clock = sys.modules.get("datetime")
    if clock is not None:
        # datetime before date: a datetime is a date.
        for kind in (clock.datetime, clock.date, clock.time):
            if isinstance(value, kind):
                return {"$": kind.__name__, "v": kind.isoformat(value)}
        if isinstance(value, clock.timedelta):
            return {"$": "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return {"$": "Decimal", "v": decimal.Decimal.__str__(value)}
    fractions = sys.modules.get("fractions")
    if fractions is not None and isinstance(value, fractions.Fraction):
        return {"$": "Fraction", "v": [int(value.numerator), int(value.denominator)]}
    return None


def _encode_other(value: Any, depth: int, lender: Peer | None = None) -> Any:
    """Subclasses of built-in types become the base type; iterators their items; numpy
    and pandas values their ``tolist()`` / numbers."""
    import numbers

    standard = _encode_standard(value)
    if standard is not None:
        return standard
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "pandas") and callable(getattr(value, "tolist", None)):
        return encode(value.tolist(), depth + 1, lender)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return encode(int(value), depth)
    if isinstance(value, numbers.Real):
        return encode(float(value), depth)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return encode(dict(dict.items(value)), depth, lender)
    for base in (list, tuple, set, frozenset, bytes):
        if isinstance(value, base):
            # The base type's own iteration: a subclass's __iter__ is not consulted.
            iterate: Any = base.__iter__
            return encode(base(iterate(value)), depth, lender)
    if hasattr(type(value), "__next__") and hasattr(type(value), "__iter__"):
        items = []
        for item in value:
            items.append(encode(item, depth + 1))
            if len(items) > MAX_ITERATOR_ITEMS:
                raise NotPlainData("an iterator with too many items")
        return {"$": "iterator", "v": items}
    raise NotPlainData(f"a {type(value).__module__}.{type(value).__qualname__}")


def _copied_when_lending(value: Any) -> bool:
    """Whether a value that is not of an exact plain type still crosses as data when
    objects can be lent: numbers, strings, numpy scalars and the ``collections``
    containers (Counter, OrderedDict, defaultdict) do; arrays, data frames, iterators,
    records with named fields and other containers with methods of their own (their
    attributes would be lost) are lent, like every other object."""
    import numbers

    kind = type(value)
    module = kind.__module__.split(".")[0]
    if module in ("numpy", "pandas"):
        return getattr(value, "ndim", None) == 0 and callable(getattr(value, "tolist", None))
    if isinstance(value, (numbers.Real, str, bytes)):
        return True
    if isinstance(value, tuple):  # named fields: a namedtuple, or os.stat_result's kind
        return not (hasattr(kind, "_fields") or hasattr(kind, "n_fields"))
    return module == "collections" and isinstance(value, (list, dict, set, frozenset))


_NUMBER_TAGS = {"long": int, "short": int, "byte": int, "bigint": int, "float": float,
                "bigdec": float, "char": str}


def _decode_datetime(tag: str) -> Any:
    def build(text: Any) -> Any:
        import datetime

        return getattr(datetime, tag).fromisoformat(str(text))
    return build


def _decode_timedelta(fields: Any) -> Any:
    import datetime

    days, seconds, microseconds = (int(f) for f in fields)
    return datetime.timedelta(days=days, seconds=seconds, microseconds=microseconds)


def _decode_decimal(text: Any) -> Any:
    import decimal

    return decimal.Decimal(str(text))


def _decode_fraction(fields: Any) -> Any:
    import fractions

    numerator, denominator = (int(f) for f in fields)
    return fractions.Fraction(numerator, denominator)


def _decode_complex(fields: Any) -> Any:
    real, imag = (float(f) for f in fields)
    return complex(real, imag)


#: Tag -> builder of the exact standard-library value (imported only when one arrives).
_STANDARD_DECODERS: dict[str, Any] = {
    "datetime": _decode_datetime("datetime"), "date": _decode_datetime("date"),
    "time": _decode_datetime("time"), "timedelta": _decode_timedelta,
    "Decimal": _decode_decimal, "Fraction": _decode_fraction, "complex": _decode_complex,
}


def decode(data: Any, peer: Peer | None = None, frame: Any = Frame) -> Any:
    """Plain data back to exact built-in values (the inverse of :func:`encode`); with a
    ``peer``, a lent object becomes a :class:`Handle` and one of ours comes back as itself;
    ``frame`` builds a data frame from its columns (here a :class:`Frame`; in the candidate's
    process a ``pandas.DataFrame``)."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item, peer, frame) for item in data]
    if type(data) is not dict or "$" not in data:
        raise NotPlainData("not plain data")
    tag, payload = data["$"], data.get("v")
    if tag in _NUMBER_TAGS:
        return _NUMBER_TAGS[tag](payload)
    if tag == "bytes":
        return str(payload).encode("latin-1")
    if tag in _STANDARD_DECODERS:
        return _STANDARD_DECODERS[tag](payload)
    if peer is not None and tag == "ref" and type(payload) is int:
        return Handle(peer, {"ref": payload})
    if peer is not None and tag == "back":
        return peer.resolve(payload)
    if type(payload) is not list:
        raise NotPlainData(f"malformed {tag}")
    if tag == "tuple":
        return tuple(decode(item, peer, frame) for item in payload)
    if tag == "set":
        return {decode(item, peer, frame) for item in payload}
    if tag == "frozenset":
        return frozenset(decode(item, peer, frame) for item in payload)
    if tag == "iterator":
        return iter([decode(item, peer, frame) for item in payload])
    if tag == "dict":
        return {decode(key, peer, frame): decode(value, peer, frame) for key, value in payload}
    if tag == "frame":
        if not all(type(pair) is list and len(pair) == 2 and type(pair[1]) is list
                   for pair in payload):
            raise NotPlainData("malformed frame")
        return frame({decode(name, peer, frame): decode(column, peer, frame)
                      for name, column in payload})
    raise NotPlainData(f"unknown tag {tag!r}")


# --- framing ----------------------------------------------------------------------------


def write_frame(fd: int, message: dict[str, Any]) -> int:
    """Write ``message`` as one frame; the frame's size in bytes."""
    data = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    view = memoryview(HEADER.pack(len(data)) + data)
    size = len(view)
    while view:
        view = view[os.write(fd, view):]
    return size


def _read_exactly(fd: int, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the channel")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_frame(fd: int) -> dict[str, Any]:
    (size,) = HEADER.unpack(_read_exactly(fd, HEADER.size))
    if size > MAX_FRAME_BYTES:
        raise ChannelClosed(f"a frame of {size} bytes (over {MAX_FRAME_BYTES})")
    try:
        message = json.loads(_read_exactly(fd, size).decode("utf-8", "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise ChannelClosed(f"a malformed frame ({exc})") from exc
    if type(message) is not dict:
        raise ChannelClosed("a frame that is not an object")
    return message


class Channel:
    """The trusted end: send a call, get its answer (a frame echoing the call's id)."""

    def __init__(self, read_fd: int, write_fd: int):
        self.read_fd, self.write_fd = read_fd, write_fd

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        return self.receive(self.send(message)[0])

    def send(self, message: dict[str, Any]) -> tuple[str, int]:
        """Write a request with a fresh random id: the id and the frame's size. Its answer
        is read with :meth:`receive` (requests sent together are answered in order)."""
        import secrets

        call_id = secrets.token_hex(16)
        return call_id, write_frame(self.write_fd, {**message, "id": call_id})

    def receive(self, call_id: str) -> dict[str, Any]:
        answer = read_frame(self.read_fd)
        if answer.get("id") != call_id:
            raise ChannelClosed("an answer to another call (the channel was written to)")
        return answer

    def call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Answer: ``{"value": plain}``, ``{"raised": {...}}`` or ``{"unserialisable": str}``."""
        return self.request(call_message(name, args, kwargs))


def ready_message() -> dict[str, Any]:
    """The request a callee answers (``{"value": null}``) once it has started: Python, after
    loading the program (imports, top-level code); Java, once its JVM runs (the candidate's
    class loads at its first call). Sent first, it times the start apart from the calls."""
    return {"ready": True}


def call_message(name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request calling ``name``; raises :class:`NotPlainData` for other arguments."""
    return {"call": name, "args": [encode(a) for a in args],
            "kwargs": {k: encode(v) for k, v in kwargs.items()}}


# --- handles: objects that stay in the process that made them -----------------------------


#: Operations one side may ask on the other's objects (``op`` of a request frame).
#: ``plain`` asks for the object's plain form (for comparisons, decided by the asker).
OPERATIONS = frozenset({
    "call", "getattr", "setattr", "delattr", "getitem", "setitem", "delitem", "len", "iter",
    "next", "contains", "str", "repr", "format", "bool", "enter", "exit", "isinstance",
    "binop", "plain", "import", "reduce", "define"})
#: What the candidate may ask of the trusted side's lent objects (a test's callback, a
#: StringIO or an instance of a class the test defined): use them, never reach past them.
LENT_OPERATIONS = frozenset({
    "call", "getattr", "setattr", "getitem", "setitem", "delitem", "len", "iter", "next",
    "contains", "str", "repr", "format", "bool", "plain", "reduce"})
#: Public attributes through which an object reaches an interpreter's frames and globals.
FRAME_ATTRIBUTES = frozenset({
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame",
    "ag_code", "ag_await", "f_globals", "f_locals", "f_builtins", "f_back", "f_code",
    "tb_frame", "tb_next"})
#: Binary operators a handle forwards (``operator`` function names).
BINARY_OPERATORS = frozenset({
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor",
    "lshift", "rshift"})
_NO_PLAIN_FORM = object()
#: The names ``define`` gives a class's bases (the test's source of it names them so).
BASE_NAME = "__franc_base_"


class Peer:
    """One end of a session where each side keeps the objects it made and lends the other
    handles to them. Its requests carry ids the answers echo; while it waits for an answer
    it serves the other side's requests (a callback), so calls can nest."""

    def __init__(self, read_fd: int, write_fd: int, namespace: dict[str, Any] | None = None):
        self.read_fd, self.write_fd = read_fd, write_fd
        #: The program's globals: what a ``{"name": ...}`` target names (the candidate's end).
        self.namespace = namespace if namespace is not None else {}
        self.lent: list[Any] = []
        self.numbers: dict[int, int] = {}  # id(object) -> its number in ``lent``
        self.requests = 0

    # lending and resolving

    def lend(self, value: Any) -> dict[str, Any]:
        number = self.numbers.get(id(value))
        if number is None or self.lent[number] is not value:
            number = len(self.lent)
            self.lent.append(value)  # kept alive: its id is not reused during the session
            self.numbers[id(value)] = number
        return {"$": "ref", "v": number}

    def lend_other(self, value: Any, depth: int) -> Any:
        """A value that is not of an exact plain type: its data, or a loan."""
        if isinstance(value, Handle) and object.__getattribute__(value, "_peer") is self:
            return {"$": "back", "v": object.__getattribute__(value, "_target")}
        standard = _encode_standard(value)
        if standard is not None:
            return standard
        if _copied_when_lending(value):
            return _encode_other(value, depth, self)
        return self.lend(value)

    def resolve(self, target: Any) -> Any:
        """The object a request or a returned handle names: one we lent, or (the
        candidate's end) a global of the program or a built-in."""
        if type(target) is not dict:
            raise NotPlainData("a malformed target")
        if "ref" in target:
            number = target["ref"]
            if type(number) is not int or not 0 <= number < len(self.lent):
                raise NotPlainData("no such lent object")
            return self.lent[number]
        return self.resolve_name(target)

    def resolve_name(self, target: dict[str, Any]) -> Any:
        import builtins

        if "name" in target:
            name = str(target["name"])
            if name not in self.namespace:
                raise NameError(f"name {name!r} is not defined")
            return self.namespace[name]
        if "builtin" in target:
            return getattr(builtins, str(target["builtin"]))
        raise NotPlainData("a malformed target")

    def encode(self, value: Any) -> Any:
        return encode(value, 0, self)

    def decode(self, data: Any) -> Any:
        return decode(data, self)

    # asking the other side

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        request_id = f"{self.requests}"
        write_frame(self.write_fd, {**message, "id": request_id})
        return self.await_answer(request_id)

    def await_answer(self, request_id: str) -> dict[str, Any]:
        while True:
            frame = read_frame(self.read_fd)
            if "op" in frame:  # the other side asks while we wait: a callback
                self.answer(frame)
            elif frame.get("id") != request_id:
                raise ChannelClosed("an answer to another request (the channel was written to)")
            else:
                return frame

    def ask(self, op: str, target: Any, **fields: Any) -> Any:
        """Do ``op`` on the other side's object ``target``; the decoded result."""
        return self.outcome(self.request({"op": op, "target": target, **fields}))

    def call(self, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        answer = self.request({"op": "call", "target": target,
                               "args": [self.encode(a) for a in args],
                               "kwargs": {k: self.encode(v) for k, v in kwargs.items()}})
        if "arguments_after" in answer:
            _apply_changes(answer["arguments_after"], args, kwargs, self)
        return self.outcome(answer)

    def outcome(self, answer: dict[str, Any]) -> Any:
        if "value" in answer:
            return self.decode(answer["value"])
        if "raised" in answer and isinstance(answer["raised"], dict):
            raise raised_exception(answer["raised"])
        return Unserialisable(str(answer.get("unserialisable")))

    def unsupported(self, what: str) -> BaseException:
        """What a handle raises for a use that cannot cross between the processes."""
        return TypeError(f"{what} of an object of the other process")

    def reduce(self, target: Any, protocol: Any) -> Any:
        """How ``pickle`` rebuilds the other side's object (a test's object with a
        ``__reduce__``, pickled by the candidate's ``pickle``): its reduction, whose
        parts come back as handles or, when they are ours, as themselves."""
        return tuple(self.ask("reduce", target, protocol=protocol))

    # answering the other side

    def answer(self, frame: dict[str, Any]) -> None:
        try:
            reply = self.perform(str(frame.get("op")), frame)
        except NotPlainData as exc:
            reply = {"raised": {"type": "TypeError", "message": f"not plain data ({exc})"}}
        except BaseException as exc:
            reply = {"raised": _error(exc)}
        reply["id"] = frame.get("id")
        try:
            write_frame(self.write_fd, reply)
        except (ValueError, TypeError, OverflowError) as exc:
            write_frame(self.write_fd, {"id": frame.get("id"), "unserialisable": str(exc)})

    def perform(self, op: str, frame: dict[str, Any]) -> dict[str, Any]:
        if op not in OPERATIONS:
            raise NotPlainData(f"no operation {op!r}")
        if op == "import":
            modules = [str(m) for m in frame.get("fromlist") or []]
            return self.reply(__import__(str(frame.get("name")), fromlist=modules))
        if op == "define":
            return self.reply(self.define(frame))
        target = self.resolve(frame.get("target"))
        if op == "call":
            return self.perform_call(target, frame)
        if op == "plain":
            if hasattr(type(target), "__next__"):  # its plain form would use it up
                return {"unserialisable": "an iterator"}
            return self.reply(target, lend=False)
        return self.reply(_operate(self, op, target, frame))

    def define(self, frame: dict[str, Any]) -> Any:
        """A class of the test's whose bases are objects of this process (``define``: a
        handle cannot be a base class), made here from the test's source of it: its free
        names are the test's values (modules by name, the rest as data or loans)."""
        import importlib

        namespace: dict[str, Any] = {"__name__": "__franc_test__"}
        for name, module in dict(frame.get("modules") or {}).items():
            namespace[str(name)] = importlib.import_module(str(module))
        for name, value in dict(frame.get("values") or {}).items():
            namespace[str(name)] = self.decode(value)
        for number, base in enumerate(frame.get("bases") or []):
            namespace[f"{BASE_NAME}{number}"] = self.decode(base)
        exec(compile(str(frame.get("source")), "test.py", "exec"), namespace)
        return namespace[str(frame.get("name"))]

    def perform_call(self, function: Any, frame: dict[str, Any]) -> dict[str, Any]:
        args = [self.decode(a) for a in frame.get("args", [])]
        kwargs = {str(k): self.decode(v) for k, v in frame.get("kwargs", {}).items()}
        try:
            reply = self.reply(function(*args, **kwargs))
        except BaseException as exc:
            reply = {"raised": _error(exc)}
        if any(type(a) in (list, dict, set, bytearray) for a in (*args, *kwargs.values())):
            changed = _arguments_after(frame, args, kwargs, self)
            if changed is not None:
                reply["arguments_after"] = changed
        return reply

    def reply(self, value: Any, lend: bool = True) -> dict[str, Any]:
        try:
            return {"value": encode(value, 0, self if lend else None)}
        except NotPlainData as exc:
            return {"unserialisable": str(exc)}
        except BaseException as exc:
            return {"unserialisable": f"{type(value).__name__} ({type(exc).__name__})"}


def _operate(peer: Peer, op: str, target: Any, frame: dict[str, Any]) -> Any:
    """Every operation but call, import and plain, on one of ``peer``'s objects."""
    import operator

    def value(field: str) -> Any:
        return peer.decode(frame.get(field))

    if op in ("getattr", "setattr", "delattr"):
        name = str(frame.get("name"))
        if op == "getattr":
            return getattr(target, name)
        if op == "setattr":
            return setattr(target, name, value("value"))
        return delattr(target, name)
    if op == "getitem":
        return target[value("key")]
    if op == "setitem":
        target[value("key")] = value("value")
        return None
    if op == "delitem":
        del target[value("key")]
        return None
    if op == "binop":
        name = str(frame.get("name"))
        if name not in BINARY_OPERATORS:
            raise NotPlainData(f"no operator {name!r}")
        other = value("value")
        function = getattr(operator, name)
        return function(other, target) if frame.get("reflected") else function(target, other)
    if op == "exit":
        return target.__exit__(None, None, None)
    if op == "reduce":
        return target.__reduce_ex__(int(frame.get("protocol", 2)))
    simple: dict[str, Any] = {"len": len, "iter": iter, "next": next, "str": str,
                              "repr": repr, "bool": bool, "enter": lambda t: t.__enter__()}
    if op in simple:
        return simple[op](target)
    if op == "contains":
        return value("value") in target
    if op == "format":
        return format(target, str(frame.get("spec", "")))
    return isinstance(value("value"), target)  # isinstance


class Handle:
    """An object of the other process. Every use is a request there, except comparisons
    and hashing: those use its plain form, here (an object with no plain form is equal
    only to itself), so the other side's ``__eq__`` never decides an assertion."""

    __slots__ = ("_peer", "_target")

    def __init__(self, peer: Peer, target: dict[str, Any]):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_target", target)

    def _ask(self, op: str, **fields: Any) -> Any:
        return self._peer.ask(op, self._target, **fields)

    def _encoded(self, value: Any) -> Any:
        return self._peer.encode(value)

    def _plain(self) -> Any:
        answer = self._peer.request({"op": "plain", "target": self._target})
        if "value" not in answer:
            return _NO_PLAIN_FORM
        return self._peer.outcome(answer)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._ask("getattr", name=name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._ask("setattr", name=name, value=self._encoded(value))

    def __delattr__(self, name: str) -> None:
        self._ask("delattr", name=name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._peer.call(self._target, args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._ask("getitem", key=self._encoded(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._ask("setitem", key=self._encoded(key), value=self._encoded(value))

    def __delitem__(self, key: Any) -> None:
        self._ask("delitem", key=self._encoded(key))

    def __len__(self) -> int:
        return self._ask("len")

    def __iter__(self) -> Any:
        return self._ask("iter")

    def __next__(self) -> Any:
        return self._ask("next")

    def __contains__(self, item: Any) -> bool:
        return self._ask("contains", value=self._encoded(item))

    def __str__(self) -> str:
        return self._ask("str")

    def __repr__(self) -> str:
        try:
            return self._ask("repr")
        except (Exception, CandidateGone):
            return "<an object of the other process>"

    def __format__(self, spec: str) -> str:
        return self._ask("format", spec=spec)

    def __bool__(self) -> bool:
        return self._ask("bool")

    def __enter__(self) -> Any:
        return self._ask("enter")

    def __exit__(self, *exc: object) -> None:
        self._ask("exit")  # what it returns is ignored: the other side never swallows
        # an exception of this one (an assertion that failed in the block)

    def __instancecheck__(self, value: Any) -> bool:
        return self._ask("isinstance", value=self._encoded(value))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Handle) and other._peer is self._peer \
                and other._target == self._target:
            return True
        mine = self._plain()
        theirs = other._plain() if isinstance(other, Handle) else other
        if mine is _NO_PLAIN_FORM or theirs is _NO_PLAIN_FORM:
            return False
        return bool(mine == theirs)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def _ordered(self, other: Any, compare: Any) -> Any:
        mine = self._plain()
        theirs = other._plain() if isinstance(other, Handle) else other
        if mine is _NO_PLAIN_FORM or theirs is _NO_PLAIN_FORM:
            return NotImplemented
        return compare(mine, theirs)

    def __lt__(self, other: Any) -> Any:
        return self._ordered(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Any:
        return self._ordered(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Any:
        return self._ordered(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Any:
        return self._ordered(other, lambda a, b: a >= b)

    def __hash__(self) -> int:
        plain = self._plain()
        try:
            return hash(plain) if plain is not _NO_PLAIN_FORM else hash(repr(self._target))
        except TypeError:
            return hash(repr(self._target))

    def __int__(self) -> int:
        return int(self._plain())

    def __index__(self) -> int:
        plain = self._plain()
        if type(plain) is not int:
            raise TypeError("not an integer")
        return plain

    def __float__(self) -> float:
        return float(self._plain())

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[Any, ...]:
        raise self._peer.unsupported("a subclass")

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self._peer.reduce(self._target, protocol)


def _binary(name: str, reflected: bool) -> Any:
    def forward(self: Handle, other: Any) -> Any:
        return self._ask("binop", name=name, reflected=reflected, value=self._encoded(other))
    return forward


def _forward_binary_operators() -> None:
    """``handle + x``, ``x * handle``...: computed where the object lives."""
    for name in BINARY_OPERATORS:
        dunder = name.rstrip("_")
        setattr(Handle, f"__{dunder}__", _binary(name, False))
        setattr(Handle, f"__r{dunder}__", _binary(name, True))


_forward_binary_operators()


# --- serve: the sandboxed end -------------------------------------------------------------


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)[:MESSAGE_CHARS]}


def _data_frame(columns: dict[Any, Any]) -> Any:
    """A plain call's :class:`Frame` argument as the ``pandas.DataFrame`` it stands for."""
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError as exc:
        raise NotPlainData("a data frame, but pandas is not installed") from exc
    try:
        return pandas.DataFrame(columns)
    except Exception as exc:
        raise NotPlainData(f"a data frame ({type(exc).__name__})") from exc


def _encode_result(value: Any) -> Any:
    """A plain call's result as plain data; a ``pandas.DataFrame`` as a frame: its columns'
    values, as a docstring writes a frame. Named index levels (a groupby's keys) are data
    and come first as columns; an unnamed index (the rows a filter kept) is dropped."""
    kind = type(value)
    if kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == "pandas":
        if any(name is not None for name in value.index.names):
            import contextlib

            with contextlib.suppress(ValueError):  # a level named like a column: dropped
                value = value.reset_index()
        value = Frame(value.to_dict(orient="list"))
    return encode(value)


def _answer(function: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:
        return {"raised": _error(exc)}
    try:
        return {"value": _encode_result(result)}
    except NotPlainData as exc:
        return {"unserialisable": str(exc)}
    except BaseException as exc:
        return {"unserialisable": f"{type(result).__name__} ({type(exc).__name__})"}


def _arguments_after(message: dict[str, Any], args: list[Any], kwargs: dict[str, Any],
                     lender: Peer) -> dict[str, Any] | None:
    """The arguments' plain values after the call when it changed them in place (a list
    sorted, a dict filled), for the trusted side to apply to its own objects; else None."""
    try:
        after = {"args": [encode(a, 0, lender) for a in args],
                 "kwargs": {k: encode(v, 0, lender) for k, v in kwargs.items()}}
    except BaseException as exc:
        return {"unserialisable": f"an argument after the call ({type(exc).__name__})"}
    if after["args"] == message.get("args", []) and after["kwargs"] == message.get("kwargs", {}):
        return None
    return after


def _load(path: str) -> tuple[dict[str, Any], dict[str, str] | None]:
    namespace: dict[str, Any] = {"__name__": "__main__", "__file__": path}
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    try:
        exec(compile(source, path, "exec"), namespace)
    except BaseException as exc:
        return namespace, _error(exc)
    return namespace, None


def _run_test(namespace: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """A shared-process test (it needs the candidate's files or objects): run it here."""
    try:
        exec(compile(message["test"], "test.py", "exec"), namespace)
        namespace[message["check"]](namespace[message["entry"]])
    except BaseException as exc:
        return {"raised": {**_error(exc), "where": _where(exc, message["test"])}}
    return {"value": None}


def serve(program: str, site_paths: list[str]) -> None:
    request_fd, answer_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the candidate's prints go to the captured stderr, never to the channel
    os.close(devnull)
    sys.path.extend(site_paths)
    namespace, load_error = _load(program)
    peer = Peer(request_fd, answer_fd, namespace)
    while True:
        try:
            message = read_frame(request_fd)
        except ChannelClosed:
            return
        if load_error is None and "op" in message:
            peer.answer(message)
            continue
        if "ready" in message:  # the program has loaded (its load error comes with each call)
            answer: dict[str, Any] = {"value": None}
        elif load_error is not None:
            answer = {"raised": load_error, "at_load": True}
        elif "test" in message:
            answer = _run_test(namespace, message)
        else:
            function = namespace.get(str(message.get("call")))
            try:
                args = [decode(a, frame=_data_frame) for a in message.get("args", [])]
                kwargs = {k: decode(v, frame=_data_frame)
                          for k, v in message.get("kwargs", {}).items()}
            except NotPlainData as exc:
                answer = {"raised": _error(exc)}
            else:
                answer = ({"raised": {"type": "NameError",
                                      "message": f"name {message.get('call')!r} is not defined"}}
                          if function is None else _answer(function, args, kwargs))
        answer["id"] = message.get("id")
        try:
            write_frame(answer_fd, answer)
        except (ValueError, TypeError, OverflowError) as exc:
            write_frame(answer_fd, {"id": message.get("id"), "unserialisable": str(exc)})


# --- check: the trusted end that runs the test's assertions -------------------------------


class CandidateError(Exception):
    """The candidate raised an exception that is not a built-in one (type name kept)."""


class CandidateGone(BaseException):
    """The candidate's process ended or broke the channel (a BaseException, so no test's
    ``except Exception`` swallows it)."""


class CandidateExit(BaseException):
    """The candidate raised SystemExit (a BaseException, so no test's ``except Exception``
    swallows it)."""


class NeedsSharedProcess(BaseException):
    """The test passes the candidate a value with no plain form: it must share its process."""


class Unserialisable:
    """A result with no plain-data form: equal to nothing but itself."""

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<unserialisable {self.what}>"


def raised_exception(raised: dict[str, Any]) -> BaseException:
    """The exception a call raised, rebuilt as the same built-in type where there is one."""
    import builtins

    name, message = str(raised.get("type")), str(raised.get("message", ""))
    if name == "SystemExit":
        return CandidateExit(message)
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            return builtin(message)
        except Exception:
            pass
    return CandidateError(f"{name}: {message}")


class TrustedPeer(Peer):
    """The trusted end. A failure of the candidate's process ends the test
    (:class:`CandidateGone`), and the candidate may only *use* what the test lends it
    (call a callback, write to a StringIO, call a method of the test's object): no
    private attribute, frame, module or built-in that reaches this interpreter."""

    #: Whether the test has called anything in the candidate's process yet (its function,
    #: or a module function it may have replaced): from then on what the test does may
    #: depend on the candidate's answers, so it no longer moves next to the candidate
    #: (the candidate must not choose where it is judged).
    called_candidate = False

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        import secrets

        request_id = secrets.token_hex(16)
        try:
            write_frame(self.write_fd, {**message, "id": request_id})
            return self.await_answer(request_id)
        except (ChannelClosed, OSError) as exc:
            raise CandidateGone(f"the candidate's process ended ({exc})") from None

    def call(self, target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.called_candidate = True
        try:
            return super().call(target, args, kwargs)
        except NotPlainData:  # the test lends what must not be lent (a module, a frame)
            raise NeedsSharedProcess from None

    def decode(self, data: Any) -> Any:
        try:
            return super().decode(data)
        except (NotPlainData, RecursionError, TypeError, ValueError) as exc:
            raise CandidateGone(f"the candidate sent no plain data ({exc})") from None

    def lend(self, value: Any) -> dict[str, Any]:
        import builtins
        import types

        if isinstance(value, (types.ModuleType, types.FrameType, types.CodeType,
                              types.TracebackType)) \
                or any(value is getattr(builtins, name, None) for name in REACHING_BUILTINS):
            raise NotPlainData(f"a {type(value).__name__} is not lent")
        return super().lend(value)

    def resolve_name(self, target: dict[str, Any]) -> Any:
        raise NotPlainData("only lent objects can be named")

    def unsupported(self, what: str) -> BaseException:
        if self.called_candidate:
            return TypeError(f"{what} of an object of the candidate's process, after the "
                             "test called the candidate")
        return NeedsSharedProcess(what)

    def reduce(self, target: Any, protocol: Any) -> Any:
        raise TypeError("an object of the candidate's process is not copied or pickled here")

    def build_class(self, body: Any, name: str, bases: tuple[Any, ...],
                    keywords: dict[str, Any], test: str) -> Any:
        """A class of the test whose bases are the candidate's objects (an HTTP handler):
        defined in the candidate's process from the test's source of it, a handle here.
        Its methods run there, where the candidate can change them; the test's own
        assertions stay here. A class this cannot move (a prompt's, one with keywords, a
        base of the test's own) is :meth:`unsupported`."""
        import types

        source = _class_source(test, body.__code__, len(bases))
        if source is None or keywords or not all(
                type(base) is Handle and object.__getattribute__(base, "_peer") is self
                for base in bases):
            raise self.unsupported("a subclass")
        modules: dict[str, str] = {}
        values: dict[str, Any] = {}
        for free in _loaded_names(source):
            found = _value_seen_by(body, free)
            if isinstance(found, types.ModuleType):
                modules[free] = found.__name__
            elif found is not _NOT_FOUND:
                try:
                    values[free] = self.encode(found)
                except NotPlainData:
                    raise self.unsupported("a subclass") from None
        return self.ask("define", None, source=source, name=name, modules=modules,
                        values=values, bases=[self.encode(base) for base in bases])

    def answer(self, frame: dict[str, Any]) -> None:
        try:
            super().answer(frame)
        except (ChannelClosed, OSError) as exc:
            raise CandidateGone(f"the candidate's process ended ({exc})") from None

    def perform(self, op: str, frame: dict[str, Any]) -> dict[str, Any]:
        if op not in LENT_OPERATIONS:
            raise NotPlainData(f"the operation {op!r} on the test's objects")
        name = str(frame.get("name", ""))
        if op in ("getattr", "setattr") and (name.startswith("_") or name in FRAME_ATTRIBUTES):
            raise AttributeError(f"{name!r} of the test's objects is not lent")
        if op == "setattr" and callable(getattr(self.resolve(frame.get("target")), name, None)):
            # Its own code stays the test's: a method (or a function it keeps) replaced by
            # the candidate's would answer the test's own checks.
            raise AttributeError(f"the method {name!r} of the test's object is not replaced")
        if op == "reduce" and _reduced_by_default(self.resolve(frame.get("target"))):
            # The default reduction hands over the whole state, private attributes too.
            raise TypeError("the test's object has no reduction of its own")
        return super().perform(op, frame)


def _apply_changes(after: Any, args: tuple[Any, ...] | list[Any], kwargs: dict[str, Any],
                   peer: Peer | None = None) -> None:
    """Make the test's own arguments what the call left them: plain values written into the
    test's list, dict, set or bytearray objects (of the same type only), so the test sees
    an in-place change and still compares only exact built-in values, here."""
    try:
        if not isinstance(after, dict) or "unserialisable" in after:
            raise NotPlainData(str(after.get("unserialisable") if isinstance(after, dict)
                                   else "malformed"))
        pairs = [*zip(args, after["args"], strict=True),
                 *((kwargs[k], v) for k, v in after["kwargs"].items() if k in kwargs)]
        for mine, theirs in pairs:
            _write_into(mine, decode(theirs, peer))
    except (NotPlainData, KeyError, TypeError, ValueError, RecursionError) as exc:
        raise CandidateGone(f"the candidate sent no plain data ({exc})") from None


def _write_into(target: Any, value: Any) -> None:
    kind = type(target)
    if kind is list and type(value) is list:
        target[:] = value
    elif (kind is dict and type(value) is dict) or (kind is set and type(value) is set):
        target.clear()
        target.update(value)
    elif kind is bytearray and type(value) is bytes:
        target[:] = value


def _where(exc: BaseException, test: str) -> str:
    import traceback

    lines = test.splitlines()
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "test.py"]
    if frames and frames[-1].lineno and 0 < frames[-1].lineno <= len(lines):
        return lines[frames[-1].lineno - 1].strip()
    return ""


def _free_names(test: str) -> set[str]:
    import ast
    import builtins

    tree = ast.parse(test)
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Load)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
             and isinstance(n.ctx, (ast.Store, ast.Del))}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return loaded - bound - set(dir(builtins))


def _class_source(test: str, body: Any, bases: int) -> str | None:
    """The test's statement of the class whose body is ``body`` (a code object), its bases
    named as ``define`` names them, without its decorators (the test applies them to what
    comes back); None for a class that is not the test's own (the prompt's)."""
    import ast

    if body.co_filename != "test.py":
        return None
    for node in ast.walk(ast.parse(test)):
        if isinstance(node, ast.ClassDef) and node.name == body.co_name \
                and min([node.lineno, *(d.lineno for d in node.decorator_list)]) \
                == body.co_firstlineno:
            node.bases = [ast.Name(f"{BASE_NAME}{number}", ast.Load()) for number in range(bases)]
            node.keywords, node.decorator_list = [], []
            return ast.unparse(node)
    return None


def _loaded_names(source: str) -> set[str]:
    import ast

    return {node.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and not node.id.startswith(BASE_NAME)}


_NOT_FOUND = object()


def _value_seen_by(body: Any, name: str) -> Any:
    """What ``name`` is for a class body function: its enclosing function's variable, the
    test's global, or :data:`_NOT_FOUND` (a built-in, or a name bound in the class)."""
    code = body.__code__
    if name in code.co_freevars:
        try:
            return body.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:  # a variable not bound yet
            return _NOT_FOUND
    return body.__globals__.get(name, _NOT_FOUND)


def _reduced_by_default(value: Any) -> bool:
    kind = type(value)
    return kind.__reduce_ex__ is object.__reduce_ex__ and kind.__reduce__ is object.__reduce__


def _test_builtins(peer: TrustedPeer, test: str) -> dict[str, Any]:
    """The built-ins the test runs with: its imports of modules with state (io, os,
    tempfile, sqlite3, pandas...) and its ``open`` and ``input`` are the candidate's,
    through handles, so the files, streams and objects it makes are where the candidate
    works; only :data:`OWN_MODULES` are imported here. A class it bases on a class of
    the candidate's is made there (:meth:`TrustedPeer.build_class`)."""
    import builtins
    import re

    own = OWN_MODULES - ({"random"} if re.search(r"\bseed\s*\(", test) else set())

    def importer(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                 level: int = 0) -> Any:
        if level == 0 and name.partition(".")[0] in own:
            return builtins.__import__(name, globals, locals, fromlist, level)
        return peer.ask("import", None, name=name, fromlist=list(fromlist or ()))

    def build_class(body: Any, name: str, *bases: Any, **keywords: Any) -> Any:
        if any(type(base) is Handle for base in bases):
            return peer.build_class(body, name, bases, keywords, test)
        return builtins.__build_class__(body, name, *bases, **keywords)

    table = dict(vars(builtins))
    table["__import__"] = importer
    table["__build_class__"] = build_class
    for name in STATEFUL_BUILTINS:
        table[name] = Handle(peer, {"builtin": name})
    return table


def check(job: dict[str, Any], peer: TrustedPeer) -> dict[str, Any]:
    """Run ``job["check"](candidate)`` of ``job["test"]`` here, against handles to the
    candidate's functions and to the modules with state the test imports.

    The prompt runs first (it is part of the task, so helpers the test uses, such as
    HumanEval's ``poly``, come from the task and not from the candidate); every other
    name the test uses but does not define is the candidate's, through a handle.
    """
    import contextlib  # the trusted end: imports are cheap here

    test = job["test"]
    namespace: dict[str, Any] = {"__name__": "__franc_check__",
                                 "__builtins__": _test_builtins(peer, test)}
    try:
        with contextlib.suppress(Exception):  # an unfinished prompt defines what it can
            exec(compile(job["prompt"], "prompt.py", "exec"), namespace)
        for name in _free_names(test) - (set(namespace) - {job["entry"]}):
            namespace[name] = Handle(peer, {"name": name})
        namespace[job["entry"]] = Handle(peer, {"name": job["entry"]})
        exec(compile(test, "test.py", "exec"), namespace)
        namespace[job["check"]](namespace[job["entry"]])
    except CandidateGone as exc:
        return {"status": "gone", "message": str(exc)}
    except NeedsSharedProcess:
        return {"status": "shared"}
    except CandidateExit as exc:
        return {"status": "exit", "message": str(exc)}
    except BaseException as exc:
        return {"status": "raised", **_error(exc), "where": _where(exc, test)}
    return {"status": "passed"}


def receive_exactly(sock: Any, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ChannelClosed("the other side closed the socket")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def checker_loop() -> None:
    """A warm trusted checker: stdin is a Unix socket to FRANC, which sends each job (a
    length header carrying the channel's two descriptors, then the job's JSON) and reads
    the verdict back (length + JSON). Each job gets a fresh namespace."""
    import socket

    sock = socket.socket(fileno=os.dup(0))
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the tests' prints
    while True:
        header, fds, _, _ = socket.recv_fds(sock, HEADER.size, 2)
        if len(header) < HEADER.size or len(fds) != 2:
            return
        (size,) = HEADER.unpack(header)
        job = json.loads(receive_exactly(sock, size))
        try:
            verdict = check(job, TrustedPeer(fds[0], fds[1]))
        finally:
            for fd in fds:
                os.close(fd)
        data = json.dumps(verdict).encode("utf-8", "surrogatepass")
        sock.sendall(HEADER.pack(len(data)) + data)


def _main() -> None:
    if sys.argv[1] == "serve":
        serve(sys.argv[2], json.loads(sys.argv[3]))
    else:
        checker_loop()


if __name__ == "__main__":
    _main()
