// The page the QR code opens: the seal is in the fragment, which never
// reaches the server; it is verified at once, through sigillo.js.
"use strict";
(function () {
  var digits = location.hash.replace(/^#/, "").trim();
  var explanation = document.getElementById("spiegazione");
  if (digits) {
    if (explanation) { explanation.hidden = true; }
    sigillo.send(digits, "text/plain; charset=utf-8");
  }
})();
