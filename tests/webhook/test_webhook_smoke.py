import httpx
from tests.webhook.support import *

def test_smoke(server, recorder):
    body = whatsapp_body("4915112345678", "wamid.smoke1", "Wie melde ich meinen Zählerstand?")
    r = httpx.post(server.url + "/webhook/whatsapp", content=body, headers=signed(body, WHATSAPP_SECRET))
    print(r.status_code, r.text)
    got = recorder.wait_for(2)
    for g in got: print(g.path, g.headers.get("authorization"), g.body)
    assert r.status_code == 200
