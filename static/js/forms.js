// Every page: when a form comes back with problems, move the focus to its summary, so that a
// screen reader reads it out and a keyboard user starts from it, and say so in the tab's title.
(function () {
  "use strict";
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  if (!document.title.startsWith("Error: ")) document.title = "Error: " + document.title;
  summary.focus();
})();
