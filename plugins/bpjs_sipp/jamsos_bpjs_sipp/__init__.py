"""The SIPP Online upload-file destination (`bpjs-sipp`, channel "file").

BPJS Ketenagakerjaan's employer portal SIPP Online takes new workers, wage updates and
deactivations as uploaded Excel workbooks; it has no public API. This destination writes
those workbooks per employer and reporting month, for staff to upload by hand, and reads the
answer file BPJS gives back (KPJ per NIK, or a rejection reason). The gateway's batch flow
(prepare, download, mark uploaded, import answers) is docs/delivery-sipp.md.

Settings (config/destinations.toml `[destinations.bpjs-sipp]`): `layout` (a TOML file that
replaces the shipped layout.toml), or any of its tables and keys to lay over it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway import Ack, Destination, Employer, OutgoingMutation, hookimpl
from jamsos_bpjs_sipp.answers import read_answer_file
from jamsos_bpjs_sipp.layout import Layout, LayoutError, load_layout
from jamsos_bpjs_sipp.workbooks import write_workbooks

__all__ = ["LayoutError", "SippDestination", "register_destinations"]


class SippDestination(Destination):
    """Workbooks for SIPP Online's bulk uploads, and BPJS's answer file back."""

    id = "bpjs-sipp"
    title = "BPJS Ketenagakerjaan SIPP Online (unggah berkas / upload files)"
    channel = "file"

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.layout: Layout = load_layout(self.settings)  # a bad layout fails here, early

    def write_files(self, employer: Employer, month: str, mutations: Sequence[OutgoingMutation],
                    folder: Path) -> list[Path]:  # fmt: skip
        """One workbook per kind (new, wage, identity, ended) that has mutations."""
        return write_workbooks(self.layout, employer, month, mutations, folder)

    def read_answers(self, path: Path, mutations: Sequence[OutgoingMutation] = ()) -> list[Ack]:
        """BPJS's answer file matched by NIK to `mutations` (the batch's, given by the
        gateway); AnswerFileError naming every bad line."""
        return read_answer_file(self.layout.answers, Path(path), mutations)


@hookimpl
def register_destinations() -> list[type[Destination]]:
    return [SippDestination]
