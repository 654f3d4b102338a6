"""Static checks of dialplan/extensions_hotline.conf against Asterisk 22's syntax and our variable contract.

Asterisk cannot run here, so a small parser of extensions.conf (contexts, `exten => pattern,priority(label),
App(args)`, `same => n(label),...`, `include =>`, `;` and `;-- --;` comments) builds the dialplan, and the
tests walk it the way Asterisk would: every Goto/GotoIf/Gosub/U()/hang-up handler target exists, every
application is a real Asterisk 22 one, `${...}` and `$[...]` are balanced, every HOTLINE_* name is the
contract's (callcenter/asterisk/variables.py) or a setting of globals_hotline.conf, and the order of the
things that must happen in order (hang-up handler before route_call, ok marker before recording, notice
before recording) holds on every path.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from callcenter.asterisk import variables as v

REPO = Path(__file__).resolve().parents[2]
DIALPLAN = REPO / "dialplan"
EXTENSIONS = DIALPLAN / "extensions_hotline.conf"
GLOBALS = DIALPLAN / "globals_hotline.conf"
PJSIP = DIALPLAN / "pjsip_hotline.conf"
PROMPTS = DIALPLAN / "prompts.tsv"

# Dialplan applications of Asterisk 22 that this dialplan may use (all in core modules: pbx builtins,
# app_dial, app_stack, app_exec, app_mixmonitor, app_record, app_read, app_playback, res_agi...).
ASTERISK_22_APPS = frozenset(
    {
        "AGI",
        "Answer",
        "BackGround",
        "Busy",
        "Congestion",
        "Dial",
        "ExecIf",
        "Gosub",
        "GosubIf",
        "Goto",
        "GotoIf",
        "Hangup",
        "Log",
        "MSet",
        "MixMonitor",
        "NoOp",
        "Playback",
        "Progress",
        "Read",
        "Record",
        "Return",
        "Ringing",
        "Set",
        "Stasis",  # app_stasis (res_stasis): hands the channel to an ARI application
        "StopMixMonitor",
        "Verbose",
        "Wait",
    }
)


# --- a small extensions.conf parser --------------------------------------------------------------------


@dataclass
class Priority:
    context: str
    exten: str
    number: int
    label: str | None
    app: str
    args: str
    line: int

    def __str__(self) -> str:
        return f"{self.context},{self.exten},{self.number} (line {self.line}): {self.app}({self.args})"


@dataclass
class Context:
    name: str
    extensions: dict[str, list[Priority]] = field(default_factory=dict)
    includes: list[str] = field(default_factory=list)


@dataclass
class Dialplan:
    contexts: dict[str, Context]

    def priorities(self) -> Iterator[Priority]:
        for context in self.contexts.values():
            for prios in context.extensions.values():
                yield from prios


_EXTEN = re.compile(r"^exten\s*=>?\s*(?P<exten>[^,]+),\s*(?P<prio>[^,]+?),\s*(?P<app>.*)$", re.IGNORECASE)
_SAME = re.compile(r"^same\s*=>?\s*(?P<prio>[^,]+?),\s*(?P<app>.*)$", re.IGNORECASE)
_INCLUDE = re.compile(r"^include\s*=>?\s*(?P<context>\S+)$", re.IGNORECASE)
_PRIO = re.compile(r"^(?P<n>\d+|n)(?:\((?P<label>[A-Za-z0-9_-]+)\))?$")
_APP = re.compile(r"^(?P<app>[A-Za-z][A-Za-z0-9_]*)\s*(?:\((?P<args>.*)\))?$")


def strip_comments(text: str) -> list[tuple[int, str]]:
    """Lines without comments: `;` to end of line (not `\\;`), and `;-- ... --;` blocks."""
    text = re.sub(r";--.*?--;", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.DOTALL)
    out = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(?<!\\);.*$", "", raw).strip()
        if line:
            out.append((number, line))
    return out


def parse_extensions(text: str) -> Dialplan:
    contexts: dict[str, Context] = {}
    current: Context | None = None
    last: tuple[str, int] | None = None  # (exten, priority) of the previous line, for `n` and `same`
    for number, line in strip_comments(text):
        if line.startswith("#"):
            continue  # #include / #exec: not used inside the hotline file
        if header := re.fullmatch(r"\[(?P<name>[^\]]+)\](?:\((?P<opts>[^)]*)\))?", line):
            name = header.group("name")
            current = contexts.setdefault(name, Context(name))
            last = None
            continue
        assert current is not None, f"line {number}: statement outside a context: {line}"
        if inc := _INCLUDE.match(line):
            current.includes.append(inc.group("context"))
            continue
        if ext := _EXTEN.match(line):
            exten, prio_text, app_text = ext.group("exten").strip(), ext.group("prio"), ext.group("app")
        elif same := _SAME.match(line):
            assert last is not None, f"line {number}: 'same =>' with no extension before it"
            exten, prio_text, app_text = last[0], same.group("prio"), same.group("app")
        else:
            raise AssertionError(f"line {number}: not extensions.conf syntax: {line}")
        prio = _PRIO.match(prio_text.strip())
        assert prio, f"line {number}: bad priority {prio_text!r}"
        if prio.group("n") == "n":
            assert last is not None and last[0] == exten, f"line {number}: priority n without a previous one"
            value = last[1] + 1
        else:
            value = int(prio.group("n"))
        app = _APP.match(app_text.strip())
        assert app, f"line {number}: bad application call {app_text!r}"
        prios = current.extensions.setdefault(exten, [])
        assert all(p.number != value for p in prios), f"line {number}: priority {value} of {exten} twice"
        label = prio.group("label")
        assert label is None or all(p.label != label for p in prios), f"line {number}: label {label} twice"
        prios.append(
            Priority(current.name, exten, value, label, app.group("app"), app.group("args") or "", number)
        )
        last = (exten, value)
    return Dialplan(contexts)


def split_top(text: str, separators: str) -> list[str]:
    """Split on separator characters outside ${...}, $[...], (...) and [...] (like Asterisk's arg parser)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch in separators and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def condition_and_branches(args: str) -> tuple[str, str]:
    """GotoIf/ExecIf arguments: the condition before the first top-level '?', and what follows it."""
    parts = split_top(args, "?")
    return parts[0], "?".join(parts[1:])


def unbalanced(text: str) -> str | None:
    """Check ${...}, $[...] and (...) nesting; returns a description of the first problem, or None."""
    closing = {"{": "}", "[": "]", "(": ")"}
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "$" and i + 1 < len(text) and text[i + 1] in "{[":
            stack.append(closing[text[i + 1]])
            i += 2
            continue
        if ch in "([":
            stack.append(closing[ch])
        elif ch == "{":
            return f"bare '{{' at {i}"
        elif ch in ")]}" and (not stack or stack.pop() != ch):
            return f"unexpected {ch!r} at {i}"
        i += 1
    return f"unclosed {''.join(reversed(stack))!r}" if stack else None


def pattern_matches(pattern: str, exten: str) -> bool:
    """Asterisk extension matching: literal, or _ pattern with X Z N [..] . !"""
    if not pattern.startswith("_"):
        return pattern == exten
    regex, i, body = "", 0, pattern[1:]
    while i < len(body):
        ch = body[i]
        if ch == "X":
            regex += "[0-9]"
        elif ch == "Z":
            regex += "[1-9]"
        elif ch == "N":
            regex += "[2-9]"
        elif ch == ".":
            regex += ".+"
        elif ch == "!":
            regex += ".*"
        elif ch == "[":
            end = body.index("]", i)
            regex += "[" + body[i + 1 : end] + "]"
            i = end
        else:
            regex += re.escape(ch)
        i += 1
    return re.fullmatch(regex, exten) is not None


# --- resolving targets -----------------------------------------------------------------------------------


Node = tuple[str, str, int]  # context, extension, priority number


class Resolver:
    def __init__(self, dialplan: Dialplan) -> None:
        self.dp = dialplan

    def extensions_for(self, context: str, exten: str) -> list[str]:
        """Extensions of `context` (or its includes) that `exten` can run; a ${...} matches any pattern."""
        ctx = self.dp.contexts.get(context)
        if ctx is None:
            return []
        if "${" in exten:
            found = [e for e in ctx.extensions if e.startswith("_")]
        elif exten in ctx.extensions:
            found = [exten]
        else:
            found = [e for e in ctx.extensions if pattern_matches(e, exten)]
        for inc in ctx.includes:
            found += self.extensions_for(inc, exten) if not found else []
        return found

    def node(self, context: str, exten: str, prio: str) -> Node | None:
        ctx = self.dp.contexts.get(context)
        if ctx is None or exten not in ctx.extensions:
            return None
        prios = ctx.extensions[exten]
        for p in prios:
            if (prio.isdigit() and p.number == int(prio)) or p.label == prio:
                return (context, exten, p.number)
        return None

    def goto(self, here: Priority, spec: str) -> list[Node]:
        """Targets of a Goto-style spec ([[context,]exten,]priority|label) from `here`; [] if none exists."""
        parts = [p.strip() for p in split_top(spec, ",")]
        if len(parts) == 1:
            context, extens, prio = here.context, [here.exten], parts[0]
        elif len(parts) == 2:
            context, prio = here.context, parts[1]
            extens = self.extensions_for(context, parts[0])
        elif len(parts) == 3:
            context, prio = parts[0], parts[2]
            extens = self.extensions_for(context, parts[1])
        else:
            return []
        prio = re.sub(r"\(.*\)$", "", prio)  # Gosub arguments: priority(arg1,arg2)
        nodes = [self.node(context, e, prio) for e in extens]
        return [n for n in nodes if n is not None]

    def priority(self, node: Node) -> Priority:
        context, exten, number = node
        return next(p for p in self.dp.contexts[context].extensions[exten] if p.number == number)

    def next(self, node: Node) -> Node | None:
        context, exten, number = node
        return self.node(context, exten, str(number + 1))

    def successors(self, node: Node) -> list[Node]:
        """Where the caller's channel goes after this priority (Gosub into U() runs on another channel)."""
        p = self.priority(node)
        after = self.next(node)
        if p.app in ("Hangup", "Return"):
            return []
        if p.app == "Goto":
            return self.goto(p, p.args)
        if p.app == "GotoIf":
            _cond, branches = condition_and_branches(p.args)
            true, false = [*split_top(branches, ":"), ""][:2]
            out: list[Node] = []
            for branch in (true, false):
                if branch.strip():
                    out += self.goto(p, branch)
                elif after is not None:
                    out.append(after)
            return out
        return [after] if after is not None else []


def reachable_before(
    resolver: Resolver, start: Node, barrier: Callable[[Priority], bool], goal: Callable[[Priority], bool]
) -> list[Priority]:
    """Priorities matching `goal` that some path from `start` reaches without passing a `barrier` priority."""
    seen: set[Node] = set()
    queue: deque[Node] = deque([start])
    hits: list[Priority] = []
    while queue:
        node = queue.popleft()
        if node in seen:
            continue
        seen.add(node)
        p = resolver.priority(node)
        if barrier(p):
            continue
        if goal(p):
            hits.append(p)
        queue.extend(resolver.successors(node))
    return hits


def reachable(resolver: Resolver, start: Node, goal: Callable[[Priority], bool]) -> list[Priority]:
    return reachable_before(resolver, start, lambda _p: False, goal)


# --- fixtures ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text() -> str:
    return EXTENSIONS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def dialplan(text: str) -> Dialplan:
    return parse_extensions(text)


@pytest.fixture(scope="module")
def resolver(dialplan: Dialplan) -> Resolver:
    return Resolver(dialplan)


@pytest.fixture(scope="module")
def entry(resolver: Resolver) -> Node:
    node = resolver.node("hotline-in", "_X.", "1")
    assert node is not None, "[hotline-in] has no _X.,1"
    return node


@pytest.fixture(scope="module")
def hotline_globals() -> dict[str, str]:
    values = {}
    for _number, line in strip_comments(GLOBALS.read_text(encoding="utf-8")):
        assert not line.startswith("["), "globals_hotline.conf must not open a section (it is #included)"
        name, sep, value = line.partition("=")
        assert sep, f"not NAME=value: {line}"
        values[name.strip()] = value.strip()
    return values


def all_app_calls(dialplan: Dialplan) -> Iterator[tuple[Priority, str, str]]:
    """Every application call, also those nested in ExecIf(cond?App(args))."""
    for p in dialplan.priorities():
        yield p, p.app, p.args
        if p.app == "ExecIf":
            _cond, inner = condition_and_branches(p.args)
            for part in split_top(inner, ":"):
                m = _APP.match(part.strip())
                if m:
                    yield p, m.group("app"), m.group("args") or ""


def is_route_call(p: Priority) -> bool:
    return p.app == "AGI" and p.args.endswith("/" + v.ROUTE_CALL)


def is_push(p: Priority) -> bool:
    return p.app == "Set" and p.args.startswith("CHANNEL(hangup_handler_push)=")


def checks_route_ok(p: Priority) -> bool:
    return p.app == "GotoIf" and "${" + v.ROUTE_OK + "}" in condition_and_branches(p.args)[0]


def plays(prompt: str) -> Callable[[Priority], bool]:
    return lambda p: p.app in ("Playback", "BackGround") and split_top(p.args, ",")[0] == prompt


# --- the parser itself ------------------------------------------------------------------------------------


def test_parser_reads_the_trial_dialplan_syntax() -> None:
    sample = """
    [ctx] ; comment
    exten => _X.,1,NoOp(a, b) ; trailing
     same => n(next),GotoIf($["${X}" = "1"]?other,1:next)
     same => n,Dial(PJSIP/bob,${IF($["${T}" = ""]?20:${T})},U(sub^BUSY))
    ;-- block
    comment --;
    exten => other,1,Hangup()
    include => ctx2
    [ctx2]
    exten => s,1,Return()
    """
    dp = parse_extensions(sample)
    prios = dp.contexts["ctx"].extensions["_X."]
    assert [(p.number, p.label, p.app) for p in prios] == [
        (1, None, "NoOp"),
        (2, "next", "GotoIf"),
        (3, None, "Dial"),
    ]
    assert dp.contexts["ctx"].includes == ["ctx2"]
    assert unbalanced(prios[2].args) is None
    assert unbalanced("${A") is not None and unbalanced("$[1 + 2)") is not None
    assert pattern_matches("_X.", "19009095") and not pattern_matches("_X.", "fallback")
    assert pattern_matches("_+X.", "+8419009095") and not pattern_matches("_X.", "1")


# --- structure and syntax ---------------------------------------------------------------------------------


def test_contexts_exist(dialplan: Dialplan) -> None:
    for name in ("hotline-trunk-in", "hotline-in", "hotline-confirm", "hotline-hangup", v.ARI_LEG_CONTEXT):
        assert name in dialplan.contexts, f"missing [{name}]"
    assert "globals" not in dialplan.contexts, "settings belong in globals_hotline.conf, not a [globals] here"


def test_every_application_is_a_real_asterisk_22_application(dialplan: Dialplan) -> None:
    for p, app, _args in all_app_calls(dialplan):
        assert app in ASTERISK_22_APPS, f"{p}: {app} is not an Asterisk 22 application we know"


def test_expressions_are_balanced(dialplan: Dialplan) -> None:
    for p in dialplan.priorities():
        problem = unbalanced(p.args)
        assert problem is None, f"{p}: {problem}"


def test_every_goto_target_exists(dialplan: Dialplan, resolver: Resolver) -> None:
    checked = 0
    for p, app, args in all_app_calls(dialplan):
        specs: list[str] = []
        if app in ("Goto", "Gosub"):
            specs = [args]
        elif app in ("GotoIf", "GosubIf"):
            _cond, branches = condition_and_branches(args)
            specs = [b for b in split_top(branches, ":") if b.strip()]
        for spec in specs:
            assert resolver.goto(p, spec), f"{p}: target {spec!r} does not exist"
            checked += 1
    assert checked >= 10


def test_gosub_targets_of_dial_and_the_hangup_handler_exist(dialplan: Dialplan, resolver: Resolver) -> None:
    dials = [p for p in dialplan.priorities() if p.app == "Dial"]
    assert dials
    for p in dials:
        options = split_top(p.args, ",")[2]
        sub = re.search(r"U\((?P<context>[^^)]+)(?:\^(?P<args>[^)]*))?\)", options)
        assert sub, f"{p}: Dial without the U() confirm routine"
        assert resolver.node(sub.group("context"), "s", "1"), f"{p}: no {sub.group('context')},s,1"
        # CONTINUE would leave DIALSTATUS=ANSWER for a refusal (capture 5a): BUSY is what tells them apart.
        assert sub.group("args") == "BUSY", f"{p}: the refusal must be GOSUB_RESULT=BUSY"
    pushes = [p for p in dialplan.priorities() if is_push(p)]
    assert len(pushes) == 1
    context, exten, prio = pushes[0].args.partition("=")[2].split(",")
    node = resolver.node(context, exten, prio)
    assert node is not None, f"hang-up handler {context},{exten},{prio} does not exist"
    # call_ended is the first AGI of the handler, after nothing but plain Set()s (the hang-up's time stamp).
    handler = list(reachable(resolver, node, lambda p: True))
    agi = next(p for p in handler if p.app == "AGI")
    assert agi.args == "${HOTLINE_AGI_URL}/" + v.CALL_ENDED
    assert all(p.app == "Set" for p in handler[: handler.index(agi)]), "only stamps may run before call_ended"
    assert any(p.app == "Return" for p in handler), "handler must Return()"


def test_trunk_entry_reaches_the_hotline(dialplan: Dialplan, resolver: Resolver) -> None:
    trunk = dialplan.contexts["hotline-trunk-in"]
    assert "_X." in trunk.extensions, "any dialled number must be accepted"
    for exten, prios in trunk.extensions.items():
        targets = resolver.successors((trunk.name, exten, prios[0].number))
        assert targets and all(t[0] == "hotline-in" for t in targets), f"{exten} must go to [hotline-in]"


# --- the contract with callcenter/asterisk/variables.py --------------------------------------------------


def contract() -> tuple[set[str], dict[str, Callable[[int], str]]]:
    scalars = {
        value for name, value in vars(v).items() if isinstance(value, str) and value.startswith("HOTLINE_")
    }
    makers: tuple[Callable[[int], str], ...] = (v.target, v.ring_timeout, v.tier, v.result, v.ring_ms)
    families = {f(1).removesuffix("1"): f for f in makers}
    return scalars, families


_NAME = re.compile(r"HOTLINE_[A-Z0-9_]*")
_SET = re.compile(r"\bSet\((?P<name>(?:[^=$()]|\$\{[^}]*\})+)=")


def hotline_names(text: str) -> set[str]:
    """HOTLINE_* names in a text; a family member with a computed index comes out as its prefix + '*'."""
    names = set()
    for m in _NAME.finditer(text):
        name = m.group(0)
        if name.endswith("_") and text.startswith("${", m.end()):
            name += "*"
        names.add(name)
    return names


def family_of(name: str, families: dict[str, Callable[[int], str]]) -> str | None:
    for prefix in families:
        if name == prefix + "*" or (name.startswith(prefix) and name[len(prefix) :].isdigit()):
            return prefix
    return None


def test_every_hotline_name_is_in_the_contract_or_a_setting(
    dialplan: Dialplan, hotline_globals: dict[str, str]
) -> None:
    scalars, families = contract()
    # HOTLINE_ARI_APP is the one deliberate overlap: a global default the leg's own variable may shadow.
    clash = set(hotline_globals) & scalars - {v.ARI_APP}
    assert not clash, f"settings must not reuse contract names: {clash}"
    used = set()
    for p in dialplan.priorities():
        used |= hotline_names(p.args)
    for name in sorted(used):
        known = name in scalars or name in hotline_globals or family_of(name, families) is not None
        assert known, f"{name} is neither in callcenter/asterisk/variables.py nor in globals_hotline.conf"
    unused = set(hotline_globals) - used
    assert not unused, f"settings defined but never used: {unused}"


def test_every_route_call_variable_is_used(dialplan: Dialplan) -> None:
    _scalars, families = contract()
    used: set[str] = set()
    for p in dialplan.priorities():
        used |= hotline_names(p.args)
    for name in (v.CALL_ID, v.TICKET_REF, v.FACILITY_CODE, v.RECORDING, v.TARGET_COUNT, v.VOICEMAIL_PROMPT):
        assert name in used, f"route_call sets {name} but the dialplan never uses it"
    assert v.ROUTE_OK in used and v.AGI_FAILURE in used
    used_families = {family_of(n, families) for n in used}
    for f in (v.target, v.ring_timeout, v.tier):
        assert f(1).removesuffix("1") in used_families, f"{f(1)} family unused"
    # The ring timeout of the CURRENT target reaches Dial.
    dial = next(p for p in dialplan.priorities() if p.app == "Dial" and p.context == "hotline-in")
    assert "${HOTLINE_TARGET_${HOTLINE_IDX}}" in dial.args
    assert "HOTLINE_RING_TIMEOUT_${HOTLINE_IDX}" in dial.args


def test_the_dialplan_sets_what_call_ended_reads(dialplan: Dialplan) -> None:
    sets = {
        m.group("name")
        for _p, app, args in all_app_calls(dialplan)
        if app == "Set"
        for m in [_SET.match("Set(" + args)]
        if m
    }
    assert v.TARGET_INDEX in sets
    assert v.result(1).removesuffix("1") + "${" + v.TARGET_INDEX + "}" in sets
    assert v.VOICEMAIL_FILE in sets
    assert v.RECORDING in sets, "the fallback path names its own recording"
    reads = " ".join(p.args for p in dialplan.priorities())
    assert "${" + v.VOICEMAIL_STATUS + "}" in reads, "RECORD_STATUS decides thanks vs sorry"
    result = next(p for p in dialplan.priorities() if p.app == "Set" and p.args.startswith("HOTLINE_RESULT_"))
    assert result.args.endswith("=${" + v.DIALSTATUS + "}")


# --- order: what must happen before what ------------------------------------------------------------------


def test_hangup_handler_is_pushed_before_route_call(resolver: Resolver, entry: Node) -> None:
    assert reachable(resolver, entry, is_route_call), "route_call is never run"
    early = reachable_before(resolver, entry, is_push, is_route_call)
    assert not early, f"route_call can run before the hang-up handler is pushed: {early}"


def test_route_ok_is_checked_before_mixmonitor(resolver: Resolver, entry: Node) -> None:
    is_mix = lambda p: p.app == "MixMonitor"  # noqa: E731
    assert reachable(resolver, entry, is_mix), "MixMonitor is never reached"
    early = reachable_before(resolver, entry, checks_route_ok, is_mix)
    assert not early, f"MixMonitor can start before HOTLINE_ROUTE_OK is checked: {early}"
    # ...and the check comes after route_call (a marker tested before the AGI would prove nothing).
    assert not reachable_before(resolver, entry, is_route_call, checks_route_ok)
    check = reachable(resolver, entry, checks_route_ok)[0]
    assert '!= "1"' in check.args or '= "1"' in check.args, "the marker's value is 1"


def test_fallback_plays_the_recording_notice_before_recording(resolver: Resolver, entry: Node) -> None:
    fallback = resolver.node("hotline-in", "fallback", "1")
    assert fallback is not None
    is_mix = lambda p: p.app == "MixMonitor"  # noqa: E731
    assert reachable(resolver, fallback, is_mix), "the fallback path records nothing"
    early = reachable_before(resolver, fallback, plays("hotline-welcome"), is_mix)
    assert not early, f"fallback records before the notice: {early}"
    # The fallback answers first (route_call may never have), and dials the fixed duty number.
    answers = reachable_before(resolver, fallback, plays("hotline-welcome"), lambda p: p.app == "Answer")
    assert answers, "fallback must Answer() before playing the notice"
    sets = [p.args for p in reachable(resolver, fallback, lambda p: p.app == "Set")]
    assert "HOTLINE_TARGET_1=${HOTLINE_FALLBACK_DIAL}" in sets
    assert "HOTLINE_RECORDING=hotline-${UNIQUEID}" in sets
    # Every way out of route_call without the marker leads to the fallback.
    check = reachable(resolver, entry, checks_route_ok)[0]
    assert fallback in resolver.goto(check, split_top(condition_and_branches(check.args)[1], ":")[0])


def test_target_index_is_set_before_every_dial(resolver: Resolver, entry: Node) -> None:
    is_dial = lambda p: p.app == "Dial"  # noqa: E731
    sets_idx = lambda p: p.app == "Set" and p.args.startswith(v.TARGET_INDEX + "=")  # noqa: E731
    assert reachable(resolver, entry, is_dial)
    assert not reachable_before(resolver, entry, sets_idx, is_dial)


def test_recording_files(dialplan: Dialplan) -> None:
    mixes = [p for p in dialplan.priorities() if p.app == "MixMonitor"]
    assert sorted(p.context for p in mixes) == sorted(["hotline-in", v.ARI_LEG_CONTEXT])
    base = "${HOTLINE_RECORDINGS_DIR}/${HOTLINE_RECORDING}"
    for mix in mixes:  # the legs we place record into the same three files as an incoming call
        assert mix.args == f"{base}.wav,r({base}-rx.wav)t({base}-tx.wav)", str(mix)
    (record,) = [p for p in dialplan.priorities() if p.app == "Record"]
    path, silence, maxlen, options = split_top(record.args, ",")
    assert path == "${HOTLINE_RECORDINGS_DIR}/${HOTLINE_VOICEMAIL_FILE}.wav"
    assert int(silence) > 0 and 0 < int(maxlen) <= 300
    assert "k" in options, "keep the message when the caller hangs up to end it"
    assert "q" not in options, "the caller needs the beep"


def test_confirm_routine(dialplan: Dialplan, resolver: Resolver) -> None:
    start = resolver.node("hotline-confirm", "s", "1")
    assert start is not None
    prios = dialplan.contexts["hotline-confirm"].extensions["s"]
    reads = [p for p in prios if p.app == "Read"]
    assert reads and split_top(reads[0].args, ",")[1] == "hotline-confirm"
    assert split_top(reads[0].args, ",")[2] == "1", "one digit"
    # The refusal is preset before the first Read: an officer hanging up mid-prompt must not become ANSWER.
    preset = reachable_before(
        resolver, start, lambda p: p.app == "Read", lambda p: p.args == "GOSUB_RESULT=${ARG1}"
    )
    assert preset, "GOSUB_RESULT must default to the refusal before Read()"
    assert any(p.app == "Set" and p.args.startswith("CHANNEL(language)=") for p in prios)
    assert all(p.app != "Hangup" for p in prios), "the routine returns; Dial decides"


# --- prompts ----------------------------------------------------------------------------------------------


def prompt_table() -> dict[str, str]:
    table = {}
    for line in PROMPTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, spoken = line.partition("\t")
        assert sep and spoken.strip(), f"prompts.tsv: not name<TAB>text: {line!r}"
        assert name not in table, f"prompts.tsv: {name} twice"
        table[name] = spoken
    return table


def test_prompts_used_by_the_dialplan_exist(dialplan: Dialplan) -> None:
    table = prompt_table()
    used = set()
    for _p, app, args in all_app_calls(dialplan):
        parts = split_top(args, ",")
        if app in ("Playback", "BackGround"):
            used.add(parts[0])
        elif app == "Read" and len(parts) > 1:
            used.add(parts[1])
        elif app == "Set" and args.startswith(v.VOICEMAIL_PROMPT + "="):
            used.add(args.partition("=")[2])
    literal = {name for name in used if "${" not in name}
    assert {"hotline-welcome", "hotline-confirm", "hotline-thanks", "hotline-connecting"} <= literal
    for name in sorted(literal):
        assert name in table, f"the dialplan plays {name} but prompts.tsv has no such prompt"


def test_prompts_the_service_plays_exist() -> None:
    from callcenter.settings import PromptSettings

    table = prompt_table()
    for field_name, value in PromptSettings().model_dump().items():
        assert value in table, f"settings.prompts.{field_name} = {value} is not in prompts.tsv"


def test_prompt_texts() -> None:
    table = prompt_table()
    expected = {
        "hotline-welcome",
        "hotline-enter-code",
        "hotline-invalid-code",
        "hotline-connecting",
        "hotline-confirm",
        "hotline-voicemail",
        "hotline-thanks",
        "hotline-sorry",
    }
    assert expected <= set(table)
    assert "cuộc gọi được ghi âm" in table["hotline-welcome"], "the welcome carries the recording notice"
    assert "bốn chữ số" in table["hotline-enter-code"] and "phím không" in table["hotline-enter-code"]
    assert "phím một" in table["hotline-confirm"]
    assert "tiếng bíp" in table["hotline-voicemail"] and "gọi lại" in table["hotline-voicemail"]
    for name in table:
        assert re.fullmatch(r"[a-z0-9-]+", name), f"{name}: Asterisk file names stay plain"


# --- the trunk sample -------------------------------------------------------------------------------------


def pjsip_sections() -> list[tuple[str, dict[str, str]]]:
    sections: list[tuple[str, dict[str, str]]] = []
    for _number, line in strip_comments(PJSIP.read_text(encoding="utf-8")):
        if m := re.fullmatch(r"\[([^\]]+)\]", line):
            sections.append((m.group(1), {}))
            continue
        key, sep, value = line.partition("=")
        assert sep and sections, f"pjsip_hotline.conf: {line}"
        sections[-1][1][key.strip()] = value.strip()
    return sections


def test_pjsip_trunk(dialplan: Dialplan) -> None:
    by_type = {options["type"]: (name, options) for name, options in pjsip_sections()}
    assert set(by_type) == {"transport", "aor", "endpoint", "identify"}, "no registration, no auth"
    _name, transport = by_type["transport"]
    assert transport["protocol"] == "udp"
    aor_name, aor = by_type["aor"]
    assert aor["contact"].startswith("sip:203.0.113.10")
    endpoint_name, endpoint = by_type["endpoint"]
    assert endpoint_name == "hotline-trunk", "the dial strings say @hotline-trunk"
    assert endpoint["context"] == "hotline-trunk-in" and endpoint["context"] in dialplan.contexts
    assert endpoint["disallow"] == "all" and endpoint["allow"] == "alaw,ulaw"
    assert endpoint["dtmf_mode"] == "rfc4733" and endpoint["direct_media"] == "no"
    assert endpoint["aors"] == aor_name and endpoint["transport"] == by_type["transport"][0]
    _name, identify = by_type["identify"]
    assert identify["endpoint"] == endpoint_name and identify["match"] == "203.0.113.10"


def test_fallback_dial_uses_the_trunk(hotline_globals: dict[str, str]) -> None:
    assert re.fullmatch(r"PJSIP/0\d{9}@hotline-trunk", hotline_globals["HOTLINE_FALLBACK_DIAL"])
    assert hotline_globals["HOTLINE_AGI_URL"] == "agi://127.0.0.1:4573"
    assert hotline_globals["HOTLINE_RECORDINGS_DIR"] == "/var/spool/asterisk/monitor/hotline"
    assert int(hotline_globals["HOTLINE_FALLBACK_RING_TIMEOUT"]) > 0
    assert hotline_globals["HOTLINE_LANGUAGE"] == "vi"


# --- the post-call survey (rate_call) -----------------------------------------------------------------------


def is_rate_call(p: Priority) -> bool:
    return p.app == "AGI" and p.args == "${HOTLINE_AGI_URL}/" + v.RATE_CALL


def checks_answer(p: Priority) -> bool:
    return p.app == "GotoIf" and '"${DIALSTATUS}" = "ANSWER"' in condition_and_branches(p.args)[0]


def test_dial_lets_the_caller_continue_when_the_officer_hangs_up(dialplan: Dialplan) -> None:
    for p in dialplan.priorities():
        if p.app == "Dial":
            options = split_top(p.args, ",")[2]
            bare = re.sub(r"\([^)]*\)", "", options)  # option letters without their arguments
            assert "g" in bare, f"{p}: without g the caller is hung up with the officer: no survey"


def test_rate_call_runs_only_after_an_answered_dial(
    dialplan: Dialplan, resolver: Resolver, entry: Node
) -> None:
    surveys = [p for p in dialplan.priorities() if is_rate_call(p)]
    assert len(surveys) == 1 and (surveys[0].context, surveys[0].exten) == ("hotline-in", "answered")
    assert reachable(resolver, entry, is_rate_call), "rate_call is never reached"
    assert not reachable_before(resolver, entry, checks_answer, is_rate_call), "survey without ANSWER"
    for start in ("voicemail", "fallback"):
        node = resolver.node("hotline-in", start, "1")
        assert node is not None
        assert not reachable_before(resolver, node, checks_answer, is_rate_call), (
            f"{start} reaches the survey"
        )
    handler = resolver.node("hotline-hangup", "s", "1")
    assert handler is not None and not reachable(resolver, handler, is_rate_call)
    # The survey is the last thing: then the call is hung up (the hang-up handler runs call_ended).
    node = resolver.node("hotline-in", "answered", "1")
    assert node is not None
    after = reachable_before(resolver, node, lambda p: False, lambda p: p.app == "Hangup")
    assert after, "[answered] must Hangup() after the survey"


def test_rating_prompt() -> None:
    table = prompt_table()
    assert "một đến năm" in table["hotline-rating"] and "bấm" in table["hotline-rating"]
    assert "hotline-thanks" in table


# --- the caller's wait (answer_wait_ms): measured by Asterisk's clock on every attempt --------------------

_NOW_MS = "${STRFTIME(,,%s%3q)}"


def test_every_dial_is_stamped_right_before_it_starts(
    dialplan: Dialplan, resolver: Resolver, entry: Node
) -> None:
    """HOTLINE_DIAL_START_MS is set on every path to a Dial, after the index of that Dial."""
    stamp = "Set(" + v.DIAL_STARTED_MS + "=" + _NOW_MS + ")"
    assert not reachable_before(
        resolver, entry, lambda p: f"{p.app}({p.args})" == stamp, lambda p: p.app == "Dial"
    ), "a Dial runs without its start stamp"
    dial = next(p for p in dialplan.priorities() if p.app == "Dial")
    before = dialplan.contexts[dial.context].extensions[dial.exten]
    previous = next(p for p in before if p.number == dial.number - 1)
    assert f"{previous.app}({previous.args})" == stamp, "the stamp must be the priority right before Dial"


def test_ring_time_is_stored_right_after_the_result(dialplan: Dialplan) -> None:
    prios = dialplan.contexts["hotline-in"].extensions["connect"]
    result = next(p for p in prios if p.app == "Set" and p.args.startswith("HOTLINE_RESULT_${"))
    ring = next(p for p in prios if p.number == result.number + 1)
    family = v.ring_ms(1).removesuffix("1")
    assert ring.app == "ExecIf", f"{ring}: the ring time must follow HOTLINE_RESULT_n"
    cond, _, action = ring.args.partition("?")
    # An answered Dial lasted the conversation too: its wait comes from the acceptance stamp.
    assert cond == '$["${DIALSTATUS}" != "ANSWER"]'
    assert action == (f"Set({family}${{{v.TARGET_INDEX}}}=$[{_NOW_MS} - ${{{v.DIAL_STARTED_MS}}}])")
    assert unbalanced(ring.args) is None
    # A skipped (INVALIDARGS) target kept the caller waiting for nothing.
    invalid = next(p for p in prios if p.label == "invalid")
    after = next(p for p in prios if p.number == invalid.number + 1)
    assert (after.app, after.args) == ("Set", f"{family}${{{v.TARGET_INDEX}}}=0")


def test_acceptance_is_stamped_on_the_callers_channel(dialplan: Dialplan) -> None:
    prios = dialplan.contexts["hotline-confirm"].extensions["s"]
    accept = next(p for p in prios if p.label == "accept")
    stamp = next(p for p in prios if p.number == accept.number + 1)
    # The officer's channel runs this routine; its variables are not visible to call_ended on the
    # caller's channel (README, lessons), MASTER_CHANNEL() is (the Dial'd channel's linkedid).
    assert (stamp.app, stamp.args) == ("Set", f"MASTER_CHANNEL({v.ACCEPTED_MS})={_NOW_MS}")
    assert next(p for p in prios if p.number == stamp.number + 1).app == "Return"
    refusals = [p for p in prios if p.number < accept.number]
    assert all(v.ACCEPTED_MS not in p.args for p in refusals), "only an acceptance is stamped"


def test_the_end_of_the_talk_is_stamped_before_the_survey_and_at_the_hang_up(dialplan: Dialplan) -> None:
    answered = dialplan.contexts["hotline-in"].extensions["answered"]
    stamp = next(p for p in answered if p.app == "Set" and v.TALK_END_MS in p.args)
    survey = next(p for p in answered if is_rate_call(p))
    assert stamp.args == f"{v.TALK_END_MS}={_NOW_MS}" and stamp.number < survey.number
    handler = dialplan.contexts["hotline-hangup"].extensions["s"]
    first, second = handler[0], handler[1]
    assert (first.number, first.app, first.args) == (1, "Set", f"{v.HANGUP_MS}={_NOW_MS}")
    assert second.app == "AGI" and second.args.endswith("/call_ended")


# --- several service nodes ----------------------------------------------------------------------------------


def test_a_second_node_is_tried_only_when_the_first_heard_nothing(
    dialplan: Dialplan, hotline_globals: dict[str, str]
) -> None:
    assert hotline_globals["HOTLINE_AGI_URL_2"] == ""  # none by default: the fixed fallback as before
    prios = dialplan.contexts["hotline-in"].extensions["_X."]
    first = next(i for i, p in enumerate(prios) if is_route_call(p))
    skip, switch, retry, routed = prios[first + 1 : first + 5]
    assert skip.app == "GotoIf"
    condition, branch = condition_and_branches(skip.args)
    assert condition == '$["${AGISTATUS}" != "FAILURE" | "${HOTLINE_AGI_URL_2}" = ""]' and branch == "routed"
    # the channel keeps the node that answered: rate_call and call_ended (the hang-up handler, which runs
    # on this channel) read ${HOTLINE_AGI_URL}, now the second node's address
    assert (switch.app, switch.args) == ("Set", "HOTLINE_AGI_URL=${HOTLINE_AGI_URL_2}")
    assert is_route_call(retry) and routed.label == "routed"
    # and the route's own marker is checked after both attempts
    assert any(checks_route_ok(p) for p in prios[first + 4 :])


# --- the legs we place over ARI ----------------------------------------------------------------------------


def test_the_ari_leg_records_when_asked_and_ends_in_stasis(dialplan: Dialplan, resolver: Resolver) -> None:
    start = resolver.node(v.ARI_LEG_CONTEXT, "s", "1")
    assert start is not None, f"[{v.ARI_LEG_CONTEXT}] has no s,1 (the originate's extension)"
    prios = dialplan.contexts[v.ARI_LEG_CONTEXT].extensions["s"]
    assert set(dialplan.contexts[v.ARI_LEG_CONTEXT].extensions) == {"s"}
    assert (prios[0].number, prios[0].app, prios[0].args) == (
        1,
        "Set",
        "CHANNEL(language)=${HOTLINE_LANGUAGE}",
    )
    # MixMonitor only behind the test of HOTLINE_RECORDING, and that test can skip it
    tests_recording = lambda p: (  # noqa: E731
        p.app == "GotoIf" and condition_and_branches(p.args)[0] == '$["${' + v.RECORDING + '}" = ""]'
    )
    is_mix = lambda p: p.app == "MixMonitor"  # noqa: E731
    assert reachable(resolver, start, is_mix), "the leg never records"
    assert not reachable_before(resolver, start, tests_recording, is_mix), (
        "MixMonitor without a recording name"
    )
    guard = next(p for p in prios if tests_recording(p))
    skip = resolver.goto(guard, condition_and_branches(guard.args)[1])
    assert [resolver.priority(n).app for n in skip] == ["Stasis"], "an empty name must skip to Stasis"
    # every path ends in Stasis(app,args), and nothing but Hangup() after it
    is_stasis = lambda p: p.app == "Stasis"  # noqa: E731
    (stasis,) = [p for p in prios if is_stasis(p)]
    assert stasis.args == "${HOTLINE_ARI_APP},${" + v.ARI_ARGS + "}"
    assert [p.app for p in prios if p.number > stasis.number] == ["Hangup"]
    assert not reachable_before(resolver, start, is_stasis, lambda p: p.app == "Hangup"), (
        "Hangup before Stasis"
    )
    assert all(p.app != "AGI" for p in prios), "the ARI leg needs no FastAGI"
    # the fake ARI server enters Stasis at that priority (tests/fakes/ari_server.py)
    from tests.fakes.ari_server import ARI_LEG_STASIS_PRIORITY

    assert stasis.number == ARI_LEG_STASIS_PRIORITY


def conf_sections(path: Path) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for _number, line in strip_comments(path.read_text(encoding="utf-8")):
        if m := re.fullmatch(r"\[([^\]]+)\]", line):
            current = sections.setdefault(m.group(1), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}: not key = value in a section: {line}"
        current[key.strip()] = value.strip()
    return sections


def test_ari_and_http_pieces(hotline_globals: dict[str, str]) -> None:
    from callcenter.asterisk.variables import ARI_APP

    ari = conf_sections(DIALPLAN / "ari_hotline.conf")
    assert ari["general"] == {"enabled": "yes", "pretty": "no", "allowed_origins": ""}
    assert ari["hotline"] == {
        "type": "user",
        "read_only": "no",
        "password": ">>> CHANGE",
        "password_format": "plain",
    }
    http = conf_sections(DIALPLAN / "http_hotline.conf")
    assert http == {"general": {"enabled": "yes", "bindaddr": "127.0.0.1", "bindport": "8088"}}
    assert hotline_globals[ARI_APP] == "hotline"
    readme = (DIALPLAN / "README.md").read_text(encoding="utf-8")
    for needle in (
        "ari_hotline.conf",
        "http_hotline.conf",
        "res_ari.so",
        "ari show apps",
        "http show status",
        'url = "http://127.0.0.1:8088/ari"',
        v.ARI_LEG_CONTEXT,
        ARI_APP,
        v.ARI_ARGS,
    ):
        assert needle in readme, f"dialplan/README.md does not mention {needle}"
