"""Forms of the administration (Flask-WTF: each carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from idp.admin.access import DELEGABLE


class SignInForm(FlaskForm):
    identifier = StringField("Identifiant académique", validators=[
        InputRequired("Saisissez votre identifiant académique."), Length(max=128)])
    password = PasswordField("Mot de passe", validators=[
        InputRequired("Saisissez votre mot de passe."), Length(max=1024)])


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[
        InputRequired("Saisissez le code à 6 chiffres ou un code de secours."), Length(max=20)])


class DelegateForm(FlaskForm):
    agent = StringField("Identifiant académique de l'agent", validators=[
        InputRequired("Saisissez l'identifiant académique de l'agent."), Length(max=128)])
    right = SelectField("Droit délégué", choices=[SelectChoice(r.value, r.label) for r in DELEGABLE])
    until = DateField("Jusqu'au (facultatif)", validators=[Optional()])


class RevokeForm(FlaskForm):
    agent = HiddenField(validators=[InputRequired(), Length(max=128)])


class ActionForm(FlaskForm):
    """Actions on a selection: only the CSRF token is a field; the button's ``action`` value,
    the selected ``uid`` values and ``tous`` are read from the form beside it."""
