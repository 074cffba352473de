"""Lab-local AWS config and credentials files, and how secrets are shown.

The course teaches `aws configure` and profiles with files of the same format
as ~/.aws/config and ~/.aws/credentials, but kept in the lab's own folder:
labkit points AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE there, so the
learner's own ~/.aws is never read or written.
"""
from __future__ import annotations

import configparser
import io
from dataclasses import dataclass
from pathlib import Path

from labkit.files import private_folder, write_private


def mask(secret: str | None, keep: int = 4) -> str:
    """Show only the last ``keep`` characters of a secret: ``****************WXYZ``."""
    if not secret:
        return "(none)"
    if len(secret) <= keep * 2:
        return "*" * len(secret)
    return "*" * (len(secret) - keep) + secret[-keep:]


@dataclass
class LabFiles:
    """The AWS config and credentials files of one lab folder."""

    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "config"

    @property
    def credentials(self) -> Path:
        return self.folder / "credentials"

    def environ(self) -> dict[str, str]:
        """Variables that make boto3 and the CLI read these files."""
        return {
            "AWS_CONFIG_FILE": str(self.config),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials),
        }

    def write_profile(self, profile: str, access_key_id: str, secret_access_key: str,
                      region: str, session_token: str | None = None) -> None:
        """Add or replace ``profile`` in both files (as `aws configure --profile` does)."""
        creds = self._read(self.credentials)
        creds[profile] = {"aws_access_key_id": access_key_id,
                          "aws_secret_access_key": secret_access_key}
        if session_token:
            creds[profile]["aws_session_token"] = session_token
        section = "default" if profile == "default" else f"profile {profile}"
        conf = self._read(self.config)
        conf[section] = {"region": region, "output": "json"}
        self._write(self.credentials, creds)
        self._write(self.config, conf)

    def remove_profile(self, profile: str) -> None:
        creds, conf = self._read(self.credentials), self._read(self.config)
        creds.remove_section(profile)
        conf.remove_section("default" if profile == "default" else f"profile {profile}")
        self._write(self.credentials, creds)
        self._write(self.config, conf)

    def profiles(self) -> list[str]:
        return self._read(self.credentials).sections()

    def access_key_id(self, profile: str) -> str | None:
        creds = self._read(self.credentials)
        return creds.get(profile, "aws_access_key_id", fallback=None)

    def describe(self) -> str:
        """A table of profiles with their keys masked, safe to print."""
        creds = self._read(self.credentials)
        rows = [f"{'profile':<24} {'access key id':<22} secret"]
        for name in creds.sections():
            key = creds.get(name, "aws_access_key_id", fallback="")
            secret = creds.get(name, "aws_secret_access_key", fallback="")
            rows.append(f"{name:<24} {key:<22} {mask(secret)}")
        return "\n".join(rows)

    @staticmethod
    def _read(path: Path) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(interpolation=None)
        if path.exists():
            parser.read(path)
        return parser

    def _write(self, path: Path, parser: configparser.ConfigParser) -> None:
        # Atomic and private: a crash never leaves half a credentials file behind.
        private_folder(self.folder)
        text = io.StringIO()
        parser.write(text)
        write_private(path, text.getvalue())
