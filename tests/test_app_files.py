"""Files only to their owner: the server serves what it handed to a session, nothing else.

A session's results live in its folder under the process's root; the browser is given its own
link to each result, in Gradio's cache, in a folder named by 128 random bits. Fetching a result
by its path in the session folder (another session's, or one's own), or any path outside the
root, is refused.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from app.settings import Settings
from app.state import Services
from app.track_handlers import TrackHandlers

POS = "Positive (this is the person)"


def _fetch(url: str, path: str | Path) -> int:
    """HTTP status of ``GET /gradio_api/file=<path>``."""
    quoted = urllib.parse.quote(str(path))
    try:
        with urllib.request.urlopen(f"{url}gradio_api/file={quoted}", timeout=60) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The demo serving on a free port, and one tracked session."""
    from app.ui import build_demo, launch_kwargs
    from ovhhir_core.data.synthetic import render_clip
    from ovhhir_core.video import write_video

    tmp = tmp_path_factory.mktemp("files")
    services = Services(Settings(preset="tiny", device="cpu", backend="ovhhir"), root=tmp / "r")
    demo = build_demo(services)
    demo.queue(default_concurrency_limit=None).launch(
        server_name="127.0.0.1", prevent_thread_lock=True, quiet=True, **launch_kwargs(services)
    )
    clip = render_clip("Pushing", seed=2, size=(160, 120), num_frames=3, fps=4.0)
    path = write_video(tmp / "clip.mp4", iter(clip.frames), clip.fps)
    h = TrackHandlers(services)
    state = h.load_video(services.new_session(), str(path))[0]
    for person, value in (("Person 1", 1), ("Person 2", 2)):
        ys, xs = np.nonzero(clip.labels[0] == value)
        h.click_at(state, person, POS, float(np.median(xs)), float(np.median(ys)))
    *_, (status, overlay, p1, p2, bg, files) = list(h.track(state))
    assert status.startswith("Tracked 3 frames")
    yield demo.local_url, services, state, [overlay, p1, p2, bg, *files]
    demo.close()
    services.close()


def test_what_was_handed_out_is_served_and_its_name_cannot_be_guessed(served):
    url, services, state, handed = served
    for path in handed:
        assert _fetch(url, path) == 200, path
        token = Path(path).parent.name
        assert re.fullmatch(r"[0-9a-f]{32}", token), path  # 128 random bits
        assert not Path(path).is_relative_to(state.workdir)
    # the folders that hold files are unguessable too
    assert re.fullmatch(r"session-[0-9a-f]{32}", state.workdir.name)
    assert re.fullmatch(r"\d+-[0-9a-f]{32}", services.store.dir.name)


def test_another_session_cannot_fetch_a_result_by_its_path(served):
    url, services, state, _ = served
    other = services.new_session()  # a second user, who learnt the first one's folder
    assert other.workdir != state.workdir
    results = [state.outputs[k] for k in ("person_1", "overlay", "masks")]
    for path in results:
        assert path.is_file() and path.is_relative_to(state.workdir)
        assert _fetch(url, path) == 403, path
    assert _fetch(url, state.workdir) == 403


def test_paths_outside_the_root_are_refused(served, tmp_path):
    url, services, _, _ = served
    secret = tmp_path / "secret.txt"  # in the temp dir, outside the app's root
    secret.write_text("not for the browser")
    assert _fetch(url, secret) == 403
    assert _fetch(url, "/etc/passwd") == 403
    escape = services.store.gradio_cache / ".." / ".." / ".." / "secret.txt"
    assert _fetch(url, escape) == 403
    assert _fetch(url, Path(__file__)) == 403  # the app's own source
