// The booking page shows times in the invitee's own zone: on a first visit (no ?tz= yet) the browser's
// zone is chosen and the times are shown again in it. The <select> changes it by hand; without
// JavaScript the page still works in the link's own zone.
(function () {
  var form = document.getElementById("tz-form");
  if (!form || new URLSearchParams(window.location.search).has("tz")) return;
  var select = form.querySelector("select");
  var detected;
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!detected || detected === select.value) return;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === detected) { select.value = detected; form.submit(); return; }
  }
})();
