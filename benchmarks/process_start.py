"""The CPU a botkit process pays before and at its first work, per kind of process (user + system, all threads).

`python -m benchmarks.process_start [--checkout DIR] [--rounds N]` from the repository root. Each kind
runs as a fresh process on a private copy of the sample knowledge base (built once, beforehand, as
a deployment would have it): a script that opens the bot and answers one message, `botkit ask`,
`botkit worker` until it logs "worker started", the imports of a campaign runner, and `botkit --help`.
`--checkout` measures another checkout of botkit (an older commit, say) with the same interpreter.
CPU seconds, not wall time: load on a shared machine distorts them less (a multi-threaded BLAS
spinning on a busy machine is a real cost, and shows).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Wie melde ich meinen Zählerstand?"
OPEN_AND_REPLY = "import sys; from botkit import open_bot; open_bot(sys.argv[1]).reply('c1', sys.argv[2])"
CAMPAIGN_IMPORTS = "import botkit.campaigns, botkit.consent, botkit.webhook.settings"
WORKER_ENV = {
    "BOTKIT_TELEGRAM_BOT_TOKEN": "123:abc",
    "BOTKIT_TELEGRAM_SECRET_TOKEN": "s3cret",
    "BOTKIT_TELEGRAM_API_BASE": "http://127.0.0.1:9",
    "BOTKIT_POLL_SECONDS": "0.2",
}


def finished(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """CPU seconds of a process run to its end (its own and its children's)."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed: {process.stderr.read().decode() if process.stderr else status}")
    return usage.ru_utime + usage.ru_stime


def until_logged(command: list[str], env: dict[str, str], cwd: Path, line: str, timeout: float = 300) -> float:
    """CPU seconds of a long-running process until it logs `line` and is stopped (SIGTERM, a small share)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while line.encode() not in (log.seek(0), log.read())[1]:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log.seek(0)
                raise SystemExit(f"{' '.join(command)} did not log {line!r}: {log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.05)
        process.terminate()
        _, _, usage = os.wait4(process.pid, 0)
        return usage.ru_utime + usage.ru_stime


def kinds(knowledge: Path, env: dict[str, str], cwd: Path) -> dict[str, Callable[[], float]]:
    python = sys.executable
    worker_env = env | WORKER_ENV | {"BOTKIT_DATABASE_URL": f"sqlite:///{knowledge / '.botkit' / 'worker.db'}"}
    return {
        "open_bot + one reply (a script)": lambda: finished([python, "-c", OPEN_AND_REPLY, str(knowledge), QUESTION], env, cwd),
        "botkit ask (a CLI subprocess)": lambda: finished([python, "-m", "botkit", "ask", str(knowledge), QUESTION], env, cwd),
        "botkit worker until started": lambda: until_logged([python, "-m", "botkit", "worker", str(knowledge)], worker_env, cwd, "worker started"),
        "campaign runner imports": lambda: finished([python, "-c", CAMPAIGN_IMPORTS], env, cwd),
        "botkit --help": lambda: finished([python, "-m", "botkit", "--help"], env, cwd),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the botkit checkout to measure (default: this one)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per kind; the median is reported")
    parser.add_argument("--one-blas-thread", action="store_true", help="set OPENBLAS_NUM_THREADS=1 for every process, as tests/conftest.py does")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    # Bytecode caches are written (the first run below writes them), as an installed package has them.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOTKIT_") and k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(checkout)}
    if args.one_blas_thread:
        env |= {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as folder:
        knowledge = Path(folder) / "knowledge"
        shutil.copytree(checkout / "knowledge", knowledge, ignore=shutil.ignore_patterns(".botkit*"))
        finished([sys.executable, "-m", "botkit", "build", str(knowledge)], env, Path(folder))
        finished([sys.executable, "-c", OPEN_AND_REPLY, str(knowledge), QUESTION], env, Path(folder))  # as after a first start
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for name, run in kinds(knowledge, env, Path(folder)).items():
            seconds = [run() for _ in range(args.rounds)]
            print(f"{statistics.median(seconds):6.2f} s  (min {min(seconds):.2f}, max {max(seconds):.2f})  {name}", flush=True)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
