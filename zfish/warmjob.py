"""A warm Spark driver for Glue job runs: one ``spark-submit`` kept running, each run's script executed in it.

A cold job run is a new ``spark-submit``: a JVM, a SparkSession and a first
job in a cold JVM, 15 to 40 s here before the script does any work. ``zfish
serve`` instead keeps one driver up (:mod:`zfish.warm_driver`) and sends it
one run at a time over a Unix socket; a run that finds it busy, starting or
gone goes cold, as before. A run's handle looks like the ``Popen`` of a cold
run (``communicate``, ``returncode``, ``pid`` for the process group), so a
stop ends the driver and the next run starts another one.

What a warm run shares with the runs before it: the JVM, the session's
settings, and Python modules already imported (each script itself runs in a
fresh ``__main__`` namespace). A script that needs its own static Spark
settings (``spark.jars``, memory) should be run cold: ``--no-warm-jobs``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from zfish import jobrun
from zfish.settings import LakeLayout

START_TIMEOUT_SECONDS = 300


class WarmRun:
    """One run in the warm driver, shaped like the ``Popen`` of a cold run."""

    def __init__(self, driver: WarmDriver, request: dict[str, object], log: Path) -> None:
        self._driver = driver
        self._request = request
        self._log = log
        self.pid = driver.pid
        self.returncode: int | None = None

    def stop(self) -> None:
        """Stop the run: the driver goes with it (the next run starts another)."""
        self._driver.kill()

    def communicate(self) -> tuple[str, None]:
        """Run the script and wait for it; its output and the driver's verdict."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.connect(str(self._driver.socket_path))
                with conn.makefile("rwb") as stream:
                    stream.write((json.dumps(self._request) + "\n").encode())
                    stream.flush()
                    line = stream.readline()
            if line:
                self.returncode = int(json.loads(line)["exit_code"])
            else:  # the driver died (stopped, or crashed) during the run
                self.returncode = -15
        except OSError:
            self.returncode = -15
        finally:
            self._driver.release()
        output = self._log.read_text(errors="replace") if self._log.exists() else ""
        return output, None


class WarmDriver:
    """The endpoint's warm driver: started in the background, used by one run at a time."""

    def __init__(self, layout: LakeLayout) -> None:
        self.layout = layout
        self._lock = threading.Lock()
        self._busy = False
        self._process: subprocess.Popen[str] | None = None
        self._bundle = Path()
        self._folder = Path(tempfile.mkdtemp(prefix="zfish-warm-"))  # short: socket paths are
        self.socket_path = self._folder / "driver.sock"

    @property
    def pid(self) -> int:
        return self._process.pid if self._process is not None else -1

    def start(self) -> None:
        """Start the driver in the background if it is not up (or starting)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            from zfish import jars

            self.socket_path.unlink(missing_ok=True)
            bundle = jars.hudi_bundle()
            # A launcher outside the package: run as a script, zfish/warm_driver.py would put
            # zfish/ first on sys.path, where zfish's own hudi/ would shadow hudi-rs's.
            script = self._folder / "warm_driver_main.py"
            script.write_text("from zfish.warm_driver import main\n\nmain()\n")
            env = jobrun.environment(self.layout, bundle)
            env["ZFISH_WARM_SOCKET"] = str(self.socket_path)
            env["ZFISH_WARM_PARENT"] = str(os.getpid())
            self._bundle = bundle
            self._process = subprocess.Popen(
                jobrun.submit_argv(
                    script, {}, job_name="zfish-warm-driver", run_id="warm", bundle=bundle
                ),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )

    def ready(self) -> bool:
        return (
            self._process is not None and self._process.poll() is None and self.socket_path.exists()
        )

    def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return True
            if self._process is None or self._process.poll() is not None:
                return False
            time.sleep(0.1)
        return False

    def try_run(
        self,
        script: Path,
        arguments: Mapping[str, str],
        *,
        job_name: str,
        run_id: str,
        log: Path,
    ) -> WarmRun | None:
        """The run's handle if the driver is up and idle; None: run it cold."""
        with self._lock:
            if self._busy or not self.ready():
                return None
            self._busy = True
        argv = jobrun.submit_argv(
            script, arguments, job_name=job_name, run_id=run_id, bundle=self._bundle
        )
        script_at = argv.index(str(script))
        env = jobrun.environment(self.layout, self._bundle)
        request: dict[str, object] = {
            "script": str(script),
            "argv": argv[script_at + 1 :],
            "env": {k: v for k, v in env.items() if k.startswith("ZFISH_")},
            "log": str(log),
        }
        return WarmRun(self, request, log)

    def release(self) -> None:
        with self._lock:
            self._busy = False

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self._folder, ignore_errors=True)

    def kill(self) -> None:
        """End the driver's process group and wait for it, so no run is handed to a dying driver."""
        with self._lock:
            process, self._process = self._process, None
            self.socket_path.unlink(missing_ok=True)
        if process is not None and process.poll() is None:
            import signal

            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
