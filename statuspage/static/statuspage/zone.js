// Suggest the browser's time zone in a subscription form's zone list: add it when the
// list lacks it, and choose it where the form asks for a suggestion (a new subscription).
// Without script the bank's zone stays chosen; the server checks the zone either way.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone) return;
  var lists = document.querySelectorAll("select[data-zone-suggest]");
  for (var i = 0; i < lists.length; i++) {
    var list = lists[i], found = null;
    for (var j = 0; j < list.options.length; j++) {
      if (list.options[j].value === zone) found = list.options[j];
    }
    if (!found) {
      found = new Option(zone, zone);
      list.add(found, 0);
    }
    if (list.getAttribute("data-zone-suggest") === "choose") found.selected = true;
  }
})();
