"""Alerts reach a user who is away: one alert per new state, a webhook on a real local HTTP server
that may be down (retried, logged, never in the way), and the headless watcher that sends them."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from support.project import short_demo_toml, write_preset
from support.recorded_runs import write_finished_run, write_live_prefix
from support.webhook_server import WebhookServer, free_port

from emosum_tui.alerts.alert import Alert, AlertTracker
from emosum_tui.alerts.notifier import ALERTS_LOG, WEBHOOK_ENV, AlertSettings, Notifier, RunAlerts, alert_settings
from emosum_tui.alerts.webhook import RetryPolicy, WebhookSender, host_of
from emosum_tui.core.events import EVENTS_FILE, StepBegin, StepEnd, read_events
from emosum_tui.core.rundir import PRESET_FILE
from emosum_tui.doctor.findings import Finding
from emosum_tui.monitor.headless_watch import HeadlessWatch
from emosum_tui.monitor.step_clock import DEAD, FINISHED, STALLED, StallPolicy, StepClock

FAST_RETRY = RetryPolicy(attempts=8, first_pause=0.2, factor=1.5, timeout=2.0)


def wait_until(condition, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def test_each_new_state_alerts_once_and_only_while_watched_live() -> None:
    clock = StepClock(StallPolicy(stall_after=2.0))
    tracker = AlertTracker("run-a")
    t = 1_790_000_000.0
    for step in range(1, 5):  # four steady 0.5 s steps
        clock.feed(StepBegin(t=t, step=step))
        t += 0.5
        clock.feed(StepEnd(t=t, step=step, total_steps=10, step_seconds=0.5))
    clock.feed(StepBegin(t=t, step=5))
    assert tracker.observe(clock.reading(t + 3.0, alive=None), alive=None) == []  # stalled, but never seen alive: history
    assert tracker.observe(clock.reading(t + 0.1, alive=True), alive=True) == []  # running
    (stalled,) = tracker.observe(clock.reading(t + 3.0, alive=True), alive=True)
    assert (stalled.kind, stalled.step, stalled.run) == (STALLED, 5, "run-a") and "past the 2.0 s threshold" in stalled.message
    assert tracker.observe(clock.reading(t + 4.0, alive=True), alive=True) == []  # still stalled: said already
    clock.feed(StepEnd(t=t + 5, step=5, total_steps=10, step_seconds=5.0))
    clock.feed(StepBegin(t=t + 5, step=6))
    assert tracker.observe(clock.reading(t + 5.1, alive=True), alive=True) == []
    (again,) = tracker.observe(clock.reading(t + 9.0, alive=True), alive=True)
    assert again.kind == STALLED and again.step == 6  # a second stall is news again

    nan = Finding("loss-nan", "error", "the loss is NaN/inf: training diverged", "loss = nan at step 6")
    (first,) = tracker.observe_findings([nan], step=6)
    assert first.kind == "nan" and "loss = nan at step 6" in first.message
    assert tracker.observe_findings([nan], step=7) == []


def test_the_webhook_body_is_what_slack_discord_and_ntfy_read() -> None:
    alert = Alert("stalled", "20260101-demo", 3, "stalled: step 3 running 4.0 s " + "x" * 3000)
    body = alert.webhook_body()
    assert body["text"] == body["content"] and body["text"].startswith("[emosum-tui] 20260101-demo: stalled: step 3")
    assert len(body["content"]) < 2000  # Discord's limit
    assert host_of("https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com"


def test_settings_come_from_the_run_preset_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert alert_settings(tmp_path) == AlertSettings()
    (tmp_path / PRESET_FILE).write_text('[alerts]\nwebhook = "http://hooks.example/a"\ndesktop = false\n', encoding="utf-8")
    assert alert_settings(tmp_path) == AlertSettings("http://hooks.example/a", desktop=False)
    monkeypatch.setenv(WEBHOOK_ENV, "http://127.0.0.1:9/b")
    assert alert_settings(tmp_path).webhook == "http://127.0.0.1:9/b"
    (tmp_path / PRESET_FILE).write_text("not [ toml", encoding="utf-8")
    assert alert_settings(tmp_path).desktop is True


def test_a_webhook_that_is_down_is_retried_and_logged_until_it_answers() -> None:
    port = free_port()
    lines: list[str] = []
    sender = WebhookSender(f"http://127.0.0.1:{port}/hook/SECRET-TOKEN", lines.append, FAST_RETRY)
    began = time.monotonic()
    sender.send(Alert("finished", "run-b", 5, "finished: 5 steps"))
    assert time.monotonic() - began < 0.1  # the caller never waits for the network
    assert wait_until(lambda: len(lines) >= 2, timeout=5.0)  # two refused attempts, each logged
    with WebhookServer(port) as hook:
        assert wait_until(lambda: sender.delivered == 1, timeout=10.0), lines
        sender.close()
    assert [r.body["kind"] for r in hook.received] == ["finished"]
    assert "attempt 1/8 failed" in lines[0] and "retrying in 0.2 s" in lines[0]
    assert "delivered (attempt" in lines[-1] and "attempt 1)" not in lines[-1]
    assert not any("SECRET-TOKEN" in line for line in lines)  # the URL's token is never logged


def test_a_webhook_that_never_answers_gives_up_and_stops_nothing(tmp_path: Path) -> None:
    notifier = Notifier(tmp_path, AlertSettings(webhook=f"http://127.0.0.1:{free_port()}/x", desktop=False),
                        retry=RetryPolicy(attempts=3, first_pause=0.05, factor=1.0, timeout=1.0))
    notifier.send(Alert("dead", "run-c", 2, "dead: the trainer process is gone"))
    assert wait_until(lambda: notifier.webhook is not None and notifier.webhook.given_up == 1, timeout=5.0)
    began = time.monotonic()
    notifier.close(wait=2.0)
    assert time.monotonic() - began < 1.0
    log = (tmp_path / ALERTS_LOG).read_text(encoding="utf-8")
    assert "alert dead: dead: the trainer process is gone" in log
    assert "not delivered after 3 attempts" in log


def test_a_finished_run_opened_later_rings_nothing(tmp_path: Path) -> None:
    run_dir = write_finished_run(tmp_path / "old-run")
    with WebhookServer() as hook:
        alerts = RunAlerts(run_dir, Notifier(run_dir, AlertSettings(webhook=hook.url, desktop=False)))
        state = HeadlessWatch(run_dir, StallPolicy(), alerts=alerts, out=lambda line: None, sample_resources=False).run(0.01)
    assert state == FINISHED and alerts.sent == [] and hook.received == []


def test_a_killed_trainer_is_a_dead_alert_from_the_headless_watcher(tmp_path: Path) -> None:
    """A live run whose process is killed: the watcher (not the trainer, which is gone) posts 'dead' and returns."""
    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run_dir = tmp_path / "live-run"
    write_live_prefix(run_dir, trainer.pid)
    lines: list[str] = []
    with WebhookServer() as hook:
        alerts = RunAlerts(run_dir, Notifier(run_dir, AlertSettings(webhook=hook.url, desktop=False)))
        watch = HeadlessWatch(run_dir, StallPolicy(), alerts=alerts, out=lines.append, sample_resources=False)
        ended: list[str] = []
        thread = threading.Thread(target=lambda: ended.append(watch.run(0.05)))
        thread.start()
        assert wait_until(lambda: watch.clock.step == 1 and watch.alerts.tracker.seen_alive, timeout=10.0)
        trainer.kill()
        trainer.wait()
        killed = time.time()
        thread.join(15.0)
        assert ended == [DEAD]
        assert [r.body["kind"] for r in hook.received] == [DEAD]
        assert hook.received[0].t - killed < 4.0  # the process table is read each second, plus the clock's grace
    assert any(line.endswith("dead: the trainer process is gone without finishing (last step 1)") for line in lines)


@pytest.mark.slow
def test_headless_watcher_posts_stalled_within_a_second_of_the_threshold_and_finished_once(home: Path) -> None:
    """The real demo trainer with an injected 10 s hang in step 3; `watch --headless --notify` in its own process."""
    write_preset(home, "tiny", short_demo_toml(40))
    run_dir = home / "runs" / "hang"
    stall_after = 3.0
    with WebhookServer() as hook:
        env = {**os.environ, "EMOSUM_FAULT": "sleep@3:10", WEBHOOK_ENV: hook.url}
        trainer = subprocess.Popen([sys.executable, "-m", "emosum_tui", "train", "tiny", "--headless", "--run-dir", str(run_dir)],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_until(lambda: (run_dir / EVENTS_FILE).is_file(), timeout=60.0)
            watcher = subprocess.run([sys.executable, "-m", "emosum_tui", "watch", str(run_dir), "--headless", "--notify",
                                      "--stall-after", str(stall_after)], env=env, capture_output=True, text=True, timeout=240)
        finally:
            try:
                trainer.wait(timeout=60)  # `done` is written before the trainer's last clean-up
            except subprocess.TimeoutExpired:
                trainer.kill()
                trainer.wait()
        received = list(hook.received)
    assert watcher.returncode == 0, watcher.stdout + watcher.stderr
    assert trainer.returncode == 0
    begin = next(e for e in read_events(run_dir / EVENTS_FILE) if isinstance(e, StepBegin) and e.step == 3)
    stalled = [r for r in received if r.body["kind"] == STALLED and r.body["step"] == 3]
    assert stalled, [r.body for r in received]
    late = stalled[0].t - (begin.t + stall_after)
    assert 0.0 <= late <= 1.0, late
    assert [r.body["kind"] for r in received].count(FINISHED) == 1
    assert "finished: 5 steps" in watcher.stdout
    log = (run_dir / ALERTS_LOG).read_text(encoding="utf-8")
    assert "alert stalled" in log and "alert finished" in log and "delivered" in log


@pytest.mark.anyio
async def test_the_console_rings_the_bell_and_posts_when_its_trainer_dies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The training screen's own clock: a trainer killed under it is a bell, a line in alerts.log and a webhook POST."""
    from support.pilot import SIZE, ScreenApp, wait_for

    from emosum_tui.ui.screens.training import TrainingScreen

    trainer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    run_dir = tmp_path / "run"
    write_live_prefix(run_dir, trainer.pid)
    rings: list[float] = []
    try:
        with WebhookServer() as hook:
            monkeypatch.setenv(WEBHOOK_ENV, hook.url)
            screen = TrainingScreen(run_dir, trainer, sample_resources=False)
            app = ScreenApp(screen)
            app.bell = lambda: rings.append(time.time())  # the terminal's BEL, counted instead of written
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: screen.reading is not None and screen.reading.state == "running")
                trainer.kill()
                trainer.wait()
                await wait_for(pilot, lambda: screen.reading.state == DEAD, timeout=10.0)
                await wait_for(pilot, lambda: len(hook.received) == 1, timeout=10.0)
            assert [r.body["kind"] for r in hook.received] == [DEAD]
    finally:
        trainer.kill()
        trainer.wait()
    assert len(rings) == 1  # the banner's alarm bell; the alert adds no second ring
    assert "alert dead: dead: the trainer process is gone" in (run_dir / ALERTS_LOG).read_text(encoding="utf-8")


def test_the_console_rings_for_finished_and_nan_its_banner_rings_for_the_alarms(tmp_path: Path) -> None:
    rings: list[str] = []
    alerts = RunAlerts.for_console(tmp_path, bell=lambda: rings.append("BEL"))
    for kind in ("stalled", "dead", "finished", "nan"):
        alerts.notifier.send(Alert(kind, "run-d", 1, kind))
    alerts.close()
    assert rings == ["BEL", "BEL"]
    assert (tmp_path / ALERTS_LOG).read_text(encoding="utf-8").count("alert ") == 4
