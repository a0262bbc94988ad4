"""Login and profile forms (CSRF and translated built-in messages come with ``Form``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length

from web.ui.forms import Form


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class PasswordForm(Form):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=12)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo(
                                "new", message=_l("The two new passwords are not the same."))])


class LocaleForm(Form):
    locale = SelectField(_l("Language"), choices=[("id", "Bahasa Indonesia"),
                                                  ("en", "English")])
