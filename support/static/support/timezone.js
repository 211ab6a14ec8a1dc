// Tell the server the browser's time zone (a cookie), so every time on the pages is in
// the reader's zone with its offset. A person's saved time zone wins on the server;
// the page reloads once, only when the cookie was missing or stale.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  var match = document.cookie.match(/(?:^|; )cxhub_tz=([^;]*)/);
  var known = match ? decodeURIComponent(match[1]) : "";
  if (known === zone) return;
  document.cookie = "cxhub_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
  var shown = document.documentElement.dataset.timeZone;
  if (shown && shown !== zone && !document.documentElement.dataset.timeZoneSaved) {
    window.location.reload();
  }
})();
