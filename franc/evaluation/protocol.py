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
  task's ``check(candidate)`` with ``candidate`` replaced by :class:`Proxy`, which
  forwards each call's plain-data arguments to ``serve`` and returns the decoded
  plain-data result; the verdict goes to a file only the parent reads.
* a client library for the FRANC parent (:class:`Channel`, :func:`encode`, :func:`decode`).

Framing: a 4-byte big-endian length, then UTF-8 JSON. Each request carries a fresh
random id that the answer must echo: a candidate can write to the channel (it shares
the process with ``serve``), but it only learns an id when the call reaches it, and
then all it can do is answer that call, which it may do anyway by returning a value.
Frames with another id, malformed frames and oversized frames end the session.

Plain data (the JSON dialect shared with Java's ``franc.FrancPlain``): null, booleans,
integers, floats (``NaN``/``Infinity`` allowed), strings and lists are JSON; every
other value is an object ``{"$": tag, "v": ...}``: ``tuple``, ``set``, ``frozenset``,
``dict`` (a list of ``[key, value]`` pairs), ``bytes`` (latin-1 text), ``iterator``
(the items a generator or iterator yielded), ``complex``, ``Decimal``, ``Fraction`` and
the ``datetime`` module's ``datetime``, ``date``, ``time`` and ``timedelta`` (their ISO text
or fields); Java adds ``long``, ``short``, ``byte``,
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


class ChannelClosed(Exception):
    """The other side closed the channel, broke the framing or answered another call."""


class NotPlainData(Exception):
    """A value that has no plain-data form."""


# --- plain data -------------------------------------------------------------------------


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as plain JSON-ready data; raises :class:`NotPlainData`."""
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
        return [encode(item, depth + 1) for item in value]
    if kind is tuple:
        return {"$": "tuple", "v": [encode(item, depth + 1) for item in value]}
    if kind in (set, frozenset):
        return {"$": kind.__name__, "v": [encode(item, depth + 1) for item in value]}
    if kind is dict:
        return {"$": "dict", "v": [[encode(k, depth + 1), encode(v, depth + 1)]
                                   for k, v in value.items()]}
    if kind in (bytes, bytearray):
        return {"$": "bytes", "v": bytes(value).decode("latin-1")}
    if kind is complex:
        return {"$": "complex", "v": [value.real, value.imag]}
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


def _encode_other(value: Any, depth: int) -> Any:
    """Subclasses of built-in types become the base type; iterators their items; numpy
    and pandas values their ``tolist()`` / numbers."""
    import numbers

    standard = _encode_standard(value)
    if standard is not None:
        return standard
    module = type(value).__module__.split(".")[0]
    if module in ("numpy", "pandas") and callable(getattr(value, "tolist", None)):
        return encode(value.tolist(), depth + 1)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return encode(int(value), depth)
    if isinstance(value, numbers.Real):
        return encode(float(value), depth)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return encode(dict(dict.items(value)), depth)
    for base in (list, tuple, set, frozenset, bytes):
        if isinstance(value, base):
            # The base type's own iteration: a subclass's __iter__ is not consulted.
            iterate: Any = base.__iter__
            return encode(base(iterate(value)), depth)
    if hasattr(type(value), "__next__") and hasattr(type(value), "__iter__"):
        items = []
        for item in value:
            items.append(encode(item, depth + 1))
            if len(items) > MAX_ITERATOR_ITEMS:
                raise NotPlainData("an iterator with too many items")
        return {"$": "iterator", "v": items}
    raise NotPlainData(f"a {type(value).__module__}.{type(value).__qualname__}")


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


def decode(data: Any) -> Any:
    """Plain data back to exact built-in values (the inverse of :func:`encode`)."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if type(data) is list:
        return [decode(item) for item in data]
    if type(data) is not dict or "$" not in data:
        raise NotPlainData("not plain data")
    tag, payload = data["$"], data.get("v")
    if tag in _NUMBER_TAGS:
        return _NUMBER_TAGS[tag](payload)
    if tag == "bytes":
        return str(payload).encode("latin-1")
    if tag in _STANDARD_DECODERS:
        return _STANDARD_DECODERS[tag](payload)
    if type(payload) is not list:
        raise NotPlainData(f"malformed {tag}")
    if tag == "tuple":
        return tuple(decode(item) for item in payload)
    if tag == "set":
        return {decode(item) for item in payload}
    if tag == "frozenset":
        return frozenset(decode(item) for item in payload)
    if tag == "iterator":
        return iter([decode(item) for item in payload])
    if tag == "dict":
        return {decode(key): decode(value) for key, value in payload}
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


