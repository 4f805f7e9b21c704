// The counter: the field empties and takes the focus again after each scan
// and after each verdict (a scanner types the seal and presses Enter, scan
// after scan, with no click); the verdicts of this session's scans are
// listed under the result, newest first (kept for the browser tab only,
// with no personal data: time, verdict, certificate number); the webcam,
// where there is one, takes a still and sends it as PNG, through sigillo.js.
"use strict";
(function () {
  var field = document.getElementById("sigillo");
  var list = document.getElementById("storico-elenco");
  var empty = document.getElementById("storico-vuoto");
  var KEY = "sigillo-sportello-storico-" + (document.getElementById("storico").getAttribute("data-sessione") || "");
  var MAX = 50;
  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(scans) {
    try { sessionStorage.setItem(KEY, JSON.stringify(scans)); } catch (e) { /* storage off: list kept on screen only */ }
  }
  var scans = load();
  function draw() {
    list.textContent = "";
    empty.hidden = scans.length > 0;
    scans.forEach(function (scan) {
      var item = document.createElement("li");
      item.className = scan.verdict;
      var time = document.createElement("time");
      time.textContent = scan.time;
      item.appendChild(time);
      item.appendChild(document.createTextNode(" " + scan.headline + (scan.number ? " — n. " + scan.number : "")));
      list.appendChild(item);
    });
  }
  document.getElementById("modulo-testo").addEventListener("submit", function () {
    setTimeout(function () { field.value = ""; field.focus(); }, 0);
  });
  document.addEventListener("sigillo:esito", function (event) {
    var report = event.detail.report;
    var verdict = (event.detail.verdict.split(" ")[1]) || "ko";
    scans.unshift({
      time: new Date().toLocaleTimeString("it-IT"),
      verdict: verdict,
      headline: event.detail.headline,
      number: report && report.facts ? report.facts.number : null
    });
    scans = scans.slice(0, MAX);
    save(scans);
    draw();
    field.value = "";
    field.focus();
  });
  draw();
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) { return; }
  var box = document.getElementById("webcam");
  var video = document.getElementById("webcam-video");
  var shoot = document.getElementById("webcam-scatta");
  var canvas = document.getElementById("webcam-tela");
  box.hidden = false;
  document.getElementById("webcam-avvia").addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      shoot.hidden = false;
      return video.play();
    }, function () {
      sigillo.fail("Webcam non disponibile: consentire l'accesso alla fotocamera, oppure usare il lettore o caricare un file.");
    });
  });
  shoot.addEventListener("click", function () {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) { sigillo.send(blob, "image/png"); }, "image/png");
  });
})();
