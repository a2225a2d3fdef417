"""The forms of the journeys (Flask-WTF: each carries a CSRF token). Messages are French."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

MAX_NAME = 100


class IdentityForm(FlaskForm):
    """A parent's names and mobile number, as the school knows them."""

    family_name = StringField(
        "Nom de famille",
        validators=[InputRequired("Saisissez votre nom de famille."),
                    Length(max=MAX_NAME, message="Ce nom est trop long.")])
    given_name = StringField(
        "Prénom",
        validators=[InputRequired("Saisissez votre prénom."),
                    Length(max=MAX_NAME, message="Ce prénom est trop long.")])
    mobile = StringField(
        "Numéro de téléphone portable",
        validators=[InputRequired("Saisissez votre numéro de téléphone portable."),
                    Length(max=32, message="Ce numéro est trop long.")])


class CodeForm(FlaskForm):
    """The code received by SMS."""

    code = StringField(
        "Code reçu par SMS",
        validators=[InputRequired("Saisissez le code à 6 chiffres reçu par SMS."),
                    Length(max=12, message="Le code compte 6 chiffres.")])


class ResendForm(FlaskForm):
    """Asks for a new code (only the CSRF token)."""


def birth_dates_form(children: list[tuple[str, str]]) -> FlaskForm:
    """A form with one birth date field per child: ``children`` is ``[(field name, label)]``."""

    class BirthDatesForm(FlaskForm):
        pass

    for name, label in children:
        setattr(BirthDatesForm, name, StringField(
            label, validators=[InputRequired("Saisissez la date de naissance de cet enfant."),
                               Length(max=32, message="Saisissez la date sous la forme "
                                                      "JJ/MM/AAAA.")]))
    return BirthDatesForm()


class ChoosePasswordForm(FlaskForm):
    """A new password typed twice (rules checked by the view)."""

    password = PasswordField(
        "Mot de passe",
        validators=[InputRequired("Choisissez un mot de passe."),
                    Length(max=1024, message="Ce mot de passe est trop long.")])
    confirmation = PasswordField(
        "Confirmez le mot de passe",
        validators=[InputRequired("Saisissez une seconde fois le mot de passe choisi.")])


class ForgottenPasswordForm(FlaskForm):
    """Whose password was forgotten: an identifier or a confirmed e-mail address."""

    account = StringField(
        "Identifiant ou adresse électronique",
        validators=[InputRequired("Saisissez votre identifiant ou votre adresse électronique."),
                    Length(max=254, message="Ce que vous avez saisi est trop long.")])
