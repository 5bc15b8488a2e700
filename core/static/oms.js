/* OMS: small progressive enhancements; every page works without this file.
 *   data-confirm="Question ?"  on a <form> or a button: ask before submitting.
 *   data-autosubmit            on a <select> inside a form: submit on change.
 *   data-check-all="name"      on a checkbox: (un)check every checkbox of that name in its form.
 *   .flash messages get a close button.
 *   [data-import-progress="url"] (integrations/_progress.html): while data-running is "true",
 *     polls the url (JSON) every 1.5 s and updates the bar, the count and the refused items.
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
  function pollProgress(box) {
    var url = box.getAttribute("data-import-progress");
    var polls = 0;
    function set(selector, text) {
      var el = box.querySelector(selector);
      if (el) { el.textContent = text; }
    }
    function tick() {
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (p) {
          if (p && p.unit) {
            box.hidden = false;
            var bar = box.querySelector("progress");
            if (bar) {
              if (p.percent === null) { bar.removeAttribute("value"); } else { bar.value = p.percent; }
            }
            set("[data-progress-title]", p.title);
            set("[data-progress-text]", p.text);
            set("[data-progress-state]", p.state);
            var list = box.querySelector("[data-progress-errors]");
            var errorsBox = box.querySelector("[data-progress-errors-box]");
            if (list) {
              list.textContent = "";
              p.errors.forEach(function (e) {
                var li = document.createElement("li");
                var ref = document.createElement("strong");
                ref.textContent = e.ref;
                li.appendChild(ref);
                li.appendChild(document.createTextNode(" : " + e.message));
                list.appendChild(li);
              });
            }
            if (errorsBox) { errorsBox.hidden = p.errors.length === 0; }
            box.setAttribute("data-running", p.running ? "true" : "false");
          }
          polls += 1;
          if ((!p || !p.unit || p.running) && polls < 800) { window.setTimeout(tick, 1500); }
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    tick();
  }
  function startProgress() {
    var boxes = document.querySelectorAll("[data-import-progress][data-running=true]");
    for (var i = 0; i < boxes.length; i++) { pollProgress(boxes[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startProgress);
  } else {
    startProgress();
  }
})();
