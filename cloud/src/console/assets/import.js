// The import page's progress bar: polls the import's status (same origin, the session's
// cookie) about twice a second and fills the bar; when the import has ended, reloads the
// page to show its report. Without this script the page offers a refresh link instead.
"use strict";
(function () {
  const bar = document.getElementById("import-progress");
  if (!bar) return;
  const text = document.getElementById("import-progress-text");
  const url = bar.getAttribute("data-status-url");
  const everyMs = 500;
  // Bounded: about ten minutes of polling, then the refresh link is the way on.
  let triesLeft = 1200;
  async function poll() {
    triesLeft -= 1;
    if (triesLeft < 0) return;
    try {
      const answer = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!answer.ok) return;
      const status = await answer.json();
      bar.max = Math.max(status.total_rows, 1);
      bar.value = status.processed_rows;
      if (text) {
        text.textContent = status.processed_rows + " of " + status.total_rows + " rows handled";
      }
      if (status.state === "done" || status.state === "failed") {
        window.location.reload();
        return;
      }
    } catch (error) {
      // A dropped poll: the next one tries again.
    }
    window.setTimeout(poll, everyMs);
  }
  window.setTimeout(poll, everyMs);
})();
