"""The ticket page's "Cuộc gọi lại": a callback's transcript under the call's, turns with their speakers,
masked for those who must not see personal data (SQLite and PostgreSQL, over HTTP)."""

from __future__ import annotations

import re

from callcenter.domain.access import Role
from tests.jobs.callbacks_data import CITIZEN_SAYS, OFFICER_CALLS_BACK, callbacks_on_a_transcribed_ticket
from tests.jobs.test_transcription_jobs import CALLER_SAYS
from tests.web.conftest import Web


async def test_the_ticket_page_shows_the_callbacks_transcript_under_the_calls(web_app: Web) -> None:
    cb = await callbacks_on_a_transcribed_ticket(web_app.app, web_app.clock)
    url = f"/phan-anh/{cb.ticket_id}"
    client, _ = await web_app.signed_in(Role.SUPERVISOR)
    before = await (await client.get(url)).text()
    assert "Cuộc gọi lại</h2>" not in before  # nothing to show before a callback is transcribed

    oid = await cb.talked()
    web_app.clock.advance(seconds=11)
    assert await cb.worker.run_once(web_app.clock)
    html = await (await client.get(url)).text()
    call_part, _, callback_part = html.partition('<h2 id="cuoc-goi-lai">Cuộc gọi lại</h2>')
    assert callback_part, "no callback section"
    assert CALLER_SAYS in call_part and CITIZEN_SAYS not in call_part  # the call's transcript stays first
    assert f'data-outbound="{oid}"' in callback_part
    section = callback_part.split("</section>")[0]
    assert re.findall(r'<span class="speaker">([^·<]+) ·', section) == ["Người gọi", "Cán bộ"]
    assert CITIZEN_SAYS in section and OFFICER_CALLS_BACK in section
    assert 'class="turn-button"' not in section  # its turns do not seek the call's mix

    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    masked = (await (await auditor.get(url)).text()).partition("Cuộc gọi lại</h2>")[2].split("</section>")[0]
    assert "Thông tin cá nhân đã được che" in masked and "sốc phản vệ" in masked
    assert "0987 654 321" not in masked and "654" not in masked


async def test_the_tickets_json_carries_the_callbacks_transcripts_masked_alike(web_app: Web) -> None:
    cb = await callbacks_on_a_transcribed_ticket(web_app.app, web_app.clock)
    await cb.talked()
    web_app.clock.advance(seconds=11)
    assert await cb.worker.run_once(web_app.clock)
    url = f"/api/tickets/{cb.ticket_id}"
    supervisor, _ = await web_app.signed_in(Role.SUPERVISOR)
    body = await (await supervisor.get(url)).json()
    [callback] = body["callback_transcripts"]
    assert CITIZEN_SAYS in callback["text"] and not callback["masked"]
    assert CITIZEN_SAYS not in body["transcript"]["text"]  # the call's own transcript is apart
    auditor, _ = await web_app.signed_in(Role.AUDITOR)
    [masked] = (await (await auditor.get(url)).json())["callback_transcripts"]
    assert masked["masked"] and "654" not in masked["text"]
