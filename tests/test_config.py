from pathlib import Path

import pytest

from tbt_alert.config import DEFAULT_EPING_BASE_URL, load_config
from tbt_alert.errors import ConfigError


def test_defaults_use_sqlite_in_the_data_dir_and_the_outbox(tmp_path: Path):
    config = load_config(None, environ={"TBT_ALERT_DATA_DIR": str(tmp_path)})
    assert config.database_url == f"sqlite:///{tmp_path / 'tbt-alert.sqlite3'}"
    assert config.mail.smtp_url == ""
    assert config.outbox_dir == tmp_path / "outbox"
    assert config.eping.base_url == DEFAULT_EPING_BASE_URL == "https://epingalert.org/api/v1/"


def test_environment_overrides_the_file(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///from-file.db"\n[mail]\nsmtp_url = "smtp://a:1"\n')
    env = {
        "TBT_ALERT_DATABASE_URL": "postgresql://u@127.0.0.1/x",
        "TBT_ALERT_SMTP_URL": "smtp://127.0.0.1:2525",
        "TBT_ALERT_EPING_BASE_URL": "http://127.0.0.1:9/api/v1/",
    }
    config = load_config(path, environ=env)
    assert config.database_url == "postgresql://u@127.0.0.1/x"
    assert config.mail.smtp_url == "smtp://127.0.0.1:2525"
    assert config.eping.base_url == "http://127.0.0.1:9/api/v1/"


def test_config_file_from_environment_variable(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text("[eping]\npage_size = 50\n")
    assert load_config(None, environ={"TBT_ALERT_CONFIG": str(path)}).eping.page_size == 50


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[mail]\nsmtp_host = 'x'\n", "smtp_host"),
        ("[eping]\npage_size = 'many'\n", "page_size"),
        ("[eping]\npage_size = 500\n", "page_size"),
        ("[mail]\nsmtp_url = 'http://x'\n", "smtp_url"),
        ("[nonsense]\n", "nonsense"),
        ("[eping]\nbase_url = 'ftp://x/'\n", "base_url"),
        ("data_dir = 5\n", "data_dir"),
    ],
)
def test_bad_configuration_names_the_key(tmp_path: Path, toml: str, named: str):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=named):
        load_config(path, environ={})


def test_invalid_toml_and_missing_file_are_clear(tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[mail\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml", environ={})


def test_example_file_documents_every_key_and_loads():
    from dataclasses import fields

    from tbt_alert.config import SECTIONS

    example = Path(__file__).resolve().parent.parent / "tbt-alert.example.toml"
    text = example.read_text(encoding="utf-8")
    load_config(example, environ={})
    for section, cls in SECTIONS.items():
        assert f"[{section}]" in text
        for f in fields(cls):
            assert f"{f.name} =" in text, f"[{section}] {f.name} is not documented"
    assert "data_dir" in text


def test_the_light_settings_reader_knows_the_sections_of_the_full_one():
    from tbt_alert.config import SECTIONS
    from tbt_alert.settings import SECTION_NAMES

    assert tuple(SECTIONS) == SECTION_NAMES


@pytest.mark.parametrize(
    "raw",
    [
        {"review": {"mode": "sometimes"}},
        {"review": {"mode": 1}},
        {"terminal": {"language": "fr"}},
        {"review": {"mdoe": "all"}},
        {"database": {"url": "sqlite:///x", "user": "a"}},
        {"database": {"url": 3}},
        {"reveiw": {"mode": "all"}},
        {"terminal": "zh"},
        {"data_dir": ""},
    ],
)
def test_the_light_settings_reader_refuses_as_the_full_one(raw):
    """search and triage read their settings without pydantic: the same one-line errors."""
    from tbt_alert.config import build_config
    from tbt_alert.errors import ConfigError
    from tbt_alert.settings import settings_from

    with pytest.raises(ConfigError) as full:
        build_config(raw, source="c.toml")
    with pytest.raises(ConfigError) as light:
        settings_from(raw, source="c.toml")
    assert str(light.value) == str(full.value)


def test_the_light_settings_read_what_the_full_configuration_reads(tmp_path):
    from tbt_alert.config import load_config
    from tbt_alert.settings import load_settings

    path = tmp_path / "c.toml"
    path.write_text(
        'data_dir = "~/tbt"\n[review]\nmode = "all"\n[terminal]\nlanguage = "zh"\n'
        '[mail]\nsender = "a <a@b.c>"\n',
        encoding="utf-8",
    )
    for env in ({}, {"TBT_ALERT_DATABASE_URL": "postgresql://u@h/db"}):
        full, light = load_config(path, env), load_settings(path, env)
        assert (light.data_dir, light.database_url) == (full.data_dir, full.database_url)
        assert (light.review_mode, light.language) == (full.review.mode, full.terminal.language)
