"""Launch the OV-HHIR demo: ``python app.py [--preset offline] [--device auto] [--port 7860]``.

Every flag has an ``OVHHIR_*`` environment variable (see ``python app.py --help`` and
app/settings.py). On Hugging Face Spaces this file is the ``app_file``; ZeroGPU's ``spaces.GPU`` is
used automatically when the ``spaces`` package is installed.

Files: every process keeps its session folders and Gradio's cache in one folder under ``--root``
(see app/storage.py). SIGTERM and SIGINT (how containers and Spaces stop the app, and Ctrl-C)
remove it before exiting; folders left by killed processes are removed at the next start.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import sys
import threading

if importlib.util.find_spec("spaces"):  # ZeroGPU: `spaces` must be imported before torch
    import spaces  # noqa: F401

from app.settings import parse_settings  # noqa: E402
from app.state import Services  # noqa: E402
from app.ui import build_demo, launch_kwargs  # noqa: E402
from ovhhir_core.errors import UserError  # noqa: E402

log = logging.getLogger("app")


def stop_on_signals(services: Services) -> None:
    """On SIGTERM / SIGINT: delete this process's files, then exit (status 0)."""

    def stop(signum: int, _frame: object) -> None:
        log.info("%s: removing %s and stopping", signal.Signals(signum).name, services.root)
        services.close()
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = parse_settings(argv)
        services = Services(settings)
    except (UserError, ValueError) as exc:  # bad flag, preset or device: say so, no traceback
        sys.exit(f"error: {exc}")
    # Gradio's uploads go under this process's folder too (unless GRADIO_TEMP_DIR is set).
    os.environ.setdefault("GRADIO_TEMP_DIR", str(services.store.gradio_cache))
    stop_on_signals(services)
    services.store.start_sweeper()
    if settings.preload:
        # Load the models in the background: the page is usable at once, and a missing
        # checkpoint is reported in the UI instead of stopping the server.
        threading.Thread(target=services.warm_up, name="warm-up", daemon=True).start()
    demo = build_demo(services)
    try:
        demo.queue(default_concurrency_limit=None).launch(
            server_name=settings.host,
            server_port=settings.port or None,
            share=settings.share,
            **launch_kwargs(services),
        )
    finally:
        services.close()


if __name__ == "__main__":
    main(sys.argv[1:])
