"""Rendering replies into channel messages: limits, content, markup and payload shapes."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from botkit.channels import (
    CHANNELS,
    HouseRules,
    get_profile,
    prefer_gsm7,
    render,
    render_report,
    sms_info,
)
from botkit.channels.markup import check_markdown_v2, parse_markup
from botkit.channels.split import truncate_bytes, utf16_units
from botkit.errors import ConfigError
from botkit.types import Draft, FaqEntry, Message

# --- what every message must satisfy, read from the payload the platform receives ---


def _texts_of(channel: str, payload: dict[str, Any]) -> list[tuple[str, int]]:
    """(text, limit) pairs of a payload, the limit in the channel's unit."""
    p = get_profile(channel)
    if channel == "whatsapp":
        kind = payload["type"]
        if kind == "text":
            return [(payload["text"]["body"], p.max_text)]
        if kind == "image":
            caption = payload["image"].get("caption")
            return [] if caption is None else [(caption, p.max_caption)]
        return [(payload["interactive"]["body"]["text"], p.max_interactive_body)]
    if channel == "messenger":
        text = payload["message"].get("text")
        return [] if text is None else [(text, p.max_text)]
    if channel == "telegram":
        if payload["method"] == "sendPhoto":
            caption = payload.get("caption")
            return [] if caption is None else [(caption, p.max_caption)]
        return [(payload["text"], p.max_text)]
    if channel == "sms":
        return [(payload["body"], p.max_text)]
    return [(payload["text"], p.max_text)] if payload["text"] or "image" not in payload else []


def visible(channel: str, text: str) -> str:
    """What the user reads: MarkdownV2 and WhatsApp markers parsed away."""
    if channel == "telegram":
        return check_markdown_v2(text)
    if channel == "whatsapp":
        return parse_markup(text).text
    return text


def length(channel: str, text: str) -> int:
    if channel == "telegram":
        return utf16_units(check_markdown_v2(text))  # limits apply after entity parsing
    if channel == "sms":
        return sms_info(text).units
    return len(text)


def assert_within_limits(channel: str, messages: list[Message]) -> None:
    p = get_profile(channel)
    for m in messages:
        assert m.channel == channel
        for text, limit in _texts_of(channel, m.payload):
            assert text == m.text
            assert text.strip(), "platforms reject empty texts"
            assert length(channel, text) <= limit
    carriers = [k for k, m in enumerate(messages) if m.quick_replies]
    assert carriers in ([], [len(messages) - 1]), "quick replies only on the last message"
    for m in messages:
        payload = m.payload
        if channel == "whatsapp":
            assert payload["messaging_product"] == "whatsapp"
            if payload["type"] == "interactive":
                it = payload["interactive"]
                if it["type"] == "button":
                    buttons = [b["reply"] for b in it["action"]["buttons"]]
                    assert 1 <= len(buttons) <= p.max_buttons
                    titles = [b["title"] for b in buttons]
                    assert all(1 <= len(t) <= p.max_button_title for t in titles)
                    ids = [b["id"] for b in buttons]
                else:
                    assert it["type"] == "list"
                    assert 1 <= len(it["action"]["button"]) <= p.max_list_button
                    rows = [r for s in it["action"]["sections"] for r in s["rows"]]
                    assert 1 <= len(rows) <= p.max_list_rows
                    titles = [r["title"] for r in rows]
                    assert all(1 <= len(t) <= p.max_row_title for t in titles)
                    assert all(len(r.get("description", "")) <= p.max_row_description for r in rows)
                    ids = [r["id"] for r in rows]
                assert tuple(titles) == m.quick_replies
                assert len({t.casefold() for t in titles}) == len(titles)
                assert all(1 <= len(i.encode()) <= p.max_reply_id_bytes for i in ids)
                assert len(set(ids)) == len(ids)
        elif channel == "messenger":
            assert payload["messaging_type"] == "RESPONSE"
            replies = payload["message"].get("quick_replies", [])
            assert len(replies) <= p.max_buttons
            assert tuple(r["title"] for r in replies) == m.quick_replies
            assert all(1 <= len(r["title"]) <= p.max_button_title for r in replies)
            assert all(1 <= len(r["payload"].encode()) <= p.max_reply_id_bytes for r in replies)
            assert len({r["payload"] for r in replies}) == len(replies)
        elif channel == "telegram":
            assert payload["method"] in ("sendMessage", "sendPhoto")
            if "caption" in payload or "text" in payload:
                assert payload["parse_mode"] == "MarkdownV2"
            rows = payload.get("reply_markup", {"inline_keyboard": []})["inline_keyboard"]
            buttons = [b for row in rows for b in row]
            assert len(buttons) <= p.max_buttons
            assert tuple(b["text"] for b in buttons) == m.quick_replies
            assert all(1 <= utf16_units(b["text"]) <= p.max_button_title for b in buttons)
            data = [b["callback_data"].encode() for b in buttons]
            assert all(1 <= len(d) <= 64 for d in data)
            assert len(set(data)) == len(data)
        elif channel == "sms":
            info = sms_info(payload["body"])
            assert (payload["encoding"], payload["segments"]) == (info.encoding, info.segments)
            assert m.quick_replies == () and m.image is None
        else:
            replies = payload["quick_replies"]
            assert len(replies) <= p.max_buttons
            assert tuple(r["title"] for r in replies) == m.quick_replies
            assert all(1 <= len(r["title"]) <= p.max_button_title for r in replies)


