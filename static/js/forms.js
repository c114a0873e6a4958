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
    // A field's autofocus (the sign-in form's username) gives way to the summary as well.
    const active = document.activeElement;
    if (!active || active === document.body || active.id === "main" || active.autofocus) {
      summary.focus();
    }
  }
  focusSummary();
  // Scrolling to the address's #fragment happens at load and may take the focus away again.
  window.addEventListener("load", function () { window.setTimeout(focusSummary, 0); });
})();

// Every form that saves something is sent once: a second press (a double click at a busy desk)
// would log the walk-in twice. The pressed button shows it is busy until the next page.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    if (form.dataset.sending === "true") {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "true";
    if (event.submitter) event.submitter.setAttribute("aria-busy", "true");
  });
  // Back to a page kept in the browser's memory: its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
      form.querySelectorAll("[aria-busy]").forEach(function (b) { b.removeAttribute("aria-busy"); });
    });
  });
})();
