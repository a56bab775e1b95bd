"""What each verification outcome means to a clerk, and what to do (Bahasa Indonesia first,
English alongside): the run report, the agency page, the API and `jamsos verify` all say it
with these words. docs/verification.md says the same at length.
"""

from __future__ import annotations

from typing import NamedTuple


class Words(NamedTuple):
    id: str
    en: str


ELEMENT_LABELS: dict[str, Words] = {
    "nik": Words("NIK", "NIK"),
    "name": Words("nama", "name"),
    "birth_date": Words("tanggal lahir", "birth date"),
    "birth_place": Words("tempat lahir", "birth place"),
    "gender": Words("jenis kelamin", "gender"),
}

VERDICT_WORDS: dict[str, Words] = {
    "match": Words("Sesuai dengan data kependudukan.", "Matches the population registry."),
    "mismatch": Words(
        "Tidak sesuai dengan data kependudukan: {elements}. Periksa ejaan pada KTP/KK lalu "
        "perbaiki di daftar berikutnya.",
        "Does not match the population registry: {elements}. Check the spelling on the ID "
        "card / family card and correct it in the next roster.",
    ),
    "not_found": Words(
        "NIK tidak ditemukan di data kependudukan. Periksa NIK pada KTP; bila benar, minta "
        "pekerja memastikan datanya di Disdukcapil.",
        "The NIK is not in the population registry. Check the NIK on the ID card; if it is "
        "right, ask the worker to have their record checked at the civil registry office.",
    ),
    "deceased": Words(
        "Menurut data kependudukan orang ini telah meninggal dunia. Pastikan apakah pekerja "
        "masih bekerja; bila tidak, keluarkan dari daftar.",
        "The population registry records this person as deceased. Confirm whether the worker "
        "still works for you; if not, remove them from the roster.",
    ),
    "inactive": Words(
        "Data kependudukan NIK ini tidak aktif. Minta pekerja mengurus datanya di Disdukcapil.",
        "This NIK's population record is inactive. Ask the worker to have it settled at the "
        "civil registry office.",
    ),
    "several": Words(
        "NIK ini tercatat ganda di data kependudukan. Minta pekerja mengurusnya di Disdukcapil.",
        "This NIK has several population records. Ask the worker to have it settled at the "
        "civil registry office.",
    ),
    "unprocessable": Words(
        "Layanan kependudukan tidak dapat memproses data ini (kode {code}). Periksa NIK, nama, "
        "dan tanggal lahir.",
        "The population service could not process this person (code {code}). Check the NIK, "
        "name and birth date.",
    ),
    "pending": Words(
        "Belum diverifikasi; gateway akan menanyakannya.",
        "Not verified yet; the gateway will ask.",
    ),
}

# Conditions of the service: told to operators, never counted against a worker.
CONDITION_WORDS: dict[str, Words] = {
    "quota": Words(
        "Kuota harian layanan Dukcapil habis; verifikasi dilanjutkan besok dari titik berhenti.",
        "The Dukcapil service's daily quota is used up; verification resumes tomorrow where "
        "it stopped.",
    ),
    "outside_hours": Words(
        "Di luar jam akses layanan Dukcapil; verifikasi dilanjutkan nanti.",
        "Outside the Dukcapil service's access hours; verification resumes later.",
    ),
    "unavailable": Words(
        "Layanan Dukcapil tidak dapat dihubungi; verifikasi dicoba lagi nanti. Tidak ada "
        "pekerja yang dianggap gagal.",
        "The Dukcapil service cannot be reached; verification is retried later. No worker is "
        "counted as failed.",
    ),
    "refused": Words(
        "Akses ke layanan Dukcapil ditolak (kode {code}); operator perlu memeriksa akun, "
        "kata sandi, atau IP yang terdaftar.",
        "Access to the Dukcapil service was refused (code {code}); the operator must check "
        "the account, password or registered IP.",
    ),
}


def _elements(elements: list[str] | tuple[str, ...] | None, lang: str) -> str:
    labels = [getattr(ELEMENT_LABELS.get(x, Words(x, x)), lang) for x in elements or ()]
    return ", ".join(labels) or "-"


def verdict_words(outcome: str, elements: list[str] | tuple[str, ...] | None = None,
                  code: str | None = None) -> Words:  # fmt: skip
    """The outcome's sentence in both languages, its elements and code filled in."""
    words = VERDICT_WORDS.get(outcome) or CONDITION_WORDS[outcome]
    return Words(
        words.id.format(elements=_elements(elements, "id"), code=code or "-"),
        words.en.format(elements=_elements(elements, "en"), code=code or "-"),
    )
