// Rapport's few enhancements. Every page works without this file; it shows
// times in the reader's own time zone, tells the server the zone of a time
// typed into a form, and closes the account menu on a click elsewhere.
(function () {
  "use strict";

  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.localised) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.textContent;
      el.textContent = format.format(d);
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

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); });
  document.addEventListener("htmx:load", function (e) { localTimes(e.detail.elt); });
})();
