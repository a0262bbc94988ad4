from __future__ import annotations

import logging

from publisher.logs import RedactingFormatter


def test_tracebacks_and_messages_are_redacted():
    fmt = RedactingFormatter("%(message)s")
    try:
        raise RuntimeError("GET https://api.telegram.org/bot123456:AAHsecretTOKEN/sendMessage "
                           "failed; Authorization: Bearer abc.def.ghi access_token=EAAsecret")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "publish failed %s",
                                   ("password=hunter22",), sys.exc_info())
    text = fmt.format(record)
    for secret in ("AAHsecretTOKEN", "abc.def.ghi", "EAAsecret", "hunter22"):
        assert secret not in text
    assert "publish failed" in text and "RuntimeError" in text
