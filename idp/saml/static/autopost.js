// Sends a SAML message on to the service provider (HTTP-POST binding) without a click.
(function () {
  var form = document.getElementById("saml-post");
  if (form) {
    form.submit();
  }
})();
