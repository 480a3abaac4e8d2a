// The agent workspace: live updates over the websocket (inbox.changed events refetch the list or the
// thread), canned responses into the composer, and keyboard shortcuts. Protocol: a page loads its state
// from the server, then refetches on each event that concerns it (core/realtime: thin events).
(function () {
  "use strict";
  var list = document.getElementById("inbox-body");
  var conv = document.getElementById("conversation");
  if (!list && !conv) { return; }

  var timer = null;
  function refresh() {
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      if (!window.htmx) { return; }
      if (list) {
        window.htmx.ajax("GET", list.dataset.inboxRows, { target: "#inbox-body", swap: "innerHTML" });
      } else {
        window.htmx.ajax("GET", conv.dataset.threadUrl, { target: "#live", swap: "innerHTML" });
      }
    }, 120);
  }

  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/");
    socket.onopen = function () { document.documentElement.dataset.inboxLive = "on"; delay = 1000; };
    socket.onmessage = function (msg) {
      var event = JSON.parse(msg.data);
      if (event.type !== "inbox.changed") { return; }
      if (list || event.data.conversation_id === conv.dataset.conversation) { refresh(); }
    };
    socket.onclose = function () {
      document.documentElement.dataset.inboxLive = "off";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();

  // canned responses: the server fills the variables for this conversation
  var canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", function () {
      if (!canned.value) { return; }
      fetch(canned.dataset.fillUrl.replace("CANNED", canned.value), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (text) {
          document.getElementById("reply-text").value = text;
          document.getElementById("canned-id").value = canned.value;
          document.getElementById("reply-text").focus();
        });
    });
  }

  // typing: tell the customer (where the channel can show it), at most every 3 seconds
  var composer = document.getElementById("reply-text");
  if (composer && composer.dataset.typingUrl) {
    var lastTyping = 0;
    composer.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping < 3000) { return; }
      lastTyping = now;
      var token = composer.form && composer.form.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(composer.dataset.typingUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": token ? token.value : "" },
      }).catch(function () {});
    });
  }

  // keyboard shortcuts (not while typing)
  var pendingG = false;
  var selected = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#inbox-rows tr[data-conversation]")); }
  function select(i) {
    var all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(i, all.length - 1));
    all.forEach(function (r, n) { r.classList.toggle("selected", n === selected); });
    var link = all[selected].querySelector("a");
    if (link) { link.focus(); }
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "INPUT" || t.tagName === "SELECT")) { return; }
    if (pendingG) {
      pendingG = false;
      if (e.key === "i") { location.href = "/inbox/"; }
      return;
    }
    if (e.key === "g") { pendingG = true; return; }
    if (list) {
      if (e.key === "j") { select(selected + 1); e.preventDefault(); }
      if (e.key === "k") { select(selected - 1); e.preventDefault(); }
    } else {
      if (e.key === "r") { var r = document.getElementById("reply-text"); if (r) { r.focus(); e.preventDefault(); } }
      if (e.key === "n") { var n = document.getElementById("note-text"); if (n) { n.focus(); e.preventDefault(); } }
      if (e.key === "e") { var f = document.getElementById("resolve-form"); if (f) { f.requestSubmit(); e.preventDefault(); } }
    }
  });
})();