def expected_titles(draft: Draft, channel: str, rules: HouseRules) -> list[str]:
    """The spec for quick replies: visible text, one line, non-empty, no duplicates."""
    seen, out = set(), []
    for raw in draft.quick_replies:
        raw = raw.replace("\r", "\n")
        raw = prefer_gsm7(raw) if channel == "sms" and rules.sms_prefer_gsm7 else raw
        title = " ".join(parse_markup(raw).text.split())
        if title and title.casefold() not in seen:
            seen.add(title.casefold())
            out.append(title)
    return out


def expected_content(draft: Draft, channel: str, rules: HouseRules, mode: str) -> tuple[str, str]:
    """(visible, raw) text the messages must contain in order: text, links, list."""

    def gsm(text: str) -> str:
        # "\r\n" and "\r" end lines like "\n" (a span never crosses a line end).
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        return prefer_gsm7(text) if channel == "sms" and rules.sms_prefer_gsm7 else text

    raw = gsm(draft.text)
    extras: list[str] = []
    for link in (gsm(x).strip() for x in draft.links):
        if link and link not in raw and link not in extras:
            extras.append(link)
    image = gsm(draft.image).strip() if draft.image else ""
    if image and (channel == "sms" or rules.max_images < 1) and image not in raw and image not in extras:
        extras.append(image)
    tail = "\n".join(extras)
    if mode == "text":
        tail += "\n" + "\n".join(f"{i}. {t}" for i, t in enumerate(expected_titles(draft, channel, rules), 1))
    return parse_markup(raw).text + "\n" + tail, raw + "\n" + tail


def squash(text: str) -> str:
    return "".join(text.split())


def check_reply(channel: str, draft: Draft, rules: HouseRules) -> None:
    report = render_report(channel, draft, rules)
    messages = list(report.messages)
    assert_within_limits(channel, messages)

    titles = expected_titles(draft, channel, rules)
    assert list(report.options.titles) == titles
    mode = report.options.mode
    if mode in ("buttons", "list"):
        assert messages[-1].quick_replies == report.options.shown
        for i, (title, rid) in enumerate(zip(titles, report.options.ids), 1):
            limit = get_profile(channel).max_reply_id_bytes
            assert rid == truncate_bytes(title, limit) or rid.endswith(f"#{i}")
    else:
        assert all(not m.quick_replies for m in messages)

    want_visible, want_raw = expected_content(draft, channel, rules, mode)
    got = [visible(channel, m.text) for m in messages]
    if not report.markup_drift:  # WhatsApp cannot escape: see Rendering.markup_drift
        assert squash("".join(got)) == squash(want_visible), "content lost or reordered"
    # Independent of the markup parser: only markers and whitespace may differ.
    strip = str.maketrans("", "", "*_")
    assert squash("".join(got)).translate(strip) == squash(want_raw).translate(strip)
    if not report.cut_words and not report.markup_drift:
        assert " ".join(got).split() == want_visible.split(), "a word was split"

    image = draft.image.strip() if draft.image else ""
    if image and channel != "sms" and rules.max_images >= 1:
        assert messages[0].image == image
        assert [m.image for m in messages[1:]] == [None] * (len(messages) - 1)
    else:
        assert all(m.image is None for m in messages)


