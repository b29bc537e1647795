// Passkeys on authpool's hosted pages (docs/MFA.md "Passkeys"). A form
// marked data-passkey="get" (sign-in, second factor) or "create" (the
// /passkeys page) gets its ceremony's options from data-begin (a form
// post with the page's CSRF token, answered as JSON), hands them to
// navigator.credentials, and posts the authenticator's answer as JSON in
// the form's "credential" field; the server checks everything. The
// sign-in form (data-conditional) also offers the passkeys in the
// username field's autofill (conditional mediation); it is data-quiet: a
// browser without passkeys just does not show its button.
(function () {
  "use strict";

  // base64url <-> ArrayBuffer: WebAuthn's JSON carries binary values as
  // unpadded base64url.
  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    if (pk.user && pk.user.id) { pk.user.id = toBuffer(pk.user.id); }
    ["excludeCredentials", "allowCredentials"].forEach(function (k) {
      (pk[k] || []).forEach(function (c) { c.id = toBuffer(c.id); });
    });
    return pk;
  }

  function encodeCredential(c) {
    var r = c.response;
    var out = {
      id: c.id, rawId: toBase64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) { out.response.userHandle = toBase64url(r.userHandle); }
    }
    return JSON.stringify(out);
  }

  var errorBox = document.getElementById("passkey-error");
  function showError(msg) {
    if (!errorBox) { return; }
    errorBox.textContent = msg || errorBox.getAttribute("data-failed") || "";
    errorBox.hidden = false;
  }

  // begin posts the form's fields (not the credential) to its begin route.
  function begin(form) {
    var body = new URLSearchParams();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.name !== "credential" && el.type !== "button") { body.append(el.name, el.value); }
    });
    return fetch(form.getAttribute("data-begin"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (res) {
      return res.json().then(function (j) {
        if (!res.ok || !j.options) { throw new Error(j.message || ""); }
        return j.options;
      });
    });
  }

  function finish(form, cred) {
    form.elements.credential.value = encodeCredential(cred);
    form.submit();
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials);

  Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), function (form) {
    var kind = form.getAttribute("data-passkey");
    var button = form.querySelector("button[type=button]");
    if (!supported) {
      if (!form.hasAttribute("data-quiet") && errorBox) {
        showError(errorBox.getAttribute("data-unsupported"));
      }
      return;
    }
    var pending = null; // the conditional request's AbortController

    function run() {
      if (pending) { pending.abort(); pending = null; }
      if (errorBox) { errorBox.hidden = true; }
      begin(form).then(function (options) {
        var pk = decodeOptions(options);
        return kind === "create" ? navigator.credentials.create({ publicKey: pk }) : navigator.credentials.get({ publicKey: pk });
      }).then(function (cred) {
        if (cred) { finish(form, cred); }
      }).catch(function (e) {
        showError(e && e.message && e.name === "Error" ? e.message : "");
      });
    }

    if (button) {
      button.hidden = false;
      button.addEventListener("click", run);
    }

    if (form.hasAttribute("data-conditional") && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (ok) {
        if (!ok) { return; }
        var ctrl = new AbortController();
        pending = ctrl;
        begin(form).then(function (options) {
          return navigator.credentials.get({ publicKey: decodeOptions(options), mediation: "conditional", signal: ctrl.signal });
        }).then(function (cred) {
          if (cred && pending === ctrl) { finish(form, cred); }
        }).catch(function () {
          // Aborted for the button, or nothing chosen: the forms stay.
        });
      });
    }
  });
}());
