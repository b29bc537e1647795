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

// Pool settings: the branding preview follows the display name, logo URL
// and primary colour as they are typed (the server judges them on save;
// the preview shows only values of the accepted shapes).
(function () {
  "use strict";
  var box = document.getElementById("brand-preview");
  if (!box) { return; }
  var name = document.getElementById("s-brandDisplayName");
  var logo = document.getElementById("s-brandLogoURL");
  var color = document.getElementById("s-brandPrimaryColor");
  var pName = document.getElementById("preview-name");
  var pLogo = document.getElementById("preview-logo");
  var pButton = document.getElementById("preview-button");
  var pLink = document.getElementById("preview-link");
  function update() {
    var n = name ? name.value.trim() : "";
    pName.textContent = n || pName.getAttribute("data-default");
    var l = logo ? logo.value.trim() : "";
    if (/^https:\/\/[^\s@#]+$/.test(l)) {
      if (pLogo.getAttribute("src") !== l) { pLogo.setAttribute("src", l); }
      pLogo.hidden = false;
    } else {
      pLogo.removeAttribute("src");
      pLogo.hidden = true;
    }
    var c = color ? color.value.trim() : "";
    var ok = /^#[0-9a-fA-F]{6}$/.test(c);
    pButton.style.backgroundColor = ok ? c : "";
    pLink.style.color = ok ? c : "";
    box.setAttribute("data-color", ok ? c.toLowerCase() : "");
  }
  [name, logo, color].forEach(function (el) { if (el) { el.addEventListener("input", update); } });
  update();
}());