# --- strategies: German, emoji, URLs and every MarkdownV2 reserved character ---

GERMAN = [
    "Öffnungszeiten",
    "Straße",
    "für",
    "Größe",
    "Grüße",
    "Mo.-Fr.",
    "z. B.",
    "ca.",
    "9–17 Uhr",
    "ÄÖÜäöüß",
    "Kündigung",
    "„Tarif“",
    "–",
    "…",
    "€",
    "10 %",
    "Zählerstand",
    "Abschlag:",
    "Nr. 5",
]
EMOJI = ["😀", "👍🏽", "🇩🇪", "👨\u200d👩\u200d👧", "❤️", "e\u0301", "✓"]
URLS = [
    "https://example.de/a_b*c?x=1&y=(2)",
    "www.test.de/x_y_z",
    "https://de.wikipedia.org/wiki/Lindenau_(Ort)",
    "https://www.stadtwerke-lindenau.example/kundencenter",
]
MARKUP = [
    "*",
    "_",
    "*fett*",
    "_kursiv_",
    "*fett _beides_*",
    "**",
    "__",
    "`",
    "[",
    "]",
    "(",
    ")",
    "\\",
    "~",
    "|",
    "||",
    ">",
    "#",
    "+",
    "-",
    "=",
    "{",
    "}",
    ".",
    "!",
    "\\*",
]
SEPARATORS = [" ", " ", " ", " ", "\n", "\n\n", "\t", "\u00a0", ". ", "! ", "? ", "\r\n"]

FRAGMENT = st.one_of(
    st.sampled_from(GERMAN + EMOJI + URLS + MARKUP),
    st.sampled_from(SEPARATORS),
    st.sampled_from(SEPARATORS),
    st.text(max_size=8),
    st.text(alphabet="ab *_\n.", max_size=12),
)
SHORT_TEXT = st.lists(FRAGMENT, max_size=60).map("".join)
PARAGRAPHS = [
    "Unser Kundencenter ist Mo–Fr von 9 bis 18 Uhr und Sa von 9 bis 13 Uhr geöffnet. "
    "Telefonisch erreichen Sie uns Mo–Fr von 8 bis 20 Uhr. Der Störungsdienst ist rund "
    "um die Uhr für Sie da.",
    "Ihren *Zählerstand* melden Sie online unter https://www.stadtwerke-lindenau.example/zaehler_stand "
    "oder in der App. Sie brauchen die _Zählernummer_ (z. B. 1APA0012345678) und das Ablesedatum.",
    "Den Abschlag (mtl.) ändern Sie im Kundenportal unter *Verträge › Abschlag*. Die Änderung gilt "
    "ab dem nächsten Fälligkeitstermin – frühestens zum 1. des Folgemonats!",
    "Bei einer Störung rufen Sie bitte sofort 0800 123 4567 an. 🚨 Riechen Sie Gas? Verlassen Sie das "
    "Haus, benutzen Sie keine Schalter und rufen Sie von draußen an.",
    "Kurz.",
    "Die Grundgebühr beträgt 12,50 € pro Monat, der Arbeitspreis 32,1 ct/kWh [Stand 11/2026]. "
    "Alle Preise inkl. 19 % MwSt. #Strom +Bonus = günstig {Aktion} | Details: www.test.de/tarif_2026",
]
# Long replies (several bubbles) from real-looking paragraphs with random text between:
# cheaper to draw than hundreds of random fragments, and closer to what consultants write.
LONG_TEXT = st.lists(st.one_of(st.sampled_from(PARAGRAPHS), SHORT_TEXT, st.sampled_from(SEPARATORS)), min_size=3, max_size=14).map("".join)
TEXT = st.one_of(SHORT_TEXT, SHORT_TEXT, LONG_TEXT)
TITLES = [
    "Ja",
    "Nein",
    "Adresse",
    "Kontakt",
    "Öffnungszeiten am Wochenende",
    "Öffnungszeiten am Wochentag",
    "Zählerstand melden",
    "*Tarif*",
    "Abschlag ändern 👍",
    "Mehr…",
]
QUICK_REPLIES = st.lists(
    st.one_of(st.sampled_from(TITLES), st.text(max_size=30), st.text(alphabet="ab *_äß😀 ", max_size=80)),
    max_size=15,
)
LINKS = st.lists(st.one_of(st.sampled_from(URLS), st.text(max_size=20)), max_size=3).map(tuple)
IMAGE = st.one_of(st.none(), st.sampled_from(["https://example.de/bild.jpg", "", " "]))
RULES = st.sampled_from(
    [
        HouseRules(),
        HouseRules(bubble_chars=40, max_bubbles=2),
        HouseRules(bubble_chars=2000, max_bubbles=1, max_images=0),
        HouseRules(sms_prefer_gsm7=False, list_label="Bitte wählen Sie eine Option"),
    ]
)
DRAFT = st.builds(Draft, text=TEXT, links=LINKS, quick_replies=QUICK_REPLIES.map(tuple), image=IMAGE)