def call_message(name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request calling ``name``; raises :class:`NotPlainData` for other arguments."""
    return {"call": name, "args": [encode(a) for a in args],
            "kwargs": {k: encode(v) for k, v in kwargs.items()}}


# --- serve: the sandboxed end -------------------------------------------------------------


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)[:MESSAGE_CHARS]}


def _answer(function: Any, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        result = function(*args, **kwargs)
    except BaseException as exc:
        return {"raised": _error(exc)}
    try:
        return {"value": encode(result)}
    except NotPlainData as exc:
        return {"unserialisable": str(exc)}
    except BaseException as exc:
        return {"unserialisable": f"{type(result).__name__} ({type(exc).__name__})"}


def _arguments_after(message: dict[str, Any], args: list[Any],
                     kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments' plain values after the call when it changed them in place (a list
    sorted, a dict filled), for the trusted side to apply to its own objects; else None."""
    try:
        after = {"args": [encode(a) for a in args],
                 "kwargs": {k: encode(v) for k, v in kwargs.items()}}
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
    while True:
        try:
            message = read_frame(request_fd)
        except ChannelClosed:
            return
        if load_error is not None:
            answer: dict[str, Any] = {"raised": load_error, "at_load": True}
        elif "test" in message:
            answer = _run_test(namespace, message)
        else:
            function = namespace.get(str(message.get("call")))
            try:
                args = [decode(a) for a in message.get("args", [])]
                kwargs = {k: decode(v) for k, v in message.get("kwargs", {}).items()}
            except NotPlainData as exc:
                answer = {"raised": _error(exc)}
            else:
                answer = ({"raised": {"type": "NameError",
                                      "message": f"name {message.get('call')!r} is not defined"}}
                          if function is None else _answer(function, args, kwargs))
                changed = _arguments_after(message, args, kwargs)
                if changed is not None:
                    answer["arguments_after"] = changed
        answer["id"] = message.get("id")
        try:
            write_frame(answer_fd, answer)
        except (ValueError, TypeError, OverflowError) as exc:
            write_frame(answer_fd, {"id": message.get("id"), "unserialisable": str(exc)})


# --- check: the trusted end that runs the test's assertions -------------------------------


class CandidateError(Exception):
    """The candidate raised an exception that is not a built-in one (type name kept)."""


class CandidateGone(Exception):
    """The candidate's process ended or broke the channel."""


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
    if isinstance(builtin, type) and issubclass(builtin, Exception) \
            and not issubclass(builtin, (OSError, UnicodeError)):
        try:
            return builtin(message)
        except Exception:
            pass
    return CandidateError(f"{name}: {message}")


class Proxy:
    """Stands for one function of the candidate's program in the trusted process."""

    def __init__(self, channel: Channel, name: str):
        self.channel, self.name = channel, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            answer = self.channel.call(self.name, list(args), kwargs)
        except NotPlainData:
            raise NeedsSharedProcess from None
        except (ChannelClosed, OSError) as exc:
            raise CandidateGone(f"the candidate's process ended ({exc})") from None
        if "arguments_after" in answer:
            _apply_changes(answer["arguments_after"], args, kwargs)
        if "value" in answer:
            try:
                return decode(answer["value"])
            except (NotPlainData, RecursionError, TypeError, ValueError) as exc:
                raise CandidateGone(f"the candidate sent no plain data ({exc})") from None
        if "raised" in answer:
            raise raised_exception(answer["raised"])
        return Unserialisable(str(answer.get("unserialisable")))


def _apply_changes(after: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
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
            _write_into(mine, decode(theirs))
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


def check(job: dict[str, Any], channel: Channel) -> dict[str, Any]:
    """Run ``job["check"](candidate)`` of ``job["test"]`` against the proxied candidate.

    The prompt runs first (it is part of the task, so helpers the test uses, such as
    HumanEval's ``poly``, come from the task and not from the candidate); every other
    name the test uses but does not define is the candidate's, through a proxy.
    """
    namespace: dict[str, Any] = {"__name__": "__franc_check__"}
    import contextlib  # the trusted end: imports are cheap here

    with contextlib.suppress(Exception):  # an unfinished prompt defines what it can
        exec(compile(job["prompt"], "prompt.py", "exec"), namespace)
    for name in _free_names(job["test"]) - (set(namespace) - {job["entry"]}):
        namespace[name] = Proxy(channel, name)
    namespace[job["entry"]] = Proxy(channel, job["entry"])
    test = job["test"]
    try:
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
            verdict = check(job, Channel(fds[0], fds[1]))
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
