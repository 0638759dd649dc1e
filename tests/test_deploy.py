"""The settings a public deployment should use, each on a real server: login, upload limit, queue, disk cap."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

import app

pytestmark = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]


@pytest.fixture(scope="module")
def locked(tiny_services, tmp_path_factory, monkeypatch_module):
    from explorer import ui

    monkeypatch_module.setenv("GRADIO_TEMP_DIR", str(tmp_path_factory.mktemp("locked_cache")))
    demo = ui.build_ui(tiny_services, concurrency=2, queue_size=8, disk_cap_mb=1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ui.launch(demo, port=port, prevent_thread_lock=True, quiet=True, auth=("composer", "s3cret"))
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_a_login_guards_the_page_and_the_api(locked):
    from gradio_client import Client

    demo, url = locked
    with pytest.raises(Exception):  # noqa: B017 (the client cannot even read the API without the login)
        Client(url, verbose=False).predict(4, 0.5, 0, api_name="/sample")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url + "gradio_api/info", timeout=30)
    assert err.value.code in (401, 403)
    c = Client(url, auth=("composer", "s3cret"), verbose=False, download_files=False)
    assert len(c.predict(2, 0.5, 0, api_name="/sample")) == 2


def test_queue_concurrency_and_disk_cap_are_applied(locked):
    demo, _ = locked
    assert demo._queue.max_size == 8
    assert demo._queue.default_concurrency_limit == 2
    store = demo.handlers.store
    assert store.max_bytes == 2**20 and store.folder.parent == demo.handlers.out_dir.parent
    for _ in range(6):  # six 300 kB renders: the oldest go once the folder passes 1 MB
        store.path("melody", ".wav").write_bytes(b"x" * 300_000)
        store.sweep(force=True)
    assert store.size() <= 2**20


def test_an_upload_over_the_limit_is_refused_before_our_code(explorer_server):
    body = b"x" * (6 * 2**20)
    boundary = "----melody"
    data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.mid\"\r\n"
            f"Content-Type: audio/midi\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    req = urllib.request.Request(explorer_server.url + "gradio_api/upload", data=data, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)
    assert err.value.code == 413


DEFAULTS = {"auth": None, "concurrency": 4, "queue_size": 64, "disk_cap_mb": 512.0}


@pytest.mark.parametrize("argv, want", [
    (["--auth", "a:b"], {**DEFAULTS, "auth": "a:b"}), (["--auth", "u:p:q"], {**DEFAULTS, "auth": "u:p:q"}),
    (["--concurrency", "2", "--queue-size", "9", "--disk-cap-mb", "0.5"],
     {**DEFAULTS, "concurrency": 2, "queue_size": 9, "disk_cap_mb": 0.5}),
    ([], DEFAULTS),
    (["--auth", "nocolon"], None), (["--auth", ":p"], None), (["--auth", "u:"], None), (["--concurrency", "0"], None),
    (["--queue-size", "-3"], None), (["--disk-cap-mb", "-1"], None),
])
def test_app_flags(argv, want, monkeypatch):
    for var in ("MELODY_AUTH", "MELODY_CONCURRENCY", "MELODY_QUEUE_SIZE", "MELODY_DISK_CAP_MB"):
        monkeypatch.delenv(var, raising=False)  # the defaults, not this machine's settings
    if want is not None:
        a = app.parse_args(argv)
        assert {k: getattr(a, k) for k in want} == want
    else:
        with pytest.raises(SystemExit):
            app.parse_args(argv)


def test_app_flags_default_from_the_environment(monkeypatch):
    monkeypatch.setenv("MELODY_CONCURRENCY", "7")
    monkeypatch.setenv("MELODY_AUTH", "x:y")
    a = app.parse_args([])
    assert (a.concurrency, a.auth) == (7, "x:y")
    monkeypatch.setenv("MELODY_QUEUE_SIZE", "0")
    with pytest.raises(SystemExit):  # a bad setting is refused as a bad flag is
        app.parse_args([])
