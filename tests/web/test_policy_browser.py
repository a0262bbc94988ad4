"""The composer's policy panel in a real Chromium: typing a banned phrase makes its violation
appear (htmx, no inline script, under the app's CSP), fixing the text makes it go; a soft
rule's "I understand" box submits the post."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from publisher.models import Post, PostStatus, Role, User
from publisher.services import policy_rules
from tests.web.test_browser import live, login, page, shot  # noqa: F401,F811 - fixtures

pytestmark = pytest.mark.browser


def test_violation_appears_while_typing(live, page, core, make_user,  # type: ignore[no-untyped-def] # noqa: F811
                                        make_channel):
    admin = make_user(Role.ADMIN, None)
    make_channel(admin)
    with core.sessions.begin() as s:
        actor = s.get(User, admin.id)
        hard = policy_rules.create_rule(core, s, actor, kind="banned_phrase", severity="hard",
                                        value="pasti cair", reason="Janji yang belum pasti").id
        soft = policy_rules.create_rule(core, s, actor, kind="link_domains", severity="soft",
                                        value="go.id").id
    op = make_user(Role.OPERATOR, "a")
    login(page, live, op.email)
    page.goto(live + "/unggahan/baru")
    page.get_by_label("Dinsos FB").check()
    body = page.locator("#body")
    body.press_sequentially("Bantuan sosial ", delay=10)
    panel = page.locator("#policy")
    panel.locator("[data-policy-ok]").wait_for()
    body.press_sequentially("pasti cair minggu ini", delay=10)
    hard_item = panel.locator(f'li[data-rule="{hard}"]')
    hard_item.wait_for()
    assert "Janji yang belum pasti" in hard_item.inner_text()
    shot(page, "composer-policy")
    body.fill("Bantuan sosial cair minggu ini, info https://bit.ly/bansos")
    soft_item = panel.locator(f'li[data-rule="{soft}"]')
    soft_item.wait_for()
    hard_item.wait_for(state="detached")
    # (a blur's "change" and the tick's each ask the panel; the last one wins: hx-sync)
    soft_item.get_by_label("Saya mengerti").check()
    page.get_by_role("button", name="Ajukan persetujuan").click()
    page.wait_for_url(re.compile(r".*/unggahan/\d+$"))
    with core.sessions() as s:
        post = s.execute(select(Post)).scalar_one()
        assert post.status == PostStatus.SUBMITTED
    assert page.csp == [], page.csp  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
