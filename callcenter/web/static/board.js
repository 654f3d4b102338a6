// The live board: a Server-Sent Events stream (/api/board/events) replaces the tables with each
// snapshot the server sends; no reload, no framework, no inline script (CSP). Caller numbers are
// never in a snapshot. EventSource connects again by itself when the stream ends.
(function () {
  "use strict";
  var status = document.getElementById("board-status");
  if (!status || !window.EventSource) { return; }

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function cell(tag, child) {
    var td = document.createElement(tag || "td");
    if (typeof child === "string" || typeof child === "number") { td.textContent = String(child); }
    else if (child) { td.appendChild(child); }
    return td;
  }
  function ticketLink(t) {
    if (!t) { return "—"; }
    var a = el("a", t.ref, { href: t.url });
    return a;
  }
  function since(iso, local) { return el("time", local, { datetime: iso }); }
  function fill(tableId, rows) {
    var body = document.querySelector("#" + tableId + " tbody");
    while (body.firstChild) { body.removeChild(body.firstChild); }
    rows.forEach(function (tr) { body.appendChild(tr); });
  }
  function show(id, visible) { document.getElementById(id).hidden = !visible; }

  function callRow(c) {
    var tr = el("tr", null, { "data-call": c.id });
    tr.appendChild(cell("td", since(c.started_at, c.since_local)));
    tr.appendChild(cell("td", c.facility.name));
    var phase = cell("td", c.phase_label);
    phase.className = "phase";
    phase.setAttribute("data-phase", c.phase);
    tr.appendChild(phase);
    var target = cell("td", c.target && c.target.label ? el("em", c.target.label) : "—");
    target.className = "target";
    tr.appendChild(target);
    tr.appendChild(cell("td", ticketLink(c.ticket)));
    return tr;
  }
  function outboundRow(o) {
    var tr = el("tr", null, { "data-outbound": String(o.id) });
    tr.appendChild(cell("td", since(o.started_at, o.since_local)));
    tr.appendChild(cell("td", o.kind_label));
    tr.appendChild(cell("td", o.facility.name));
    var state = cell("td", o.state_label + " (từ " + o.state_since_local + ")");
    state.setAttribute("data-state", o.state);
    tr.appendChild(state);
    tr.appendChild(cell("td", ticketLink(o.ticket)));
    return tr;
  }
  function dayRow(d, total) {
    var tr = el("tr", null, total ? { "class": "total" } : {});
    var head = cell("th", d.facility.name);
    head.setAttribute("scope", "row");
    tr.appendChild(head);
    [d.received, d.in_progress, d.answered, d.abandoned, d.unanswered, d.voicemail].forEach(function (n) {
      tr.appendChild(cell("td", n));
    });
    return tr;
  }

  function render(board) {
    fill("board-calls", board.calls.map(callRow));
    show("board-calls-empty", board.calls.length === 0);
    document.getElementById("so-dang-goi").textContent = String(board.calls.length);
    fill("board-outbound", board.outbound.map(outboundRow));
    show("board-outbound-empty", board.outbound.length === 0);
    document.getElementById("so-goi-di").textContent = String(board.outbound.length);
    var days = board.today.map(function (d) { return dayRow(d, false); });
    days.push(dayRow(board.totals, true));
    fill("board-today", days);
    document.getElementById("ngay-hom-nay").textContent = board.date_local;
  }

  function clock(iso) {
    var d = new Date(iso);
    return d.toLocaleTimeString("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false });
  }

  var source = new EventSource("/api/board/events");
  source.addEventListener("snapshot", function (event) {
    var board = JSON.parse(event.data);
    render(board);
    document.body.setAttribute("data-board-updated", board.at);
    status.textContent = "Đang cập nhật trực tiếp · lần cuối lúc " + clock(board.at) + ".";
  });
  source.addEventListener("open", function () {
    status.textContent = "Đã kết nối, đang cập nhật trực tiếp.";
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      status.textContent = "Mất kết nối (phiên đăng nhập có thể đã hết hạn). Hãy tải lại trang.";
    } else {
      status.textContent = "Mất kết nối, đang thử kết nối lại…";
    }
  });
})();
