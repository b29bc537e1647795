// The password rules of the sign-up and reset pages, checked as the user
// types: each rule of the list (the pool's own, rendered by the server)
// is marked met or not. The server checks them again; the common-password
// rule is only checked there.
(function () {
  "use strict";
  var pw = document.getElementById("new-password");
  var list = document.getElementById("password-rules");
  if (!pw || !list) { return; }
  var min = parseInt(list.getAttribute("data-min") || "0", 10);
  var rules = {};
  Array.prototype.forEach.call(list.querySelectorAll("li[data-rule]"), function (li) {
    rules[li.getAttribute("data-rule")] = li;
  });
  // The account's own identifiers the password must not contain (as the
  // server's policy: the username, the email address's name, the phone
  // number without "+"; only those of 3 characters or more).
  var identities = function () {
    var out = [];
    Array.prototype.forEach.call(document.querySelectorAll("[data-identity]"), function (el) {
      var v = (el.value || "").trim();
      if (el.getAttribute("data-identity") === "email") {
        var at = v.lastIndexOf("@");
        v = at > 0 ? v.slice(0, at) : "";
      }
      v = v.replace(/^\+/, "");
      if (Array.from(v).length >= 3) { out.push(v.toLowerCase()); }
    });
    return out;
  };
  var mark = function (li, ok) {
    if (!li) { return; }
    li.classList.toggle("ok", ok === true);
    li.classList.toggle("bad", ok === false);
  };
  var check = function () {
    var v = pw.value;
    if (v === "") { mark(rules.length, null); mark(rules.identity, null); return; }
    mark(rules.length, Array.from(v).length >= min && new TextEncoder().encode(v).length <= 256);
    var lower = v.toLowerCase();
    mark(rules.identity, !identities().some(function (id) { return lower.indexOf(id) >= 0; }));
  };
  pw.addEventListener("input", check);
  Array.prototype.forEach.call(document.querySelectorAll("[data-identity]"), function (el) {
    el.addEventListener("input", check);
  });
  check();
}());
