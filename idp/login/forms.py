"""The forms of the login and activation pages (Flask-WTF: every one carries a CSRF token).

Messages are in French and say what to do. Field lengths are bounded so that nobody can make
the server hash a megabyte of "password".
"""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Length

PROFILE_CHOICES = [SelectChoice("eleve", "Élève"),
                   SelectChoice("responsable", "Représentant légal")]
MAX_IDENTIFIER = 64
MAX_PASSWORD = 1024


class LoginForm(FlaskForm):
    """Profile, identifier and password."""

    profile = RadioField(
        "Je suis", choices=PROFILE_CHOICES, validate_choice=False,
        validators=[InputRequired("Indiquez si vous êtes élève ou représentant légal."),
                    AnyOf([choice.value for choice in PROFILE_CHOICES],
                          "Indiquez si vous êtes élève ou représentant légal.")])
    identifier = StringField(
        "Identifiant",
        validators=[InputRequired("Saisissez votre identifiant."),
                    Length(max=MAX_IDENTIFIER, message="Cet identifiant est trop long : "
                           "vérifiez ce que vous avez saisi.")])
    password = PasswordField(
        "Mot de passe",
        validators=[InputRequired("Saisissez votre mot de passe."),
                    Length(max=MAX_PASSWORD, message="Ce mot de passe est trop long.")])


def _new_password() -> PasswordField:
    return PasswordField(
        "Nouveau mot de passe",
        validators=[InputRequired("Choisissez un mot de passe."),
                    Length(max=MAX_PASSWORD, message="Ce mot de passe est trop long.")])


def _confirmation() -> PasswordField:
    return PasswordField(
        "Confirmez le nouveau mot de passe",
        validators=[InputRequired("Saisissez une seconde fois le mot de passe choisi.")])


class NewPasswordForm(FlaskForm):
    """A new password typed twice (its rules are checked by the view, per profile)."""

    password = _new_password()
    confirmation = _confirmation()


class PupilActivationForm(FlaskForm):
    """A pupil's activation: their birth date, then the new password typed twice."""

    birth_date = StringField(
        "Votre date de naissance",
        validators=[InputRequired("Saisissez votre date de naissance."),
                    Length(max=32, message="Saisissez la date sous la forme JJ/MM/AAAA.")])
    password = _new_password()
    confirmation = _confirmation()


def field_order(form: FlaskForm) -> list[str]:
    """Names of the form's visible fields in page order (for the error summary)."""
    return [name for name in form._fields if name != "csrf_token"]
