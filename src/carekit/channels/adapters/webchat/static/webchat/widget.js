/*
 * Carekit web chat widget. Plain JavaScript (ES2017), no dependencies, no build step: this file is
 * served as is from /webchat/widget.js. Embed with
 *   <script src="https://carekit.example/webchat/widget.js" data-key="PUBLIC_KEY" async></script>
 * Optional: data-lang="ru|en", data-token="<host site's signed token>".
 * API: Carekit.open(), Carekit.close(), Carekit.identify(token), Carekit.reset() (on the shop's logout).
 *
 * Delivery: every message gets a client id and stays in the outbox (localStorage) until the server
 * acks it; after a reconnect the outbox is resent and the server stores each client id once.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.Carekit) return;
  var KEY = script.getAttribute("data-key") || "";
  var BASE = new URL(script.src, location.href).origin;
  var WS_BASE = BASE.replace(/^http/, "ws");
  var lang = (script.getAttribute("data-lang") || navigator.language || "en").slice(0, 2).toLowerCase();
  if (lang !== "ru") lang = "en";
  var token = script.getAttribute("data-token") || "";
  var COOKIE = "carekit_vid_" + KEY.slice(-8).replace(/[^A-Za-z0-9]/g, "");
  var OUTBOX = "carekit_outbox_" + KEY.slice(-8);
  var PRECHAT = "carekit_prechat_" + KEY.slice(-8);

  var L = {};
  var cfg = { color: "#2563eb", title: "" };
  var st = null; // the last state from the server
  var ws = null;
  var open = false;
  var attempts = 0;
  var shown = {};
  var outbox = load(OUTBOX, []);
  var timer = null;

  function load(name, fallback) {
    try { return JSON.parse(localStorage.getItem(name)) || fallback; } catch (e) { return fallback; }
  }
  function save(name, value) {
    try { localStorage.setItem(name, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }
  function getCookie() {
    var m = document.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : "";
  }
  function setCookie(value, days) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = COOKIE + "=" + encodeURIComponent(value) + "; path=/; max-age=" + days * 86400 + "; SameSite=Lax" + secure;
  }
  function newId() {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return "c" + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function t(name, params) {
    var s = L[name] || name;
    Object.keys(params || {}).forEach(function (k) { s = s.replace("%(" + k + ")s", params[k]); });
    return s;
  }

  // --- the DOM, inside a shadow root so the shop's styles do not leak in ---------------------------
  var host = document.createElement("div");
  host.id = "carekit-widget";
  var root = host.attachShadow({ mode: "open" });
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { n.appendChild(c); });
    return n;
  }
  function clip() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "18");
    svg.setAttribute("height", "18");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", "M16.5 6.5l-8 8a2.5 2.5 0 003.5 3.5l8.5-8.5a4.5 4.5 0 00-6.4-6.4L5.6 11.6a6.5 6.5 0 009.2 9.2L21 14.6");
    p.setAttribute("fill", "none");
    p.setAttribute("stroke", "#4b5563");
    p.setAttribute("stroke-width", "1.8");
    p.setAttribute("stroke-linecap", "round");
    svg.appendChild(p);
    return svg;
  }
  function $(sel) { return root.querySelector(sel); }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    "#ck-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;color:#fff;font-size:15px;cursor:pointer;box-shadow:0 6px 20px rgba(0,0,0,.25)}",
    "#ck-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:360px;max-width:calc(100vw - 24px);height:540px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden;color:#111}",
    "#ck-panel[hidden],[hidden]{display:none!important}",
    "header{color:#fff;padding:14px 16px;display:flex;align-items:center;justify-content:space-between;font-weight:600;font-size:16px}",
    "header button{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer}",
    "#ck-notice{background:#fef3c7;color:#78350f;font-size:13px;padding:8px 12px}",
    ".ck-view{flex:1;overflow:auto;padding:14px 16px;display:flex;flex-direction:column;gap:10px;font-size:14px}",
    "label{display:flex;flex-direction:column;gap:4px;font-size:13px;color:#374151}",
    "input,textarea{font-size:14px;padding:8px 10px;border:1px solid #d1d5db;border-radius:8px;width:100%}",
    ".ck-primary{border:0;border-radius:8px;padding:10px 14px;color:#fff;font-size:14px;cursor:pointer}",
    ".ck-link{background:none;border:0;color:#4b5563;text-decoration:underline;cursor:pointer;font-size:13px}",
    "#ck-messages{display:flex;flex-direction:column;gap:8px}",
    ".msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}",
    ".msg.inbound{align-self:flex-end;color:#fff}",
    ".msg.outbound{align-self:flex-start;background:#f3f4f6}",
    ".msg.pending{opacity:.6}",
    ".msg small{display:block;font-size:11px;opacity:.75;margin-top:3px}",
    ".msg .file{display:block;font-size:12px;text-decoration:underline}",
    "#ck-orders{border:1px solid #e5e7eb;border-radius:10px;padding:8px 10px;font-size:13px}",
    "#ck-orders li{margin:2px 0}",
    "#ck-codebar{background:#eff6ff;border-radius:10px;padding:10px;display:flex;flex-direction:column;gap:8px;font-size:13px}",
    "#ck-error{color:#b91c1c;font-size:13px;padding:4px 16px}",
    "#ck-typing{font-size:12px;color:#6b7280;padding:0 16px 4px}",
    "footer{border-top:1px solid #e5e7eb;padding:8px;display:flex;gap:6px;align-items:flex-end}",
    "footer textarea{resize:none;height:40px}",
    "footer .ck-icon{border:1px solid #d1d5db;background:#fff;border-radius:8px;height:40px;min-width:40px;cursor:pointer;font-size:18px}",
    ".ck-empty{color:#6b7280;text-align:center;margin-top:20px}"
  ].join("\n");

  function build() {
    root.appendChild(el("style", { text: CSS }));
    root.appendChild(el("button", { id: "ck-launcher", type: "button" }));
    var panel = el("div", { id: "ck-panel", role: "dialog", hidden: "" }, [
      el("header", {}, [el("span", { id: "ck-title" }), el("button", { id: "ck-close", type: "button", "aria-label": "close", text: "×" })]),
      el("div", { id: "ck-notice", hidden: "" }),
      el("div", { id: "ck-prechat", class: "ck-view", hidden: "" }, [
        el("p", { id: "ck-prechat-intro" }),
        el("label", {}, [el("span", { "data-l": "name" }), el("input", { id: "ck-name", autocomplete: "name" })]),
        el("label", {}, [el("span", { "data-l": "contact" }), el("input", { id: "ck-contact", autocomplete: "email" })]),
        el("button", { id: "ck-start", class: "ck-primary", type: "button", "data-l": "start" }),
        el("button", { id: "ck-skip", class: "ck-link", type: "button", "data-l": "skip" })
      ]),
      el("div", { id: "ck-offline", class: "ck-view", hidden: "" }, [
        el("p", { id: "ck-offline-intro" }),
        el("label", {}, [el("span", { "data-l": "name" }), el("input", { id: "ck-off-name" })]),
        el("label", {}, [el("span", { "data-l": "contact" }), el("input", { id: "ck-off-contact" })]),
        el("label", {}, [el("span", { "data-l": "offline_text" }), el("textarea", { id: "ck-off-text", rows: "4" })]),
        el("button", { id: "ck-off-send", class: "ck-primary", type: "button", "data-l": "offline_send" }),
        el("p", { id: "ck-off-done", hidden: "", "data-l": "offline_sent" })
      ]),
      el("div", { id: "ck-chat", class: "ck-view", hidden: "" }, [
        el("div", { id: "ck-codebar", hidden: "" }, [
          el("span", { "data-l": "code_intro" }),
          el("input", { id: "ck-code", inputmode: "numeric", autocomplete: "one-time-code" }),
          el("button", { id: "ck-verify", class: "ck-primary", type: "button", "data-l": "verify" })
        ]),
        el("div", { id: "ck-orders", hidden: "" }),
        el("p", { id: "ck-empty", class: "ck-empty", "data-l": "empty" }),
        el("div", { id: "ck-messages", "aria-live": "polite" })
      ]),
      el("div", { id: "ck-error", hidden: "" }),
      el("div", { id: "ck-typing", hidden: "", "data-l": "typing" }),
      el("footer", { id: "ck-footer", hidden: "" }, [
        el("input", { id: "ck-file", type: "file", hidden: "" }),
        el("button", { id: "ck-attach", class: "ck-icon", type: "button" }, [clip()]),
        el("textarea", { id: "ck-text", rows: "1" }),
        el("button", { id: "ck-send", class: "ck-primary", type: "button", "data-l": "send" })
      ])
    ]);
    root.appendChild(panel);
    document.body.appendChild(host);
    $("#ck-launcher").addEventListener("click", function () { open ? close() : show(); });
    $("#ck-close").addEventListener("click", close);
    $("#ck-send").addEventListener("click", sendTyped);
    $("#ck-text").addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendTyped(); }
    });
    $("#ck-attach").addEventListener("click", function () { $("#ck-file").click(); });
    $("#ck-file").addEventListener("change", uploadChosen);
    $("#ck-start").addEventListener("click", function () {
      save(PRECHAT, 1);
      frame({ type: "prechat", name: $("#ck-name").value, contact: $("#ck-contact").value });
      render();
    });
    $("#ck-skip").addEventListener("click", function () { save(PRECHAT, 1); render(); });
    $("#ck-verify").addEventListener("click", function () { frame({ type: "verify", code: $("#ck-code").value }); });
    $("#ck-off-send").addEventListener("click", sendOffline);
  }

  function paintLabels() {
    root.querySelectorAll("[data-l]").forEach(function (n) { n.textContent = t(n.getAttribute("data-l")); });
    $("#ck-launcher").textContent = t("open");
    $("#ck-title").textContent = cfg.title || t("title");
    $("#ck-close").setAttribute("aria-label", t("close"));
    $("#ck-attach").setAttribute("aria-label", t("attach"));
    $("#ck-attach").title = t("attach");
    $("#ck-text").placeholder = t("placeholder");
    $("#ck-prechat-intro").textContent = t("prechat_intro");
    [$("#ck-launcher"), $("header"), $("#ck-send"), $("#ck-start"), $("#ck-verify"), $("#ck-off-send")].forEach(function (n) {
      n.style.background = cfg.color;
    });
  }

  // --- views ----------------------------------------------------------------------------------------
  function render() {
    if (!st) return;
    var offline = !st.online;
    var prechat = !offline && !st.identified && !st.history.length && !load(PRECHAT, 0) && !outbox.length;
    $("#ck-prechat").hidden = !prechat;
    $("#ck-offline").hidden = !offline;
    $("#ck-chat").hidden = prechat || offline;
    $("#ck-footer").hidden = prechat || offline;
    if (offline) {
      var intro = t("offline_intro");
      if (st.opens_at) intro += " " + t("offline_opens", { time: new Date(st.opens_at).toLocaleString(lang === "ru" ? "ru-RU" : "en-GB", { weekday: "short", hour: "2-digit", minute: "2-digit" }) });
      $("#ck-offline-intro").textContent = intro;
    }
    $("#ck-codebar").hidden = !st.claim_pending;
    var orders = $("#ck-orders");
    orders.hidden = !st.orders.length;
    orders.textContent = "";
    if (st.orders.length) {
      orders.appendChild(el("strong", { text: t("orders") }));
      orders.appendChild(el("ul", {}, st.orders.map(function (o) {
        return el("li", { "data-order": o.number, text: o.number + " — " + o.status_label + (o.tracking ? " (" + o.tracking + ")" : "") });
      })));
    }
    var notice = st.notice ? t("token_refused") : "";
    if (ws === null || ws.readyState !== 1) notice = t("reconnecting");
    $("#ck-notice").textContent = notice;
    $("#ck-notice").hidden = !notice;
    $("#ck-empty").hidden = !!$("#ck-messages").children.length;
  }

  function bubble(m, pending) {
    var node = el("div", { class: "msg " + (m.direction === "inbound" ? "inbound" : "outbound") + (pending ? " pending" : "") });
    if (m.direction === "inbound") node.style.background = cfg.color;
    if (m.id) node.setAttribute("data-id", m.id);
    if (m.client_id) node.setAttribute("data-client", m.client_id);
    node.appendChild(document.createTextNode(m.text || ""));
    (m.attachments || []).forEach(function (a) {
      node.appendChild(el("span", { class: "file", text: a.name + " (" + Math.ceil(a.size / 1024) + " KB)" }));
    });
    var when = m.created_at ? new Date(m.created_at).toLocaleTimeString(lang === "ru" ? "ru-RU" : "en-GB", { hour: "2-digit", minute: "2-digit" }) : t("sending");
    node.appendChild(el("small", { text: (m.direction === "inbound" ? t("you") : t("agent")) + " · " + when }));
    return node;
  }

  function addMessage(m, clientId) {
    var list = $("#ck-messages");
    var pending = clientId && list.querySelector('[data-client="' + clientId + '"]');
    if (shown[m.id]) {
      // already shown (e.g. from the history after a reconnect): the resent copy's bubble goes
      if (pending) list.removeChild(pending);
      return;
    }
    shown[m.id] = true;
    var node = bubble(m, false);
    if (pending) list.replaceChild(node, pending);
    else list.appendChild(node);
    if (m.direction === "outbound") $("#ck-typing").hidden = true;
    $("#ck-empty").hidden = true;
    list.parentNode.scrollTop = list.parentNode.scrollHeight;
  }

  function showPending(item) {
    var list = $("#ck-messages");
    if (list.querySelector('[data-client="' + item.client_id + '"]')) return;
    list.appendChild(bubble({ direction: "inbound", text: item.text, client_id: item.client_id }, true));
    $("#ck-empty").hidden = true;
  }

  function error(text) {
    var box = $("#ck-error");
    box.textContent = text || "";
    box.hidden = !text;
  }

  // --- transport ------------------------------------------------------------------------------------
  function frame(obj) {
    if (ws && ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; }
    return false;
  }

  function connect() {
    clearTimeout(timer);
    var sock = new WebSocket(WS_BASE + "/ws/webchat/" + encodeURIComponent(KEY) + "/");
    ws = sock;
    sock.onopen = function () {
      attempts = 0;
      sock.send(JSON.stringify({ type: "hello", visitor: getCookie(), token: token, lang: lang }));
    };
    sock.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (msg.type === "welcome" || msg.type === "state") {
        st = msg;
        setCookie(msg.visitor, 365);
        if (msg.type === "state") error("");
        // the loaded history replaces what is shown (a verified claim may bring earlier messages)
        shown = {};
        $("#ck-messages").textContent = "";
        msg.history.forEach(function (m) { addMessage(m); });
        render();
        outbox.forEach(function (item) { showPending(item); resend(item); });
      } else if (msg.type === "ack") {
        outbox = outbox.filter(function (i) { return i.client_id !== msg.client_id; });
        save(OUTBOX, outbox);
        addMessage(msg.message, msg.client_id);
        if (st) { st.history.push(msg.message); render(); }
      } else if (msg.type === "message") {
        addMessage(msg.message);
      } else if (msg.type === "typing") {
        $("#ck-typing").hidden = false;
        setTimeout(function () { $("#ck-typing").hidden = true; }, 4000);
      } else if (msg.type === "error") {
        if (msg.client_id && msg.code !== "rate_limited") {
          // refused for good (empty, too long): drop it from the outbox so it is not resent forever
          outbox = outbox.filter(function (i) { return i.client_id !== msg.client_id; });
          save(OUTBOX, outbox);
        }
        error(msg.message);
      }
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      render();
      if (ev.code === 4403 || ev.code === 4404) return; // this site may not use this chat: do not retry
      attempts += 1;
      timer = setTimeout(connect, Math.min(500 * Math.pow(2, attempts - 1), 8000));
    };
  }

  function resend(item) {
    if (item.kind === "offline") frame({ type: "offline", client_id: item.client_id, name: item.name, contact: item.contact, text: item.text });
    else frame({ type: "message", client_id: item.client_id, text: item.text });
  }

  function queue(item) {
    outbox.push(item);
    save(OUTBOX, outbox);
    resend(item);
  }

  function sendTyped() {
    var box = $("#ck-text");
    var text = box.value.trim();
    if (!text) return;
    box.value = "";
    error("");
    var item = { client_id: newId(), text: text };
    showPending(item);
    queue(item);
  }

  function sendOffline() {
    var text = $("#ck-off-text").value.trim();
    if (!text) return;
    queue({ kind: "offline", client_id: newId(), name: $("#ck-off-name").value, contact: $("#ck-off-contact").value, text: text });
    $("#ck-off-text").value = "";
    $("#ck-off-done").hidden = false;
  }

  function uploadChosen() {
    var input = $("#ck-file");
    var file = input.files && input.files[0];
    input.value = "";
    if (!file || !st) return;
    if (file.size > st.max_upload_bytes) {
      var limit = st.max_upload_bytes;
      error(t("too_large", { size: limit >= 1048576 ? Math.floor(limit / 1048576) + " MB" : Math.floor(limit / 1024) + " KB" }));
      return;
    }
    var form = new FormData();
    form.append("visitor", getCookie());
    form.append("token", token);
    form.append("client_id", newId());
    form.append("file", file);
    fetch(BASE + "/webchat/" + encodeURIComponent(KEY) + "/upload?lang=" + lang, { method: "POST", body: form })
      .then(function (r) { return r.json(); })
      .then(function (body) {
        if (body.error) error(body.error.message);
        else { error(""); addMessage(body.message); }
      })
      .catch(function () { error(t("reconnecting")); });
  }

  function show() {
    open = true;
    $("#ck-panel").hidden = false;
    render();
  }
  function close() {
    open = false;
    $("#ck-panel").hidden = true;
  }

  function start() {
    build();
    fetch(BASE + "/webchat/" + encodeURIComponent(KEY) + "/config?lang=" + lang)
      .then(function (r) { return r.json(); })
      .then(function (body) {
        L = body.labels || {};
        cfg.color = body.color || cfg.color;
        cfg.title = body.title || "";
        paintLabels();
      })
      .catch(function () { /* labels fall back to their names; the chat still works */ })
      .then(function () {
        host.setAttribute("data-ready", "1");
        connect();
      });
  }

  window.Carekit = {
    open: function () { show(); },
    close: function () { close(); },
    identify: function (newToken) { token = newToken || ""; if (ws) ws.close(); },
    reset: function () {
      setCookie("", -1);
      outbox = [];
      save(OUTBOX, outbox);
      save(PRECHAT, 0);
      token = "";
      shown = {};
      $("#ck-messages").textContent = "";
      if (ws) ws.close();
    }
  };
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
