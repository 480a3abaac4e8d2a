// Carekit shell: auto-submitting switchers, the bell popover, and the real-time socket that feeds it.
// The bell state follows the protocol in carekit/core/realtime/notifications.py (apply_event).
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  var button = document.getElementById("bell-button");
  var panel = document.getElementById("bell-panel");
  var badge = document.getElementById("bell-count");
  var stateEl = document.getElementById("bell-state");
  if (!button || !panel || !stateEl) { return; }
  var state = JSON.parse(stateEl.textContent);
  var live = document.getElementById("live-region");

  function render() {
    badge.textContent = String(state.unread);
    badge.hidden = state.unread === 0;
    button.setAttribute("aria-label", button.dataset.labelTemplate.replace("{count}", String(state.unread)));
  }

  function apply(event) {
    var data = event.data;
    if (event.type === "notification.created") {
      if (!state.items.some(function (i) { return i.id === data.id; })) {
        state.items.unshift({ id: data.id, read: false });
        state.unread += 1;
      }
    } else if (event.type === "notification.read") {
      state.unread = Math.max(0, state.unread - data.ids.length);
      state.items.forEach(function (i) { if (data.ids.indexOf(i.id) >= 0) { i.read = true; } });
    }
    state.items = state.items.slice(0, 20);
  }

  function refreshPanel() {
    if (window.htmx) { window.htmx.trigger(document.body, "carekit:bell"); }
  }

  function setOpen(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { refreshPanel(); }
  }
  button.addEventListener("click", function () { setOpen(panel.hidden); });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) { setOpen(false); button.focus(); }
  });
  document.addEventListener("click", function (e) {
    if (!panel.hidden && !panel.contains(e.target) && !button.contains(e.target)) { setOpen(false); }
  });

  var delay = 1000;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/");
    socket.onmessage = function (msg) {
      var event = JSON.parse(msg.data);
      if (event.type === "hello") { root.dataset.realtime = "on"; delay = 1000; return; }
      if (event.type === "notification.created" || event.type === "notification.read") {
        apply(event);
        render();
        refreshPanel();
        if (event.type === "notification.created" && live) {
          live.textContent = live.dataset.generic;
        }
      }
    };
    socket.onclose = function () {
      root.dataset.realtime = "off";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  connect();
  render();
})();
