"""Prompt audio: espeak-ng + sox to 8 kHz PCM, cached on disk, recordings replace TTS."""

import struct
import wave

import pytest

from cetatea.telephony.robot import audio

needs_tts = pytest.mark.skipif(
    bool(audio.programs_missing()),
    reason="espeak-ng/sox missing (scripts/robot-deps.sh installs them)",
)


def write_wav(path, samples, rate=8000):
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))


@needs_tts
def test_romanian_text_is_rendered_to_8khz_pcm_and_cached(tmp_path):
    prompts = audio.PromptAudio(tmp_path)
    pcm = prompts.speak("Aveți de plată o sută douăzeci și trei de lei.", language="ro")
    seconds = len(pcm) / 2 / audio.RATE
    assert 1.0 < seconds < 10.0
    assert max(abs(s) for s in struct.unpack(f"<{len(pcm) // 2}h", pcm)) > 1000  # not silence

    cached = prompts.cache_path("ro", "Aveți de plată o sută douăzeci și trei de lei.")
    assert cached.read_bytes() == pcm
    # A new instance (another process) reads the cache instead of running espeak-ng:
    # prove it by planting different bytes there.
    cached.write_bytes(b"\x01\x00" * 10)
    fresh = audio.PromptAudio(tmp_path)
    assert fresh.speak("Aveți de plată o sută douăzeci și trei de lei.", language="ro") == (
        b"\x01\x00" * 10
    )


@needs_tts
def test_rendering_is_deterministic(tmp_path):
    # Two processes rendering the same prompt must produce the same bytes (sox would
    # otherwise add random dither), so the cache and in-band checks agree.
    first = audio.PromptAudio(tmp_path / "a").speak("Bună ziua", language="ro")
    second = audio.PromptAudio(tmp_path / "b").speak("Bună ziua", language="ro")
    assert first == second


@needs_tts
def test_voice_is_part_of_the_cache_key(tmp_path):
    prompts = audio.PromptAudio(tmp_path)
    ro = prompts.speak("doi", language="ro")
    en = prompts.speak("doi", language="en")
    assert ro != en
    assert prompts.cache_path("ro", "doi") != prompts.cache_path("en", "doi")


@needs_tts
def test_text_that_looks_like_an_option_is_spoken_not_parsed(tmp_path):
    pcm = audio.PromptAudio(tmp_path).speak("--help", language="en")
    assert len(pcm) > 1000


def test_recorded_prompt_replaces_the_synthesised_voice(tmp_path):
    write_wav(tmp_path / "recorded" / "ro" / "greeting.wav", [100, -100, 200, -200])
    prompts = audio.PromptAudio(tmp_path)
    got = prompts.part("greeting", language="ro", text="Bună ziua")
    assert got == struct.pack("<4h", 100, -100, 200, -200)


@needs_tts
def test_recording_at_another_rate_is_converted_and_text_parts_are_always_spoken(tmp_path):
    write_wav(tmp_path / "recorded" / "ro" / "menu.wav", [1000, -1000] * 11025, rate=22050)
    prompts = audio.PromptAudio(tmp_path)
    menu = prompts.part("menu", language="ro", text="Meniul principal")
    assert abs(len(menu) / 2 / audio.RATE - 1.0) < 0.01  # one second at 8 kHz
    # No recording for English: the English text is synthesised.
    assert prompts.part("menu", language="en", text="Main menu") == prompts.speak(
        "Main menu", language="en"
    )
    # "text:menu" is words to speak, never a recording's name.
    spoken = prompts.part("text:menu", language="ro", text="menu")
    assert spoken == prompts.speak("menu", language="ro")


def test_prompt_keys_cannot_reach_outside_the_folder(tmp_path):
    write_wav(tmp_path / "secret.wav", [1, 2])
    prompts = audio.PromptAudio(tmp_path / "prompts")
    assert prompts.recorded_path("../../secret", "ro") is None
    assert prompts.recorded_path("a/b", "ro") is None


def test_missing_programs_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(audio.AudioUnavailable, match="robot-deps"):
        audio.PromptAudio(tmp_path).speak("Bună ziua", language="ro")
