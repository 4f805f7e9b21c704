// What the verification pages share: `sigillo.send(body, type)` posts to
// the API and shows the report in #esito, building it with text nodes only
// (nothing a seal carries becomes markup); the forms go through it too, and
// without this script they post to /v, which answers the same report.
"use strict";
var sigillo = (function () {
  var out = document.getElementById("esito");
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function statusText(s) {
    switch (s && s.state) {
      case "valid": return "In corso di validità";
      case "expired": return "Scaduto";
      case "revoked": return s.reason ? "Revocato: " + s.reason : "Revocato";
      case "superseded": return "Sostituito da un certificato successivo";
      case "pending": return "Non ancora rilasciato";
      default: return "Non verificabile";
    }
  }
  function render(r) {
    // Green only for a certificate in force, amber for a status not
    // checked, red for everything not to be relied on.
    var state = r.outcome === "authentic" && r.status ? r.status.state : null;
    var cls = state === "valid" ? "ok" : (state === "unknown" ? "attenzione" : "ko");
    var box = el("section", null, "verdetto " + cls);
    box.setAttribute("aria-labelledby", "esito-titolo");
    var h = el("h2", r.headline);
    h.id = "esito-titolo";
    box.appendChild(h);
    box.appendChild(el("p", r.detail));
    if (r.outcome === "invalid" && r.step) {
      box.appendChild(el("p", "Passo non superato: " + r.step.number + ". " + r.step.label, "passo"));
    }
    if (r.outcome === "authentic") {
      box.appendChild(el("h3", "Stato"));
      box.appendChild(el("p", statusText(r.status), "stato"));
      box.appendChild(el("h3", "Cosa riporta il sigillo"));
      box.appendChild(el("p", "Confrontare ogni riga con il documento: devono coincidere.", "nota"));
      var dl = el("dl");
      (r.facts && r.facts.lines || []).forEach(function (line) {
        dl.appendChild(el("dt", line.label));
        dl.appendChild(el("dd", line.value));
      });
      box.appendChild(dl);
    }
    show(box, h, r);
  }
  function fail(message) {
    var box = el("section", null, "verdetto ko");
    box.setAttribute("role", "alert");
    var h = el("h2", "Verifica non eseguita");
    box.appendChild(h);
    box.appendChild(el("p", message));
    show(box, h);
  }
  // Shows the verdict and tells the page (`sigillo:esito`, with the report
  // or null): the counter takes the focus back to its scan field, the
  // other pages leave it on the verdict's heading.
  function show(box, heading, report) {
    out.textContent = "";
    out.appendChild(box);
    heading.tabIndex = -1;
    heading.focus();
    document.dispatchEvent(new CustomEvent("sigillo:esito", {
      detail: { report: report || null, verdict: box.className, headline: heading.textContent }
    }));
  }
  function send(body, type) {
    out.textContent = "";
    out.appendChild(el("p", "Verifica in corso…"));
    return fetch("/api/v1/verify", { method: "POST", headers: { "Content-Type": type }, body: body })
      .then(function (res) {
        return res.json().then(function (json) {
          if (!res.ok) { throw new Error(json.error ? json.error.message : "errore " + res.status); }
          return json;
        });
      })
      .then(render, function (e) { fail(e.message || "Verifica non riuscita: riprovare."); });
  }
  var text = document.getElementById("modulo-testo");
  var file = document.getElementById("modulo-file");
  text.addEventListener("submit", function (event) {
    var value = document.getElementById("sigillo").value.trim();
    if (!value) { return; }
    event.preventDefault();
    send(value, "text/plain; charset=utf-8");
  });
  file.addEventListener("submit", function (event) {
    var chosen = document.getElementById("file").files[0];
    if (!chosen) { return; }
    event.preventDefault();
    send(chosen, chosen.type || "application/octet-stream");
  });
  return { send: send, fail: fail };
})();
