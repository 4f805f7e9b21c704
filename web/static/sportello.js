// The counter: the field empties and takes the focus again after each scan
// (a scanner types the seal and presses Enter); the webcam, where there is
// one, takes a still and sends it as PNG, through sigillo.js.
"use strict";
(function () {
  var field = document.getElementById("sigillo");
  document.getElementById("modulo-testo").addEventListener("submit", function () {
    setTimeout(function () { field.value = ""; field.focus(); }, 0);
  });
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
