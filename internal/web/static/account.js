// The account page works without JavaScript; this file only helps: the
// send-code buttons count their wait down (the server enforces it
// anyway), and the second new password is checked as it is typed.
(function () {
  "use strict";
  var sends = document.querySelectorAll("button.send[data-wait]");
  Array.prototype.forEach.call(sends, function (btn) {
    var wait = parseInt(btn.getAttribute("data-wait") || "0", 10);
    if (!(wait > 0)) { return; }
    var label = btn.textContent;
    var prefix = btn.getAttribute("data-label-wait") || "";
    btn.disabled = true;
    var tick = function () {
      if (wait <= 0) { btn.disabled = false; btn.textContent = label; return; }
      btn.textContent = prefix + " " + wait + "s";
      wait -= 1;
      setTimeout(tick, 1000);
    };
    tick();
  });
  var pw = document.getElementById("new-password");
  var again = document.getElementById("confirm-password");
  if (pw && again) {
    var check = function () {
      again.setCustomValidity(again.value !== "" && again.value !== pw.value ? (again.getAttribute("data-mismatch") || "≠") : "");
    };
    pw.addEventListener("input", check);
    again.addEventListener("input", check);
  }
}());
