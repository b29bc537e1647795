// authpool's hosted pages work without JavaScript; this file only adds the
// countdown of the SMS code button (the server enforces the wait anyway).
(function () {
  "use strict";
  var btn = document.getElementById("send-code");
  if (!btn) { return; }
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
}());
