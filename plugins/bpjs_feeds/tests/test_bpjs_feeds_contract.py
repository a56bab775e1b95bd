"""The gateway's standard plugin checks, against the shipped BPJS sample files."""

from jamsos_bpjs_feeds import BpjsBills, BpjsMembership, BpjsPayments

from gateway.testing import SourceContract


class TestMembershipContract(SourceContract):
    source_class = BpjsMembership


class TestBillsContract(SourceContract):
    source_class = BpjsBills


class TestPaymentsContract(SourceContract):
    source_class = BpjsPayments
