"""The contract kit checks what a SOAP plugin asks for and what a full fetch does, on plugins a
new author would write (issue 21): each mistake below passed the kit 6/6 before.

Each case scaffolds a plugin, makes one edit and runs the one kit check that must catch it,
as its author would (`pytest tests -k ...` in the plugin's folder).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.plugins.test_scaffold import run

TOKEN = "tok-2f9a"


def scaffold(tmp_path: Path) -> Path:
    """`jamsos plugin new kemensos --kind soap`, in this process (the command itself is
    tested by test_scaffold.py)."""
    from gateway.sources.scaffold import scaffold as new_plugin

    return new_plugin("kemensos", kind="soap", agency=None, directory=tmp_path)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def kit(target: Path, check: str) -> str:
    """The plugin's contract tests named by `check` (a pytest -k expression): their output."""
    done = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", "-k", check],
        cwd=target,
        pythonpath=target,
    )
    return done.stdout + done.stderr


def with_token_paging(target: Path, *, sends_token: bool) -> None:
    """The generated service turned into one that pages by token: page 1's answer carries
    `nextPageToken`, which the request for page 2 must send as `pageToken`."""
    package = target / "jamsos_kemensos"
    wsdl = package / "service.wsdl"
    edit(wsdl, '<xsd:element name="pageSize" type="xsd:int"/>',
         '<xsd:element name="pageSize" type="xsd:int"/>'
         '<xsd:element name="pageToken" type="xsd:string" minOccurs="0"/>')  # fmt: skip
    edit(wsdl, '<xsd:element name="pageCount" type="xsd:int"/>',
         '<xsd:element name="pageCount" type="xsd:int"/>'
         '<xsd:element name="nextPageToken" type="xsd:string" minOccurs="0"/>')  # fmt: skip
    edit(package / "samples" / "ListWorkers-page1.xml", "<pageCount>2</pageCount>",
         f"<pageCount>2</pageCount><nextPageToken>{TOKEN}</nextPageToken>")  # fmt: skip
    if sends_token:
        edit(package / "__init__.py", "        return args\n",
             "        if previous is not None:\n"
             '            args["pageToken"] = previous.nextPageToken\n'
             "        return args\n")  # fmt: skip


def test_a_plugin_that_never_sends_the_page_number_fails_the_kit(tmp_path):
    target = scaffold(tmp_path)
    edit(target / "jamsos_kemensos" / "__init__.py", '{"page": page,', '{"page": 1,')
    said = kit(target, "asks_for_each_recorded_page")
    assert "1 failed" in said
    assert "page 2 was asked for with exactly the request of page 1" in said


@pytest.mark.parametrize("sends_token", [True, False])
def test_token_paging_sees_the_previous_answer_and_the_kit_checks_the_token(
    tmp_path, sends_token
):
    target = scaffold(tmp_path)
    with_token_paging(target, sends_token=sends_token)
    said = kit(target, "asks_for_each_recorded_page or cursor_moves")
    if sends_token:
        assert "2 passed" in said, said[-3000:]
    else:
        assert "2 failed" in said, said[-3000:]
        assert f"next-page token nextPageToken='{TOKEN}'" in said
        assert "the request for page 2 does not send it" in said


def test_a_cursor_without_changed_since_fails_the_kit(tmp_path):
    """The issue's plugin: a scaffold's `cursor_after()` kept for a service with no
    "changed since"; every sync after the first was incremental and ended nobody."""
    target = scaffold(tmp_path)
    edit(target / "jamsos_kemensos" / "__init__.py", "    def map_row(",
         "    def cursor_after(self, first_response: Any, cursor: str | None) -> str | None:\n"
         "        return first_response.serverTime.isoformat()\n\n"
         "    def map_row(")  # fmt: skip
    said = kit(target, "declares_the_contract")
    assert "1 failed" in said
    assert "defines cursor_after() but not incremental = True" in said


def test_a_full_fetch_that_ends_nobody_fails_the_kit(tmp_path):
    """A source that calls itself a snapshot but whose syncs end nobody (here: a `prepare`
    that marks every fetch incremental) is caught by the kit's sync of the samples less
    one worker."""
    target = scaffold(tmp_path)
    edit(target / "jamsos_kemensos" / "__init__.py", "    def map_row(",
         "    def prepare(self, cursor: str | None) -> Any:\n"
         "        fetch = super().prepare(cursor)\n"
         '        fetch.mode = "incremental"\n'
         "        return fetch\n\n"
         "    def map_row(")  # fmt: skip
    said = kit(target, "full_fetch_ends_the_absent")
    assert "1 failed" in said, said[-3000:]
    assert "a worker absent from a full fetch was not ended (run mode incremental" in said


def test_a_status_flag_on_a_field_the_samples_lack_fails_the_kit(tmp_path):
    target = scaffold(tmp_path)
    edit(target / "jamsos_kemensos" / "__init__.py",
         "status: ClassVar[StatusFlag | None] = None",
         'status = StatusFlag("status", left=("NONAKTIF",))')  # fmt: skip
    said = kit(target, "every_sample_row")
    assert "1 failed" in said
    assert "no row has the status flag's field 'status'" in said


def test_the_documented_curl_envelope_is_a_valid_request_of_the_generated_wsdl():
    """docs/writing-a-plugin.md, "Recording sample pages with curl": its envelope's body is
    valid against the generated WSDL's schema, and its SOAPAction is the binding's."""
    import re
    from importlib.resources import files

    from lxml import etree

    doc = (Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md").read_text()
    section = doc[doc.index("### Recording sample pages with curl"):]
    envelope = re.search(r"<<'XML'\n(.*?)\nXML\n", section, re.S).group(1)
    body = etree.fromstring(envelope.encode()).find(
        "{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    wsdl = etree.fromstring((files("gateway.sources") / "templates" / "service.wsdl")
                            .read_bytes())  # fmt: skip
    schema = etree.tostring(wsdl.find(".//{http://www.w3.org/2001/XMLSchema}schema")).decode()
    if "xmlns:tns=" not in schema:  # declared on wsdl:definitions; its types name it
        schema = schema.replace("<xsd:schema ", f'<xsd:schema xmlns:tns="{wsdl.nsmap["tns"]}" ', 1)
    etree.XMLSchema(etree.fromstring(schema.encode())).assertValid(body)
    action = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}operation").get("soapAction")
    assert f"SOAPAction: \"{action}\"" in section
