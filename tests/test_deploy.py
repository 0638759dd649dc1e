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


@pytest.mark.parametrize("argv, ok", [(["--auth", "a:b"], True), (["--auth", "nocolon"], False), (["--auth", ":p"], False),
                                      (["--concurrency", "0"], False), (["--disk-cap-mb", "-1"], False), ([], True)])
def test_app_flags(argv, ok):
    if ok:
        a = app.parse_args(argv)
        assert a.concurrency > 0 and a.queue_size > 0 and a.disk_cap_mb > 0
    else:
        with pytest.raises(SystemExit):
            app.parse_args(argv)