@pytest.mark.parametrize("channel", CHANNELS)
@given(draft=DRAFT, rules=RULES)
def test_every_message_is_within_limits_and_keeps_the_content(channel, draft, rules):
    check_reply(channel, draft, rules)


@pytest.mark.parametrize("channel", CHANNELS)
@given(text=st.text(min_size=1, max_size=30), quick_replies=st.lists(st.text(max_size=5), max_size=3))
def test_render_never_raises_for_any_unicode(channel, text, quick_replies):
    draft = Draft(text, quick_replies=tuple(quick_replies))
    assert_within_limits(channel, render(channel, draft))


# --- examples ---

ANSWER = (
    "Unser Kundencenter ist Mo–Fr von 9 bis 18 Uhr und Sa von 9 bis 13 Uhr geöffnet. "
    "Telefonisch erreichen Sie uns Mo–Fr von 8 bis 20 Uhr. Der Störungsdienst ist rund "
    "um die Uhr für Sie da."
)
LINK = "https://www.stadtwerke-lindenau.example/kundencenter"


def test_whatsapp_reply_buttons_for_up_to_three_short_titles():
    [message] = render("whatsapp", Draft(ANSWER, (LINK,), ("Adresse", "Kontakt")))
    assert message.payload == {
        "messaging_product": "whatsapp",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": f"{ANSWER}\n{LINK}"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "Adresse", "title": "Adresse"}},
                    {"type": "reply", "reply": {"id": "Kontakt", "title": "Kontakt"}},
                ]
            },
        },
    }
    assert message.quick_replies == ("Adresse", "Kontakt")


def test_render_returns_the_messages_of_render_report():
    draft = Draft(ANSWER * 3, (LINK,), ("Adresse", "Kontakt"), "https://x.de/a.png")
    for channel in CHANNELS:
        messages = render(channel, draft)
        assert messages == list(render_report(channel, draft).messages)
        assert [m.payload for m in messages] == [m.payload for m in render_report(channel, draft).messages]


def test_whatsapp_plain_text_message():
    [message] = render("whatsapp", Draft("*Hallo!* Wie kann ich helfen?"))
    assert message.payload == {
        "messaging_product": "whatsapp",
        "type": "text",
        "text": {"body": "*Hallo!* Wie kann ich helfen?", "preview_url": False},
    }


