// The walk-in form: show the EMS warning and the conditional parts of the safety screen as
// the officer answers. Without JavaScript everything is shown and the server still decides.
(function () {
  "use strict";
  const form = document.getElementById("walk-in-form");
  if (!form) return;

  function toggle(checkboxName, targetId, showWhenChecked) {
    const box = form.elements[checkboxName];
    const target = document.getElementById(targetId);
    if (!box || !target) return;
    const update = () => { target.hidden = box.checked !== showWhenChecked; };
    box.addEventListener("change", update);
    update();
  }

  toggle("needs_emergency_care", "ems-warning", true);
  toggle("under_18", "guardian-fields", true);
  toggle("items_surrendered", "surrendered-fields", true);
})();
