// Rapport's few enhancements. Every page works without this file; it shows
// times in the reader's own time zone, tells the server the zone of a time
// typed into a form, closes the account menu on a click elsewhere, copies
// survey links, prints the handover brief and folds the menu on a phone.
(function () {
  "use strict";

  // Times read as the server writes them ("4 Dec 2026, 22:46"), in the
  // reader's own zone; a date the server gave without its time stays a date.
  var months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function format(d, withTime) {
    var day = d.getDate() + " " + months[d.getMonth()] + " " + d.getFullYear();
    return withTime ? day + ", " + pad(d.getHours()) + ":" + pad(d.getMinutes()) : day;
  }

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.localised) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = format(d, el.textContent.indexOf(":") >= 0);
      el.dataset.localised = "1";
    });
  }

  // The offset of the typed time itself, so that a date across a daylight
  // saving change is read right.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var tz = form.querySelector("[data-tz-offset]");
    if (!tz) return;
    var when = form.querySelector("input[type=datetime-local]");
    var d = when && when.value ? new Date(when.value) : new Date();
    tz.value = String(isNaN(d) ? new Date().getTimezoneOffset() : d.getTimezoneOffset());
  }, true);

  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (!menu.contains(e.target)) menu.removeAttribute("open");
    });
  });

  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // A survey link is shown once: select it on focus and copy it with a click.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy") && done(); });
    } else if (document.execCommand("copy")) {
      done();
    }
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-select-on-focus]")) e.target.select();
  });

  // Print buttons exist only where script can press Print for the reader.
  function printButtons(root) {
    root.querySelectorAll("[data-print]").forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () { window.print(); });
    });
  }

  // On a phone the main menu folds behind a Menu button; without script
  // the links simply wrap onto more rows.
  function navMenu() {
    var toggle = document.querySelector(".nav-toggle");
    if (!toggle) return;
    var bar = toggle.closest(".topbar");
    toggle.hidden = false;
    bar.classList.add("nav-folds");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      bar.classList.toggle("nav-open", open);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || !bar.classList.contains("nav-open")) return;
      toggle.setAttribute("aria-expanded", "false");
      bar.classList.remove("nav-open");
      toggle.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", navMenu);
  document.addEventListener("DOMContentLoaded", function () { printButtons(document); });
  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:load", function (e) { localTimes(e.detail.elt); });
})();