def test_whatsapp_long_titles_become_a_list_with_full_descriptions():
    titles = ("Zählerstand melden", "Abschlag ändern oder anpassen", "Kontakt")
    [message] = render("whatsapp", Draft("Was möchten Sie tun?", quick_replies=titles))
    interactive = message.payload["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Optionen"
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[1] == {
        "id": "Abschlag ändern oder anpassen",
        "title": "Abschlag ändern oder…",
        "description": "Abschlag ändern oder anpassen",
    }
    assert "description" not in rows[0]


def test_whatsapp_more_than_ten_options_become_a_numbered_list():
    titles = tuple(f"Option {i}" for i in range(1, 12))
    [message] = render("whatsapp", Draft("Bitte wählen:", quick_replies=titles))
    assert message.payload["type"] == "text"
    assert message.text.endswith("10. Option 10\n11. Option 11")
    assert message.quick_replies == ()


def test_messenger_quick_replies_are_shortened_but_carry_the_full_title():
    [message] = render("messenger", Draft("Worum geht es?", quick_replies=("Öffnungszeiten am Wochenende",)))
    assert message.payload == {
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Worum geht es?",
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": "Öffnungszeiten am…",
                    "payload": "Öffnungszeiten am Wochenende",
                }
            ],
        },
    }


def test_messenger_is_plain_text():
    [message] = render("messenger", Draft("Bitte *Zählernummer* angeben."))
    assert message.text == "Bitte Zählernummer angeben."


