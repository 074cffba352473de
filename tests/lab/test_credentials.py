import stat

from labkit.credentials import LabFiles, mask


def test_mask_keeps_only_the_tail():
    assert mask("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == "*" * 36 + "EKEY"
    assert mask("") == "(none)"
    assert mask("short") == "*****"


def test_profiles_round_trip_and_files_are_private(tmp_path):
    files = LabFiles(tmp_path / "aws")
    files.write_profile("engineer-demo", "AKIAEXAMPLE", "s3cr3t" * 5, "us-east-1")
    files.write_profile("default", "AKIAROOT", "r" * 40, "us-east-1")
    assert files.profiles() == ["engineer-demo", "default"]
    assert files.access_key_id("engineer-demo") == "AKIAEXAMPLE"
    assert "[profile engineer-demo]" in files.config.read_text()
    assert "[default]" in files.config.read_text()
    for path in (files.config, files.credentials):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    described = files.describe()
    assert "s3cr3t" * 5 not in described and "AKIAEXAMPLE" in described
    files.remove_profile("engineer-demo")
    assert files.profiles() == ["default"]
