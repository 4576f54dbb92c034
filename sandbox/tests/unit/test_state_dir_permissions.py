"""The state directory and the files holding secrets are the user's alone: a state dir
another user owns is refused, one of ours open to others is repaired (with a message), and
secret-holding files are 0600 whatever the umask, also when an older copy was looser.

"Another user" is played by ``os.chown`` to an unused uid (the tests run as root in CI).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from acr_sandbox import cli, process
from acr_sandbox.certs import write_private
from acr_sandbox.dataplane.backends import REGISTRY_BINARY, BackendFiles, BackendPair
from acr_sandbox.errors import SandboxError
from acr_sandbox.state import STATE_FILE, Store
from acr_sandbox.statedir import secure_state_dir

OTHER_UID = 4242


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The worst umask a user could have: nothing masked."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_a_state_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, OTHER_UID, OTHER_UID)
    with pytest.raises(SandboxError, match=rf"{state}: the state directory belongs to uid 4242"):
        secure_state_dir(state)
    with pytest.raises(SandboxError, match="belongs to uid 4242"):
        process.start(state, timeout=1)  # refused before any pid file or key in it is read
    assert list(state.iterdir()) == []


def test_the_cli_refuses_another_users_state_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "secrets").mkdir()
    os.chown(state, OTHER_UID, OTHER_UID)
    assert cli.main(["env", "--state-dir", str(state)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {state}: the state directory belongs to uid 4242")
    assert "Traceback" not in err


def test_a_state_dir_open_to_others_is_repaired_with_a_message(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    message = secure_state_dir(state)
    assert message is not None and "was open to group or others (mode 777)" in message
    assert _mode(state) == 0o700
    assert secure_state_dir(state) is None  # once repaired, nothing more to say


def test_a_new_state_dir_is_0700_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    state = tmp_path / "a" / "state"
    assert secure_state_dir(state) is None
    assert _mode(state) == 0o700


def test_secret_files_are_0600_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    loose = tmp_path / "secrets" / "owner.secret"
    loose.parent.mkdir()
    loose.write_text("old")
    loose.chmod(0o644)
    write_private(loose, b"new secret")
    assert (_mode(loose), loose.read_bytes()) == (0o600, b"new secret")
    assert [p.name for p in loose.parent.iterdir()] == ["owner.secret"]


def test_the_state_document_is_0600(tmp_path: Path, open_umask: None) -> None:
    store = Store.load(tmp_path)
    store.write()
    assert _mode(tmp_path / STATE_FILE) == 0o600


def test_the_backend_config_with_its_http_secret_is_0600(tmp_path: Path) -> None:
    """The reproduction: under a 0755 directory and the usual umask 022 the registry's
    config, which carries its ``http.secret``, was world-readable."""
    root = tmp_path / "dataplane" / "registry1"
    root.mkdir(parents=True, mode=0o755)
    files = BackendFiles(tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "ca.pem")
    old = os.umask(0o022)
    try:
        BackendPair(root, files, "127.0.0.1:1", "127.0.0.1")._process(
            REGISTRY_BINARY, "registry.json"
        )
    finally:
        os.umask(old)
    config = root / "registry.json"
    assert json.loads(config.read_text())["http"]["secret"]
    assert _mode(config) == 0o600
