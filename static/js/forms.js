// Every page: when a form comes back with problems, move the focus to its summary, so that a
// screen reader reads it out and a keyboard user starts from it, and say so in the tab's title.
(function () {
  "use strict";
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  if (!document.title.startsWith("Error: ")) document.title = "Error: " + document.title;

  function focusSummary() {
    // Unless the person has already moved on: only from nowhere, or from the page's main area
    // (where a form posted from "…#main", after the skip link, would land).
    const active = document.activeElement;
    if (!active || active === document.body || active.id === "main") summary.focus();
  }
  focusSummary();
  // Scrolling to the address's #fragment happens at load and may take the focus away again.
  window.addEventListener("load", function () { window.setTimeout(focusSummary, 0); });
})();
