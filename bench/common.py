"""What the benchmark scripts share: progress lines, the result table, processes, wrk."""

import re
import subprocess
import sys

rows: list[tuple[str, str, str]] = []
started: list = []  # processes to stop, whatever happens


def say(message):
    print(f"  … {message}", file=sys.stderr, flush=True)


def row(name, value, target=""):
    rows.append((name, value, target))
    say(f"{name}: {value}")


def launch(process):
    started.append(process)
    return process.start()


def stop_started():
    for process in reversed(started):
        process.stop()


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def print_rows(heading: str, target_label: str = "target"):
    """Print the result table under `heading`."""
    width = max(len(name) for name, _, _ in rows) if rows else 40
    vwidth = max(len(value) for _, value, _ in rows) if rows else 20
    print(f"\n{heading}")
    print(f"{'measure'.ljust(width)}  {'result'.ljust(vwidth)}  {target_label}")
    print(f"{'-' * width}  {'-' * vwidth}  ------")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value.ljust(vwidth)}  {target}")


def wrk(url, *, seconds, tmp, body=None, token=None, connections=16):
    """Run wrk; return (2xx requests/s, other responses, p50 ms, p99 ms)."""
    script = tmp / "wrk.lua"
    lines = []
    if body is not None:
        lines += [
            'wrk.method = "POST"',
            f"wrk.body = [[{body}]]",
            'wrk.headers["Content-Type"] = "application/json"',
        ]
    if token:
        lines.append(f'wrk.headers["Authorization"] = "Bearer {token}"')
    script.write_text("\n".join(lines) + "\n")
    out = subprocess.run(  # noqa: S603 (fixed arguments, loopback URL)
        [  # noqa: S607 (wrk from PATH)
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout

    def ms(label):
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    total = int(re.search(r"(\d+) requests in ([\d.]+)(m?s)", out).group(1))
    duration = re.search(r"requests in ([\d.]+)(ms|s|m)", out)
    elapsed = float(duration.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[duration.group(2)]
    bad = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        say(f"wrk socket errors on {url}: {errors.group(1)}")
    return (total - bad) / elapsed, bad, ms("50%"), ms("99%")
