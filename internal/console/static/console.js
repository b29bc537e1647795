// The admin console works without JavaScript; this file only adds
// conveniences: the pool switcher follows its select at once, and
// destructive forms (data-confirm) ask before they are sent.
(function () {
  "use strict";
  var sw = document.getElementById("pool-switch");
  if (sw) {
    var sel = sw.querySelector("select");
    var go = sw.querySelector("button");
    if (sel && go) {
      go.hidden = true;
      sel.addEventListener("change", function () { sw.submit(); });
    }
  }
  var forms = document.querySelectorAll("form[data-confirm]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", function (ev) {
      if (!window.confirm(this.getAttribute("data-confirm"))) { ev.preventDefault(); }
    });
  }
}());
