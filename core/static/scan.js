/* Scan pages (ramassage, tri, emballage) for keyboard-wedge barcode scanners.
 *
 * A scanner types the code and presses Enter. The code is checked here first (EAN-8,
 * UPC-A, EAN-13 and GTIN-14 check digit; Code 128 is taken as it is), then sent to the
 * server, which checks it again and answers in JSON. A right item sounds a short high beep
 * and turns green; a refused one sounds a low double buzz (Web Audio, no sound file), turns
 * red and vibrates the phone. Scans are sent one at a time, in the order they were read.
 * Counting a unit without its barcode ("Forcer") asks for a reason.
 *
 * Markup: [data-scan-app] with data-scan-url, data-stage, data-csrf and data-msg-* texts;
 * rows [data-key] holding [data-row-done] / [data-row-total]; see templates/picking/.
 */
(function () {
  "use strict";

  var GTIN_LENGTHS = { 8: true, 12: true, 13: true, 14: true };
  var AIM_PREFIX = /^\][A-Za-z][0-9A-Za-z]/;

  function cleanScan(raw) {
    var code = String(raw || "").replace(/[\u0000-\u001f\u007f]/g, "").trim();
    return code.replace(AIM_PREFIX, "").trim();
  }

  function gtinCheckDigit(body) {
    var total = 0;
    for (var i = 0; i < body.length; i++) {
      var digit = body.charCodeAt(body.length - 1 - i) - 48;
      total += digit * (i % 2 === 0 ? 3 : 1);
    }
    return (10 - (total % 10)) % 10;
  }

  /* true: a valid GTIN or a Code 128 text; false: a GTIN-length number with a wrong check digit */
  function checkDigitOk(code) {
    if (!/^\d+$/.test(code) || !GTIN_LENGTHS[code.length]) { return true; }
    return gtinCheckDigit(code.slice(0, -1)) === Number(code.charAt(code.length - 1));
  }

  // ------------------------------------------------------------------ sound and vibration
  var audio = null;

  function tone(frequency, start, duration, type) {
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.25, start + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + duration);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(start);
    osc.stop(start + duration + 0.02);
  }

  function beep(ok) {
    document.body.setAttribute("data-last-beep", ok ? "ok" : "error");
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") { audio.resume(); }
      var now = audio.currentTime;
      if (ok) {
        tone(1760, now, 0.09, "sine");
      } else {
        tone(196, now, 0.22, "square");
        tone(165, now + 0.28, 0.3, "square");
      }
    } catch (err) {
      /* no sound on this device: the colours still tell */
    }
    if (!ok && navigator.vibrate) { navigator.vibrate([180, 80, 180]); }
  }

  // ------------------------------------------------------------------ page
  function ScanPage(app) {
    this.app = app;
    this.url = app.getAttribute("data-scan-url");
    this.stage = app.getAttribute("data-stage");
    this.csrf = app.getAttribute("data-csrf");
    this.input = app.querySelector(".scan-input");
    this.status = app.querySelector("[data-scan-status]");
    this.dialog = app.querySelector("[data-override-dialog]");
    this.queue = Promise.resolve();
    this.overrideKey = null;
    this.bind();
  }

  ScanPage.prototype.text = function (name) {
    return this.app.getAttribute("data-msg-" + name) || name;
  };

  ScanPage.prototype.bind = function () {
    var self = this;
    var form = this.app.querySelector("[data-scan-form]");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var value = self.input.value;
        self.input.value = "";
        self.submitCode(value);
      });
    }
    var toggle = this.app.querySelector("[data-keyboard-toggle]");
    if (toggle && this.input) {
      toggle.addEventListener("click", function () {
        var on = self.input.getAttribute("inputmode") !== "text";
        self.input.setAttribute("inputmode", on ? "text" : "none");
        toggle.setAttribute("aria-pressed", on ? "true" : "false");
        self.focus();
      });
    }
    this.app.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-override-key]");
      if (button) {
        self.openOverride(button.getAttribute("data-override-key"), button.getAttribute("data-override-label"));
        return;
      }
      if (!event.target.closest("a, button, input, select, textarea, summary, label, dialog")) { self.focus(); }
    });
    if (this.dialog) {
      var overrideForm = this.dialog.querySelector("[data-override-form]");
      overrideForm.addEventListener("submit", function (event) {
        event.preventDefault();
        var reason = overrideForm.elements.reason.value.trim();
        var error = self.dialog.querySelector("[data-override-error]");
        if (reason.length < 3) {
          error.hidden = false;
          overrideForm.elements.reason.focus();
          return;
        }
        error.hidden = true;
        self.closeOverride();
        self.send({ override: true, key: self.overrideKey, reason: reason });
      });
      this.dialog.querySelector("[data-override-cancel]").addEventListener("click", function () {
        self.closeOverride();
      });
      this.dialog.addEventListener("close", function () { self.focus(); });
    }
    this.focus();
  };

  ScanPage.prototype.focus = function () {
    if (this.input && !(this.dialog && this.dialog.open)) { this.input.focus({ preventScroll: true }); }
  };

  ScanPage.prototype.openOverride = function (key, label) {
    if (!this.dialog) { return; }
    this.overrideKey = key;
    this.dialog.querySelector("[data-override-what]").textContent = label || "";
    var form = this.dialog.querySelector("[data-override-form]");
    form.elements.reason.value = "";
    if (typeof this.dialog.showModal === "function") { this.dialog.showModal(); } else { this.dialog.setAttribute("open", ""); }
    form.elements.reason.focus();
  };

  ScanPage.prototype.closeOverride = function () {
    if (typeof this.dialog.close === "function") { this.dialog.close(); } else { this.dialog.removeAttribute("open"); }
    this.focus();
  };

  ScanPage.prototype.submitCode = function (raw) {
    var code = cleanScan(raw);
    if (!code) {
      this.show({ ok: false, status: "unknown", message: this.text("empty") });
      return;
    }
    if (!checkDigitOk(code)) {
      this.show({ ok: false, status: "check_digit", message: this.text("check-digit") + " (" + code + ")" });
      return;
    }
    this.send({ code: code });
  };

  ScanPage.prototype.send = function (payload) {
    var self = this;
    this.app.setAttribute("data-busy", "true");
    this.queue = this.queue.then(function () {
      return fetch(self.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": self.csrf },
        body: JSON.stringify(payload)
      }).then(function (res) {
        return res.json().catch(function () { return { ok: false, message: self.text("network") }; });
      }).then(function (data) {
        self.show(data);
      }).catch(function () {
        self.show({ ok: false, status: "network", message: self.text("network") });
      }).then(function () {
        self.app.removeAttribute("data-busy");
      });
    });
  };

  ScanPage.prototype.show = function (data) {
    var ok = Boolean(data.ok);
    this.status.textContent = data.message || "";
    this.status.setAttribute("data-state", ok ? "ok" : "error");
    this.status.setAttribute("data-code", data.status || "");
    this.status.classList.remove("scan-flash");
    void this.status.offsetWidth; /* restart the flash animation */
    this.status.classList.add("scan-flash");
    document.body.setAttribute("data-scan-state", ok ? "ok" : "error");
    beep(ok);
    if (data.counts) { this.updateCounts(data.counts); }
    var slot = this.app.querySelector("[data-scan-slot]");
    if (slot && ok && data.slot) {
      slot.hidden = false;
      slot.querySelector("[data-scan-slot-number]").textContent = data.slot;
    }
    if (typeof data.done === "number" && typeof data.total === "number" && data.total) {
      this.app.querySelector("[data-scan-done]").textContent = data.done;
      this.app.querySelector("[data-scan-total]").textContent = data.total;
      var bar = this.app.querySelector("[data-scan-bar]");
      if (bar) { bar.style.width = Math.round(100 * data.done / data.total) + "%"; }
      var complete = this.app.querySelector("[data-scan-complete]");
      if (complete) { complete.hidden = data.done < data.total; }
      this.app.setAttribute("data-complete", data.done >= data.total ? "true" : "false");
      var ship = document.querySelector("[data-ship-button]");
      if (ship) {
        ship.disabled = data.done < data.total;
        var hint = document.querySelector("[data-ship-hint]");
        if (hint) { hint.hidden = data.done >= data.total; }
      }
    }
    this.focus();
  };

  ScanPage.prototype.updateCounts = function (counts) {
    var rows = this.app.querySelectorAll("[data-key]");
    for (var i = 0; i < rows.length; i++) {
      var pair = counts[rows[i].getAttribute("data-key")];
      if (!pair) { continue; }
      rows[i].querySelector("[data-row-done]").textContent = pair[0];
      rows[i].querySelector("[data-row-total]").textContent = pair[1];
      rows[i].classList.toggle("is-done", pair[1] > 0 && pair[0] >= pair[1]);
    }
  };

  window.OMSScan = { checkDigitOk: checkDigitOk, gtinCheckDigit: gtinCheckDigit, cleanScan: cleanScan };

  function start() {
    /* the bar's first width comes from the page (no inline style: the CSP forbids it) */
    var bars = document.querySelectorAll("[data-scan-pct]");
    for (var b = 0; b < bars.length; b++) { bars[b].style.width = bars[b].getAttribute("data-scan-pct") + "%"; }
    var apps = document.querySelectorAll("[data-scan-app]");
    for (var i = 0; i < apps.length; i++) { apps[i].omsScan = new ScanPage(apps[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
