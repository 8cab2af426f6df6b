"""The Graph paths the product uses, each answered the way Graph does (JSON, errors, paging).

Every handler receives a :class:`Req` and the :class:`GraphState` (lock held) and returns
``(status, body)`` or raises :class:`GraphHTTPError`. Request bodies are checked against the
CSDL (``graph_schema``) and refused with 400 like Graph refuses unknown properties.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from . import graph_odata as odata
from .graph_schema import Schema
from .graph_state import GraphState, Item, address, graph_dt

WELL_KNOWN = {"inbox": "inbox", "sentitems": "sentitems", "drafts": "drafts",
              "deleteditems": "deleteditems"}
CALVIEW_UNSUPPORTED = ("$select", "$expand", "$filter", "$orderby", "$search", "$top")
TIME_FILTER = re.compile(r"^receivedDateTime (ge|gt) \S+$")
SENT_ONLY_FIELDS = ("subject", "body", "toRecipients", "ccRecipients", "bccRecipients")


class GraphHTTPError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Req:
    method: str
    path: str  # after /v1.0/
    query: dict[str, str]
    prefer: dict[str, str]
    body: Any
    base: str  # http://127.0.0.1:PORT/v1.0/
    schema: Schema
    match: dict[str, str] = field(default_factory=dict)
    max_page: int = 1000

    @property
    def text_body(self) -> bool:
        return self.prefer.get("outlook.body-content-type", "").lower() == "text"

    def page_size(self, default: int) -> int:
        asked = self.prefer.get("odata.maxpagesize") or self.query.get("$top")
        return max(1, min(int(asked), self.max_page)) if asked else default


Result = tuple[int, Any]


def bad(message: str, code: str = "BadRequest") -> GraphHTTPError:
    return GraphHTTPError(400, code, message)


def not_found(what: str) -> GraphHTTPError:
    message = f"The specified object was not found in the store. ({what})"
    return GraphHTTPError(404, "ErrorItemNotFound", message)


def check(req: Req, type_name: str, body: Any) -> Item:
    problems = req.schema.check_body(type_name, body)
    if problems:
        raise bad(problems[0], "RequestBodyRead")
    return dict(body)


def split_props(body: Item) -> tuple[Item, Item]:
    props = {p["id"]: p.get("value") for p in body.pop("singleValueExtendedProperties", None) or ()}
    return body, props


def normal_time(value: Item) -> Item:
    """dateTimeTimeZone as stored: UTC with seven fraction digits."""
    moment = odata.parse_time(value["dateTime"]).replace(tzinfo=None)
    zone = value.get("timeZone") or "UTC"
    aware = moment.replace(tzinfo=UTC if zone.upper() == "UTC" else ZoneInfo(zone))
    return graph_dt(aware)


def select_and_expand(req: Req, type_name: str) -> tuple[list[str] | None, str | None]:
    select = odata.parse_select(req.query.get("$select"))
    if select is not None:
        problems = req.schema.check_select(type_name, select)
        if problems:
            raise bad(problems[0])
    try:
        return select, odata.parse_expand(req.query.get("$expand"))
    except odata.ODataError as exc:
        raise bad(str(exc)) from None


def list_page(
    req: Req, items: list[Item], render: Callable[[Item], Item], props: Callable[[Item], Item]
) -> Result:
    if "$filter" in req.query:
        try:
            keep = odata.parse_filter(req.query["$filter"], props)
        except odata.ODataError as exc:
            raise bad(str(exc), "ErrorInvalidUrlQueryFilter") from None
        items = [i for i in items if keep(i)]
    size, skip = req.page_size(10), int(req.query.get("$skip", "0"))
    chunk = items[skip : skip + size]
    out: Item = {"value": [render(i) for i in chunk]}
    if skip + size < len(items):
        rest = {k: v for k, v in req.query.items() if k != "$skip"}
        query = "&".join(f"{k}={v}" for k, v in rest.items())
        out["@odata.nextLink"] = f"{req.base}{req.path}?{query}&$skip={skip + size}"
    return 200, out


# --- delta rounds ------------------------------------------------------------------------------


def delta_round(req: Req, st: GraphState, state: Item, compute: Callable[[Item], list[Item]]) -> Result:
    if "$skiptoken" in req.query or "$deltatoken" in req.query:
        token = req.query.get("$skiptoken") or req.query.get("$deltatoken", "")
        known = st.token(token)
        if known is None:
            raise GraphHTTPError(410, "SyncStateNotFound", "The sync state was not found or has expired.")
        if "pages" in known:  # a skiptoken: the rest of a round already worked out
            st.tokens.pop(token, None)
            return emit(req, st, known["pages"], known["final"])
        state = known
    items = compute(state)
    final = {**state, "seq": st.seq, "stamp": st.now_stamp()}
    size = req.page_size(10)
    pages = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
    return emit(req, st, pages, final)


def emit(req: Req, st: GraphState, pages: list[list[Item]], final: Item) -> Result:
    out: Item = {"value": pages[0]}
    if len(pages) > 1:
        token = st.new_token({"pages": pages[1:], "final": final})
        out["@odata.nextLink"] = f"{req.base}{req.path}?$skiptoken={token}"
    else:
        out["@odata.deltaLink"] = f"{req.base}{req.path}?$deltatoken={st.new_token(final)}"
    return 200, out


def calendar_view_delta(req: Req, st: GraphState) -> Result:
    used = [p for p in CALVIEW_UNSUPPORTED if p in req.query]
    if used:
        raise bad("The following parameters are not supported with change tracking over the "
                  "'CalendarView' resource: '$orderby, $filter, $select, $expand, $search, $top'.",
                  "ErrorInvalidUrlQuery")
    state: Item = {"seq": 0}
    if "$deltatoken" not in req.query and "$skiptoken" not in req.query:
        if "startDateTime" not in req.query or "endDateTime" not in req.query:
            raise bad("This request requires a time window specified by the query string "
                      "parameters StartDateTime and EndDateTime.", "ErrorInvalidParameter")
        state = {"seq": 0, "start": req.query["startDateTime"], "end": req.query["endDateTime"]}
    return delta_round(req, st, state, lambda s: st.calendar_delta(s, req.text_body))


def messages_delta(req: Req, st: GraphState) -> Result:
    folder = folder_of(req, st)
    if "$search" in req.query:
        raise bad("$search is not supported on delta", "ErrorInvalidUrlQuery")
    order = req.query.get("$orderby")
    if order is not None and order != "receivedDateTime desc":
        raise bad("Only $orderby=receivedDateTime desc is supported with delta", "ErrorInvalidUrlQuery")
    since = None
    if "$filter" in req.query:
        if not TIME_FILTER.match(req.query["$filter"]):
            raise bad("Only receivedDateTime ge|gt filters are supported with delta",
                      "ErrorInvalidUrlQueryFilter")
        since = odata.parse_filter(req.query["$filter"], lambda i: i["_props"])
    select, expand = select_and_expand(req, "message")
    change = req.query.get("changeType")
    if change not in (None, "created", "updated", "deleted"):
        raise bad(f"Invalid changeType {change}")
    state = {"seq": 0, "folder": folder, "since": since, "select": select, "expand": expand,
             "change_type": change}
    return delta_round(req, st, state, lambda s: st.mail_delta(s, req.text_body))


def folder_of(req: Req, st: GraphState) -> str:
    """A folder named by its well-known name (any case) or by its id (exact)."""
    name = req.match["folder"]
    by_id = {v: k for k, v in st.folder_ids.items()}
    if name in by_id:
        return by_id[name]
    if name.lower() not in WELL_KNOWN:
        raise not_found(f"mail folder {name}")
    return WELL_KNOWN[name.lower()]


def mail_folder(req: Req, st: GraphState) -> Result:
    folder = folder_of(req, st)
    select, _ = select_and_expand(req, "mailFolder")
    names = {"inbox": "Inbox", "sentitems": "Sent Items", "drafts": "Drafts",
             "deleteditems": "Deleted Items"}
    full = {"id": st.folder_ids[folder], "displayName": names[folder],
            "totalItemCount": sum(1 for m in st.messages.values() if m["_folder"] == folder)}
    return 200, {k: full[k] for k in ["id", *(select or full)] if k in full}


# --- calendars and events ------------------------------------------------------------------------


def list_calendars(req: Req, st: GraphState) -> Result:
    select, _ = select_and_expand(req, "calendar")
    cals = list(st.calendars.values())
    return list_page(req, cals, lambda c: {k: c[k] for k in ["id", *(select or c)] if k in c},
                     lambda c: {})


def create_calendar(req: Req, st: GraphState) -> Result:
    body = check(req, "calendar", req.body)
    name = str(body.get("name", "")).strip()
    if any(c["name"].casefold() == name.casefold() for c in st.calendars.values()):
        raise GraphHTTPError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    return 201, st.add_calendar(name)


def calendar_id(req: Req, st: GraphState) -> str:
    cal = req.match.get("cal") or st.default_calendar
    if cal not in st.calendars:
        raise not_found(f"calendar {cal}")
    return cal


def create_event(req: Req, st: GraphState) -> Result:
    cal = calendar_id(req, st)
    body, props = split_props(check(req, "event", req.body))
    txid = body.get("transactionId")
    if txid and txid in st.txids and st.txids[txid] in st.events:
        return 201, st.render_event(st.events[st.txids[txid]], prop_id=None, text_body=req.text_body)
    for key in ("start", "end"):
        if key in body:
            body[key] = normal_time(body[key])
    event = st.put_event(body, cal, props)
    if txid:
        st.txids[txid] = event["id"]
    return 201, st.render_event(event, prop_id=None, text_body=req.text_body)


def list_events(req: Req, st: GraphState) -> Result:
    cal = calendar_id(req, st)
    select, expand = select_and_expand(req, "event")
    events = [e for e in st.events.values() if e["_cal"] == cal]

    def render(e: Item) -> Item:
        full = st.render_event(e, prop_id=expand, text_body=req.text_body)
        keep = ["id", *(select or full), "singleValueExtendedProperties"]
        return {k: full[k] for k in keep if k in full}

    return list_page(req, events, render, lambda e: e["_props"])


def event_item(req: Req, st: GraphState) -> Result:
    event = st.events.get(req.match["id"])
    if event is None:
        raise not_found("event")
    if req.method == "DELETE":
        st.remove_event(event["id"])
        return 204, None
    if req.method == "PATCH":
        body, props = split_props(check(req, "event", req.body))
        if "transactionId" in body and body["transactionId"] != event["transactionId"]:
            raise bad("transactionId cannot be changed once set", "ErrorInvalidRequest")
        for key in ("start", "end"):
            if key in body:
                body[key] = normal_time(body[key])
        event = st.touch_event(event["id"], body, props)
    select, expand = select_and_expand(req, "event")
    full = st.render_event(event, prop_id=expand, text_body=req.text_body)
    return 200, full if select is None else {k: full[k] for k in ["id", *select] if k in full}


# --- messages ------------------------------------------------------------------------------------


def message_headers_ok(body: Item) -> None:
    """Custom headers: x- names only, at most 5 (https://learn.microsoft.com/graph/api/
    resources/internetmessageheader; "Only headers that begin with x- or X- can be added
    ... up to 5" per the message resource)."""
    headers = body.get("internetMessageHeaders") or ()
    if len(headers) > 5:
        raise bad("Maximum number of headers in one message should be less than or equal to 5.",
                  "InvalidInternetMessageHeaderCollection")
    for header in headers:
        if not str(header.get("name", "")).lower().startswith("x-"):
            raise bad(f"The internet message header name '{header.get('name')}' should start "
                      "with 'x-' or 'X-'.", "InvalidInternetMessageHeader")


def create_message(req: Req, st: GraphState) -> Result:
    body, props = split_props(check(req, "message", req.body))
    message_headers_ok(body)
    message = st.put_message("drafts", {**body, "isDraft": True}, props)
    out = st.render_message(message, select=None, prop_id=None, text_body=req.text_body)
    return 201, out


def list_messages(req: Req, st: GraphState) -> Result:
    folder = folder_of(req, st) if "folder" in req.match else None
    select, expand = select_and_expand(req, "message")
    items = [m for m in st.messages.values() if folder is None or m["_folder"] == folder]
    return list_page(
        req, items,
        lambda m: st.render_message(m, select=select, prop_id=expand, text_body=req.text_body),
        lambda m: m["_props"],
    )


def message_item(req: Req, st: GraphState) -> Result:
    message = st.messages.get(req.match["id"])
    if message is None:
        raise not_found("message")
    if req.method == "DELETE":
        st.delete_message(message["id"])
        return 204, None
    if req.method == "PATCH":
        body, props = split_props(check(req, "message", req.body))
        if "internetMessageHeaders" in body:
            raise bad("internetMessageHeaders can only be set when the message is created")
        if not message["isDraft"] and any(k in body for k in SENT_ONLY_FIELDS):
            raise bad("Only a draft's content can be changed.", "ErrorInvalidPropertyUpdateSentMessage")
        message = st.touch_message(message["id"], body, props)
    select, expand = select_and_expand(req, "message")
    return 200, st.render_message(message, select=select, prop_id=expand, text_body=req.text_body)


def create_reply(req: Req, st: GraphState) -> Result:
    original = st.messages.get(req.match["id"])
    if original is None:
        raise not_found("message")
    raw = req.body or {}
    params = {k.lower(): v for k, v in raw.items()} if isinstance(raw, dict) else None
    if params is None or set(params) - {"message", "comment"}:
        raise bad("createReply takes only 'message' and 'comment'", "RequestBodyRead")
    message, props = split_props(check(req, "message", params.get("message") or {}))
    if params.get("comment") is not None and "body" in message:
        raise bad("Cannot specify both the comment and the body of the message.", "ErrorInvalidRequest")
    quoted = f"\n\n-----\nFrom: {original['from']['emailAddress']['address']}\n" + original["bodyPreview"]
    text = str(params.get("comment") or (message.pop("body", None) or {}).get("content", ""))
    to = original.get("replyTo") or [original["from"]]
    if original["_folder"] == "sentitems":
        to = original["toRecipients"]
    fields = {
        "subject": "RE: " + original["subject"], "toRecipients": to,
        "conversationId": original["conversationId"],
        "body": {"contentType": "text", "content": text + quoted},
        "_in_reply_to": original["internetMessageId"], **message,
    }
    draft = st.put_message("drafts", fields, props)
    return 201, st.render_message(draft, select=None, prop_id=None, text_body=req.text_body)


ROUTES: list[tuple[str, re.Pattern[str], Callable[[Req, GraphState], Result]]] = [
    (m, re.compile(p), h) for m, p, h in [
        ("GET", r"^me/calendarView/delta$", calendar_view_delta),
        ("GET", r"^me/calendars$", list_calendars),
        ("POST", r"^me/calendars$", create_calendar),
        ("POST", r"^me/(?:calendar/)?events$", create_event),
        ("POST", r"^me/calendars/(?P<cal>[^/]+)/events$", create_event),
        ("GET", r"^me/(?:calendar/)?events$", list_events),
        ("GET", r"^me/calendars/(?P<cal>[^/]+)/events$", list_events),
        ("GET|PATCH|DELETE", r"^me/events/(?P<id>[^/]+)$", event_item),
        ("GET", r"^me/mailFolders/(?P<folder>[^/]+)/messages/delta$", messages_delta),
        ("GET", r"^me/mailFolders/(?P<folder>[^/]+)/messages$", list_messages),
        ("GET", r"^me/mailFolders/(?P<folder>[^/]+)$", mail_folder),
        ("GET", r"^me/messages$", list_messages),
        ("POST", r"^me/messages$", create_message),
        ("GET|PATCH|DELETE", r"^me/messages/(?P<id>[^/]+)$", message_item),
        ("POST", r"^me/messages/(?P<id>[^/]+)/createReply$", create_reply),
    ]
]
SEND = re.compile(r"(^|/)(send|sendMail|reply|replyAll|forward)$", re.IGNORECASE)


def route(method: str, path: str) -> tuple[Callable[[Req, GraphState], Result], dict[str, str]] | None:
    for methods, pattern, handler in ROUTES:
        m = pattern.match(path)
        if m and method in methods.split("|"):
            return handler, {k: v for k, v in m.groupdict().items() if v is not None}
    return None


__all__ = ["SEND", "GraphHTTPError", "Req", "address", "route"]
