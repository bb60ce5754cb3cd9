"""Tools: backups (make, mail, restore), reports as PDF (save and/or mail), hand-written mail.

SPEC §8. Every action asks what it needs in a modal, runs in a thread worker, and
reports in the log below the list of actions; errors are shown as our messages.
Restoring asks for confirmation after the archive was verified, and leaves
sending paused until an admin resumes it (``u``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from mailing import words
from screens.checks import AuditModal, DoctorModal
from screens.compose_mail import ComposeScreen
from screens.widgets.modals import ConfirmModal, PickerModal, PromptModal, error_text
from screens.widgets.pane import Pane
from store.errors import MailroomError

ACTIONS_TEXT = """\
 Backups                                 Reports (PDF)
   c  make a backup file                   p  make a report, save/mail it
   m  mail a backup
   r  restore a backup (file or .eml)    Hand-written e-mail
   u  resume sending after a restore       n  compose a new e-mail
                                         Checks
                                           d  doctor: ready to send?
                                           g  audit log: who changed what
"""


class ToolsPane(Pane):
    title = "Tools"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "backup_create", "Backup", id="tools.backup", tooltip="Make a backup file"),
        Binding("m", "backup_send", "Mail backup", id="tools.backup-send", tooltip="Mail one"),
        Binding("r", "restore", "Restore", id="tools.restore", tooltip="Restore a backup"),
        Binding("u", "resume", "Resume", id="tools.resume", tooltip="Resume sending"),
        Binding("p", "report", "Report", id="tools.report", tooltip="Make a report"),
        Binding("n", "compose", "New e-mail", id="tools.compose", tooltip="Hand-written e-mail"),
        Binding("d", "doctor", "Doctor", id="tools.doctor", tooltip="Check the installation"),
        Binding("g", "audit", "Audit log", id="tools.audit", tooltip="Who changed what, when"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.log_lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("Tools: backups, reports, hand-written e-mail", classes="pane-title")
        yield Static(ACTIONS_TEXT, id="tools-actions", markup=False)
        yield Static("", id="tools-status", markup=False)
        with VerticalScroll(id="tools-log-box"):
            yield Static("", id="tools-log", markup=False)

    def on_mount(self) -> None:
        self.refresh_data()

    def focus_first(self) -> None:
        self.query_one("#tools-log-box").focus()

    def refresh_data(self) -> None:
        if not self.is_mounted:
            return
        try:
            system = self.store.system()
        except MailroomError as exc:
            self.query_one("#tools-status", Static).update(error_text(exc))
            return
        text = ""
        if system.sending_paused:
            text = f"SENDING IS PAUSED: {system.paused_reason or 'by an admin'}.  u resumes it."
        self.query_one("#tools-status", Static).update(text)

    def action_doctor(self) -> None:
        self.app.push_screen(DoctorModal(self.store))

    def action_audit(self) -> None:
        self.app.push_screen(AuditModal(self.store))

    def say(self, line: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        self.log_lines.append(f"{stamp}  {line}")
        self.query_one("#tools-log", Static).update("\n".join(self.log_lines[-200:]))
        box = self.query_one("#tools-log-box", VerticalScroll)
        box.call_after_refresh(box.scroll_end, animate=False)

    def _ask(self, question: str, then: Callable[[str], None], value: str = "") -> None:
        def answered(text: str | None) -> None:
            if text is not None and text.strip():
                then(text.strip())

        self.app.push_screen(PromptModal(question, value), answered)

    # ------------------------------------------------------------ running

    @work(thread=True, exit_on_error=False, group="tools")
    def _run(self, what: str, fn: Callable[[], str]) -> tuple[str, str]:
        return what, fn()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "tools":
            return
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            what, text = worker.result
            self.say(f"{what}: {text}")
            self.refresh_data()
        elif event.state == WorkerState.ERROR and worker.error is not None:
            self.say(f"FAILED: {error_text(worker.error)}")
            self.show_error(worker.error)
            self.refresh_data()

    def start(self, what: str, fn: Callable[[], str]) -> None:
        self.say(f"{what} ...")
        self._run(what, fn)

    # ------------------------------------------------------------ backups

    def action_backup_create(self) -> None:
        from mailing.backup import default_name

        def go(path: str) -> None:
            def make() -> str:
                from mailing.backup import write_backup
                from mailing.names import human_size

                r = write_backup(self.store, Path(path).expanduser(), user=self.user)
                return f"{r.path} ({human_size(r.size)}, {r.members} files, SHA-256 {r.sha256[:16]}...)"

            self.start("Backup", make)

        default = str(self.store.home / "backups" / default_name())
        self._ask("Write the backup (no passwords are in it) to:", go, default)

    def action_backup_send(self) -> None:
        def go(to: str) -> None:
            def send() -> str:
                from mailing.backup import send_backup
                from mailing.names import human_size

                r = send_backup(self.store, self.user, [to])
                m = r.mail
                return (
                    f"{human_size(r.backup.size)} mailed to {', '.join(m.accepted)} from "
                    f"{m.sender} (profile {m.profile}, {words.level(m.level)})"
                )

            self.start("Backup by mail", send)

        self._ask("Mail a backup to (address):", go)

    def action_restore(self) -> None:
        def verify(path: str) -> None:
            def check() -> str:
                from mailing.backup import verify_backup

                info = verify_backup(Path(path).expanduser(), self.store.home)
                self.app.call_from_thread(self._confirm_restore, path, info)
                return f"{path} is intact ({info['members']} files, made {info['created']})"

            self.start("Checking the backup", check)

        self._ask("Restore from a backup file (.tar.gz, or the .eml that carried it):", verify)

    def _confirm_restore(self, path: str, info: dict[str, Any]) -> None:
        question = (
            f"Replace ALL data of this installation with the backup made {info['created']} "
            f"by {info['created_by'] or '?'} on {info['host'] or '?'} ({info['members']} files, "
            f"{info['records']} records)?\nThe current data is kept as a backup first; after "
            "the restore sending is paused until you resume it."
        )

        def answered(yes: bool | None) -> None:
            if not yes:
                self.say("Restore cancelled; nothing changed.")
                return

            def restore() -> str:
                from mailing.backup import restore_backup

                r = restore_backup(self.store, Path(path).expanduser(), user=self.user)
                kept = f"; the previous data is in {r.previous_backup}" if r.previous_backup else ""
                return (
                    f"restored {r.records} records from {path}{kept}. Sending is paused: "
                    "check the queue, then resume with u."
                )

            self.start("Restore", restore)

        self.app.push_screen(ConfirmModal(question, "Restore a backup"), answered)

    def action_resume(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                from mailing.backup import resume_sending

                try:
                    resume_sending(self.store)
                except MailroomError as exc:
                    self.show_error(exc)
                    return
                self.say("Sending is allowed again.")
                self.refresh_data()

        self.app.push_screen(
            ConfirmModal("Resume sending? Approved messages in the queue can then be sent."),
            answered,
        )

    # ------------------------------------------------------------ reports

    def action_report(self) -> None:
        from mailing.reports import REPORTS

        def chosen(name: str | None) -> None:
            if not name:
                return
            if name == "batch":
                from screens.widgets.spool_batches import list_batches

                batches = [(b.id, b.label()) for b in list_batches(self.store.home)]
                if not batches:
                    self.show_message("No batches", "There is no batch to report on yet.")
                    return

                def batch_chosen(batch_id: str | None) -> None:
                    if batch_id:
                        self._report_where(name, batch_id)

                self.app.push_screen(PickerModal("Which batch?", batches), batch_chosen)
            else:
                self._report_where(name, None)

        self.app.push_screen(PickerModal("Which report?", list(REPORTS.items())), chosen)

    def _report_where(self, name: str, batch: str | None) -> None:
        def pdf_path(path: str | None) -> None:
            if path is None:
                return

            def mail_to(addr: str | None) -> None:
                if addr is None:
                    return
                self._make_report(name, batch, path.strip(), addr.strip())

            self.app.push_screen(PromptModal("Mail it to (address; empty: do not mail):"), mail_to)

        default = str(Path.cwd() / f"{name}-report.pdf")
        self.app.push_screen(
            PromptModal("Save the PDF to (empty: do not save):", default), pdf_path
        )

    def _make_report(self, name: str, batch: str | None, path: str, to: str) -> None:
        def make() -> str:
            from mailing.changes.files import write_user_file
            from mailing.manual import send_report
            from mailing.reports import make_report

            report = make_report(self.store, self.user, name, batch=batch)
            done = [report.summary]
            if path:
                target = Path(path).expanduser()
                if target.is_dir():
                    target = target / report.file_name
                write_user_file(target, report.pdf)
                done.append(f"PDF in {target}")
            if to:
                sent = send_report(self.store, self.user, report, [to])
                done.append(f"mailed to {', '.join(sent.accepted)} from {sent.sender}")
            return "; ".join(done)

        self.start(f"Report {name}", make)

    # ------------------------------------------------------------ hand-written mail

    def action_compose(self) -> None:
        def done(sent: Any) -> None:
            if sent is not None:
                self.say(
                    f"E-mail {sent.subject!r} sent to {', '.join(sent.accepted)} from "
                    f"{sent.sender} (profile {sent.profile}, {words.level(sent.level)}); "
                    f"archived in {sent.archive}"
                )

        self.app.push_screen(ComposeScreen(self.store, self.user), done)


EXTRA_BINDING_CLASSES: tuple[type, ...] = (ComposeScreen, DoctorModal, AuditModal)
