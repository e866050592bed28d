// The stories page, live: every few seconds, ask for the table's rows (same filters) and
// swap them in when they changed. New stories are highlighted and announced to screen
// readers; nothing happens while the tab is hidden. Hand-written, no dependencies.
(function () {
  "use strict";
  var body = document.getElementById("story-rows");
  var status = document.getElementById("live-status");
  if (!body) { return; }
  var url = body.getAttribute("data-rows-url");
  var every = parseInt(body.getAttribute("data-poll-ms"), 10) || 2000;
  var last = body.innerHTML.trim();

  function ids(root) {
    var seen = {};
    root.querySelectorAll("tr[data-story]").forEach(function (row) {
      seen[row.getAttribute("data-story")] = true;
    });
    return seen;
  }

  function refresh() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || html.trim() === last) { return; }
        var before = ids(body);
        last = html.trim();
        body.innerHTML = html;
        var fresh = 0;
        body.querySelectorAll("tr[data-story]").forEach(function (row) {
          if (!before[row.getAttribute("data-story")]) { row.classList.add("new"); fresh += 1; }
        });
        if (fresh && status) {
          status.textContent = fresh + (fresh === 1 ? " new story" : " new stories") +
            " at " + new Date().toLocaleTimeString();
        }
      })
      .catch(function () { if (status) { status.textContent = "live updates paused: no answer"; } });
  }

  setInterval(refresh, every);
}());
