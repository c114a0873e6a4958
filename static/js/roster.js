// Roster pages: ask before dropping a shift or replacing the calendar link, and a "Copy" button
// for the calendar link. Without JavaScript the forms still work and the link can be selected.
(function () {
  "use strict";

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copyTarget);
    const status = document.getElementById("copy-status");
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    if (status) status.textContent = "";
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(
        function () { if (status) status.textContent = "Copied. Paste it into your calendar app."; },
        function () { input.select(); if (status) status.textContent = "Select the link and copy it."; }
      );
    });
  });
})();
