"""The stand-in's two pages (login, error), in French like FranceConnect's."""
from __future__ import annotations

LAYOUT_HEAD = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} - FranceConnect (démonstration)</title>
<style>
body { font-family: Marianne, Arial, sans-serif; margin: 0; background: #f6f6f6; color: #161616; }
header { background: #fff; border-bottom: 1px solid #ddd; padding: 1rem 2rem; }
header strong { color: #000091; font-size: 1.25rem; }
main { max-width: 40rem; margin: 2rem auto; background: #fff; padding: 2rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1rem; }
label { display: block; margin: .25rem 0; }
input[type=password] { display: block; width: 100%; padding: .5rem; margin: .5rem 0 1rem;
  box-sizing: border-box; }
button { background: #000091; color: #fff; border: 0; padding: .75rem 1.5rem; font-size: 1rem;
  cursor: pointer; }
.error { color: #ce0500; font-weight: bold; }
.note { color: #666; font-size: .875rem; }
</style>
</head>
<body>
<header><strong>FranceConnect</strong> <span class="note">(service de démonstration)</span></header>
<main>
"""

LAYOUT_FOOT = """
</main>
</body>
</html>
"""

LOGIN = LAYOUT_HEAD + """
<h1>Connexion</h1>
<p>Vous êtes sur le point de vous connecter à <strong>{{ client_id }}</strong>.</p>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
  {% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">
  {% endfor %}
  <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
  <fieldset>
    <legend>Choisissez une identité de démonstration</legend>
    {% for identity in identities %}
    <label><input type="radio" name="login" value="{{ identity.login }}"
      {% if identity.login == selected or (not selected and loop.first) %}checked{% endif %}>
      {{ identity.display_name }} (né{% if identity.gender == "female" %}e{% endif %}
      le {{ identity.birthdate }}) — identifiant « {{ identity.login }} »</label>
    {% endfor %}
  </fieldset>
  <label for="password">Mot de passe</label>
  <input type="password" id="password" name="password" autocomplete="current-password" required>
  <button type="submit">Se connecter</button>
</form>
<p><a href="{{ cancel_url }}">Revenir sur le service</a></p>
""" + LAYOUT_FOOT

ERROR = LAYOUT_HEAD + """
<h1>Une erreur est survenue</h1>
<p class="error" role="alert">{{ error }}</p>
<p class="note">{{ description }}</p>
""" + LAYOUT_FOOT

LOGGED_OUT = LAYOUT_HEAD + """
<h1>Vous êtes déconnecté de FranceConnect</h1>
""" + LAYOUT_FOOT
