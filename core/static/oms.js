/* OMS: small progressive enhancements; every page works without this file.
 *   data-confirm="Question ?"  on a <form> or a button: ask before submitting.
 *   data-autosubmit            on a <select> inside a form: submit on change.
 *   data-check-all="name"      on a checkbox: (un)check every checkbox of that name in its form.
 *   .flash messages get a close button.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("input[type=checkbox][data-check-all]") && el.form) {
      var boxes = el.form.querySelectorAll("input[type=checkbox][name='" + el.getAttribute("data-check-all") + "']");
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = el.checked; }
      return;
    }
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) {
      if (typeof el.form.requestSubmit === "function") {
        el.form.requestSubmit();
      } else {
        el.form.submit();
      }
    }
  });

  function addCloseButtons() {
    var flashes = document.querySelectorAll(".flash");
    for (var i = 0; i < flashes.length; i++) {
      if (flashes[i].querySelector(".flash-close")) { continue; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "flash-close";
      button.setAttribute("aria-label", document.documentElement.getAttribute("data-close-label") || "Fermer");
      button.textContent = "\u00d7";
      flashes[i].appendChild(button);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addCloseButtons);
  } else {
    addCloseButtons();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".flash-close");
    if (button) {
      var flash = button.closest(".flash");
      if (flash) { flash.remove(); }
    }
  });
})();