def test_telegram_markdown_v2_with_inline_keyboard():
    title = "Wie hoch ist mein monatlicher Abschlag für Strom und Gas?"
    [message] = render("telegram", Draft("*Abschlag:* mtl. 50 € (inkl. MwSt.)", quick_replies=(title,)))
    assert message.payload == {
        "method": "sendMessage",
        "text": "*Abschlag:* mtl\\. 50 € \\(inkl\\. MwSt\\.\\)",
        "parse_mode": "MarkdownV2",
        "reply_markup": {"inline_keyboard": [[{"text": title, "callback_data": truncate_bytes(title, 64)}]]},
    }
    assert len(message.payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"].encode()) <= 64


def test_telegram_image_carries_the_first_bubble_as_caption():
    draft = Draft("Hier ist _unser_ Tarifblatt.", image="https://x.de/t.png", quick_replies=("OK",))
    messages = render("telegram", draft)
    assert [m.payload["method"] for m in messages] == ["sendPhoto"]
    assert messages[0].payload["caption"] == "Hier ist _unser_ Tarifblatt\\."
    assert messages[0].payload["reply_markup"]["inline_keyboard"] == [[{"text": "OK", "callback_data": "OK"}]]


def test_sms_prefers_gsm7_and_reports_segments():
    [message] = render("sms", Draft("„Grüße“ – Ihr Team…", quick_replies=("Ja", "Nein")))
    assert message.text == '"Grüße" - Ihr Team...\n\n1. Ja\n2. Nein'
    assert message.payload == {"body": message.text, "encoding": "GSM-7", "segments": 1}


def test_sms_reports_ucs2_when_an_emoji_stays():
    [message] = render("sms", Draft("Danke 👍"))
    assert message.payload == {"body": "Danke 👍", "encoding": "UCS-2", "segments": 1}


def test_sms_sends_the_image_address_as_a_link():
    [message] = render("sms", Draft("Unser Flyer:", image="https://x.de/flyer.jpg"))
    assert message.text == "Unser Flyer:\nhttps://x.de/flyer.jpg"


def test_web_payload():
    [message] = render("web", Draft("Hallo", quick_replies=("Ja",), image="https://x.de/a.png"))
    assert message.payload == {
        "text": "Hallo",
        "quick_replies": [{"title": "Ja", "payload": "Ja"}],
        "image": "https://x.de/a.png",
    }


def test_links_already_in_the_text_are_not_repeated():
    [message] = render("web", Draft(f"Siehe {LINK}.", links=(LINK, "https://x.de/neu")))
    assert message.text == f"Siehe {LINK}.\nhttps://x.de/neu"


def test_long_answer_becomes_at_most_three_bubbles_at_sentence_ends():
    text = " ".join([ANSWER] * 4)  # ~780 characters
    messages = render("whatsapp", Draft(text, quick_replies=("Kontakt",)))
    assert 2 <= len(messages) <= 3
    assert all(m.text.endswith(".") for m in messages)
    assert messages[-1].quick_replies == ("Kontakt",)


def test_image_goes_first_and_only_once():
    messages = render("messenger", Draft(ANSWER, image="https://x.de/a.png"))
    assert messages[0].payload["message"] == {"attachment": {"type": "image", "payload": {"url": "https://x.de/a.png", "is_reusable": True}}}
    assert [m.image for m in messages] == ["https://x.de/a.png", None]


def test_empty_draft_renders_no_message():
    for channel in CHANNELS:
        assert render(channel, Draft("  \n ")) == []


def test_quick_replies_without_text_become_a_numbered_list():
    for channel in CHANNELS:
        [message] = render(channel, Draft("", quick_replies=("Ja", "Nein")))
        assert visible(channel, message.text) == "1. Ja\n2. Nein"


def test_word_longer_than_the_hard_limit_is_cut_but_kept():
    word = "a" * 5000
    for channel in CHANNELS:
        messages = render(channel, Draft(word))
        assert_within_limits(channel, messages)
        assert "".join(visible(channel, m.text) for m in messages) == word


def test_lone_surrogates_do_not_crash():
    for channel in CHANNELS:
        [message] = render(channel, Draft("Hallo \ud800 Welt", quick_replies=("\udfff",)))
        assert "\ufffd" in message.text


def test_unknown_channel_raises_config_error():
    with pytest.raises(ConfigError, match="whatsapp"):
        render("fax", Draft("Hallo"))


# --- real German answers ---

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "knowledge"
DEEPSET = ROOT.parent / "shared" / "datasets" / "deepset-covid-faq-de" / "faq_200327.tsv"


def sample_entries() -> dict[str, FaqEntry]:
    if not SAMPLE.is_dir():
        pytest.skip(f"no sample knowledge base at {SAMPLE}")
    from botkit.knowledge import load_knowledge

    return load_knowledge(SAMPLE).by_id()


@pytest.mark.parametrize("channel", CHANNELS)
def test_sample_answers_render_within_limits(channel):
    for entry in sample_entries().values():
        draft = Draft(entry.answer, entry.links, entry.quick_replies)
        check_reply(channel, draft, HouseRules())
        assert len(render(channel, draft)) <= 2, entry.id


def test_sample_answer_with_bold_on_whatsapp_and_telegram():
    entry = sample_entries().get("passwort-vergessen")
    if entry is None or "*Passwort vergessen*" not in entry.answer:
        pytest.skip("the sample entry changed")
    draft = Draft(entry.answer, entry.links, entry.quick_replies)
    [whatsapp] = render("whatsapp", draft)
    assert "*Passwort vergessen*" in whatsapp.text
    assert whatsapp.text.endswith(entry.links[0])  # the link line stays with its answer
    [telegram] = render("telegram", draft)
    assert "*Passwort vergessen*" in telegram.text and "E\\-Mail" in telegram.text
    assert check_markdown_v2(telegram.text).startswith("Klicken Sie auf der Anmeldeseite auf Passwort")
    [sms] = render("sms", draft)
    assert "Passwort vergessen" in sms.text and "*" not in sms.text
    assert sms.payload["encoding"] == "GSM-7"


def test_sample_answer_with_degree_sign_needs_ucs2_on_sms():
    entry = sample_entries().get("wasserhaerte")
    if entry is None or "°" not in entry.answer:
        pytest.skip("the sample entry changed")
    messages = render("sms", Draft(entry.answer, entry.links, entry.quick_replies))
    assert messages[0].payload["encoding"] == "UCS-2"


def long_german_answers(n: int) -> list[str]:
    """The n longest German answers of the deepset COVID FAQ (real agency texts)."""
    if not DEEPSET.is_file():
        pytest.skip(f"dataset absent: {DEEPSET}")
    with DEEPSET.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    answers = {r["answer"] for r in rows if r.get("lang") == "de" and r.get("answer")}
    return sorted(answers, key=len, reverse=True)[:n]


@pytest.mark.parametrize("channel", CHANNELS)
def test_long_official_german_answers_split_cleanly(channel):
    for answer in long_german_answers(40):
        draft = Draft(answer, quick_replies=("Mehr Infos", "Hotline"))
        check_reply(channel, draft, HouseRules())
        report = render_report(channel, draft)
        if report.length <= 2.5 * report.limit.value:  # room for 3 bubbles and good breaks
            assert len(report.bubble_lengths) <= 3
        assert not report.cut_words
