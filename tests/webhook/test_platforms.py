"""The platform registry: one module per platform, asked by name."""

from __future__ import annotations

import pytest

from botkit.channels import CHANNELS
from botkit.errors import ConfigError
from botkit.platforms import PLATFORMS, get_platform, webhook_platforms
from botkit.webhook import WebhookSettings


def test_an_unknown_platform_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown platform 'signal'; known: messenger, whatsapp, telegram, sms, web, chatwoot"):
        get_platform("signal")


def test_every_channel_profile_has_a_platform_that_builds_its_messages():
    for name in CHANNELS:
        assert get_platform(name).name == name


def test_every_setting_a_platform_needs_exists_and_only_webhook_platforms_need_any():
    fields = set(WebhookSettings.model_fields)
    assert [p.name for p in webhook_platforms()] == ["messenger", "whatsapp", "telegram", "chatwoot"]
    for platform in PLATFORMS.values():
        assert set(platform.needs) <= fields, platform.name
        assert bool(platform.needs) == (platform in webhook_platforms())


def test_platforms_without_a_webhook_say_so():
    with pytest.raises(ConfigError, match="sms has no webhook"):
        get_platform("sms").parse(b"{}", {})
