"""Signature checks against the published test vectors, and the webhook settings."""

from __future__ import annotations

import pytest

from botkit.errors import ConfigError, SignatureError
from botkit.webhook import WebhookSettings, load_settings, sign, verify_hub_signature, verify_telegram_token
from tests.webhook.support import require_payloads, signature_vectors


def test_published_signature_vectors_verify_with_their_secrets():
    require_payloads()
    vectors = signature_vectors()
    assert {platform for platform, _, _ in vectors} == {"messenger", "whatsapp"}
    for _, body, meta in vectors:
        assert len(body) == meta["body_length_bytes"]
        assert sign(body, meta["app_secret"]) == meta["x_hub_signature_256_header"]
        verify_hub_signature(body, meta["x_hub_signature_256_header"], meta["app_secret"])
        # botbuilder's source holds the digest in upper case
        verify_hub_signature(body, "sha256=" + meta["hmac_sha256_hex"].upper(), meta["app_secret"])


def test_any_changed_byte_or_secret_fails_the_signature():
    require_payloads()
    for _, body, meta in signature_vectors():
        header = meta["x_hub_signature_256_header"]
        with pytest.raises(SignatureError, match="does not match"):
            verify_hub_signature(body[:-1], header, meta["app_secret"])
        with pytest.raises(SignatureError, match="does not match"):
            verify_hub_signature(body.replace(b"\r\n", b"\n") + b" ", header, meta["app_secret"])
        with pytest.raises(SignatureError, match="does not match"):
            verify_hub_signature(body, header, meta["app_secret"] + "x")


@pytest.mark.parametrize(
    ("header", "reason"),
    [(None, "missing"), ("", "missing"), ("sha1=abc", "sha256="), ("sha256=", "sha256="), ("sha256=zz", "does not match"), ("sha256=ä" * 3, "does not match")],
)
def test_malformed_signature_headers_are_refused(header, reason):
    with pytest.raises(SignatureError, match=reason):
        verify_hub_signature(b"{}", header, "secret")


def test_telegram_secret_token_must_match_exactly():
    verify_telegram_token("s3cret_-A", "s3cret_-A")
    for wrong in (None, "", "s3cret_-a", "s3cret_-A ", "ünicode"):
        with pytest.raises(SignatureError):
            verify_telegram_token(wrong, "s3cret_-A")


def test_settings_read_env_and_env_file_with_env_winning(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "BOTKIT_TELEGRAM_BOT_TOKEN=1:from-file\nBOTKIT_TELEGRAM_SECRET_TOKEN=file-secret\nBOTKIT_GRAPH_API_BASE=http://127.0.0.1:9/v1\nBOTKIT_THRESHOLD=0.61\n"
    )
    monkeypatch.setenv("BOTKIT_TELEGRAM_SECRET_TOKEN", "env-secret")
    monkeypatch.setenv("BOTKIT_TELEGRAM_API_BASE", "http://127.0.0.1:8/tg")
    core, webhook = load_settings(env_file)
    assert core.threshold == 0.61
    assert webhook.telegram_secret_token.get_secret_value() == "env-secret"
    assert webhook.telegram_bot_token.get_secret_value() == "1:from-file"
    assert (webhook.graph_api_base, webhook.telegram_api_base) == ("http://127.0.0.1:9/v1", "http://127.0.0.1:8/tg")
    assert webhook.platforms() == ("telegram",)
    shown = repr(webhook) + str(webhook) + webhook.model_dump_json()
    assert "env-secret" not in shown and "from-file" not in shown
    assert set(webhook.secrets()) == {"env-secret", "1:from-file"}


def test_partly_configured_or_unconfigured_platforms_are_config_errors():
    with pytest.raises(ConfigError, match="no platform is configured"):
        WebhookSettings(_env_file=None).platforms()
    with pytest.raises(ConfigError, match="BOTKIT_WHATSAPP_TOKEN"):
        WebhookSettings(_env_file=None, whatsapp_app_secret="s", verify_token="v").platforms()
    both = WebhookSettings(_env_file=None, messenger_app_secret="s", messenger_page_token="p", verify_token="v")
    assert both.platforms() == ("messenger",)


def test_invalid_values_name_the_variable_but_not_the_value(tmp_path, monkeypatch):
    monkeypatch.setenv("BOTKIT_SEND_ATTEMPTS", "many-secret-word")
    with pytest.raises(ConfigError, match="BOTKIT_SEND_ATTEMPTS") as info:
        load_settings(None)
    assert "many-secret-word" not in str(info.value)
