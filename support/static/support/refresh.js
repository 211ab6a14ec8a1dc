// Reload the page when the server says it changed (an open incident, the incident list).
// Polls a small JSON endpoint rather than reloading blindly, so a page being read stays put
// until there is something new, and never while the user is typing in a filter.
// The language menu submits itself when changed (a listener, not an inline handler,
// so the Content-Security-Policy needs no 'unsafe-inline' for scripts).
document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
(function () {
  var body = document.body;
  var url = body.dataset.refreshUrl;
  if (!url) return;
  var version = body.dataset.refreshVersion;
  var seconds = Math.max(parseInt(body.dataset.refreshSeconds, 10) || 5, 1);
  function busy() {
    var el = document.activeElement;
    return el && (el.tagName === "INPUT" || el.tagName === "SELECT" || el.tagName === "TEXTAREA");
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data && data.version !== version && !busy()) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, seconds * 1000);
      })
      .catch(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
