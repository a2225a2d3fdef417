// Sends the service ticket to the service with the POST method (CAS `method=POST`).
// An external file, because the Content-Security-Policy forbids inline scripts.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("cas-post-form");
  if (form) { form.submit(); }
});
