"""The element-verification exchange as publicly seen (docs/domain.md §7: "seen", not a
promise): one JSON request per person, one JSON answer. Shared by the client (the plugin)
and the loopback service (server.py), so both speak exactly this.

Request (POST, application/json):

    {"user_id": "...", "password": "...", "ip_user": "10.1.2.3", "TRESHOLD": "90",
     "NIK": "3174...", "NAMA_LGKP": "SITI RAHAYU", "TGL_LHR": "31-01-1977",
     "TMPT_LHR": "", "JENIS_KLMIN": "PEREMPUAN", "ALAMAT": "", "NO_KK": ""}

Answer: `{"content": [{"RESPONSE_CODE": "01", "NIK": "Sesuai (100)",
"NAMA_LGKP": "Tidak Sesuai (59)", "TGL_LHR": "Sesuai (100)", "JENIS_KLMIN": "Sesuai (100)"}]}`
for a record found, else `{"content": [{"RESPONSE_CODE": "13", "RESPONSE": "..."}]}`.
"""

from __future__ import annotations

import re

# Request/answer field of each element the gateway knows (gateway.verify.elements.ELEMENTS).
FIELDS = {
    "nik": "NIK",
    "name": "NAMA_LGKP",
    "birth_date": "TGL_LHR",
    "birth_place": "TMPT_LHR",
    "gender": "JENIS_KLMIN",
}
GENDERS = {"L": "LAKI-LAKI", "P": "PEREMPUAN"}

# Answer codes seen (docs/domain.md §7) and what the gateway makes of each.
CODES = {
    "01": ("found", "Data ditemukan"),
    "03": ("refused", "Login gagal"),
    "04": ("refused", "IP tidak diizinkan"),
    "05": ("quota", "Kuota akses harian habis"),
    "06": ("outside_hours", "Di luar jam akses"),
    "07": ("unprocessable", "Permintaan tidak lengkap"),
    "08": ("unprocessable", "NIK tidak dapat diproses"),
    "09": ("refused", "User id atau password kosong"),
    "10": ("refused", "IP tidak terdaftar"),
    "11": ("deceased", "Penduduk telah meninggal"),
    "12": ("several", "Data ganda"),
    "13": ("not_found", "NIK tidak ditemukan"),
    "14": ("inactive", "Data tidak aktif"),
    "15": ("not_found", "Data tidak ditemukan / format salah"),
    "16": ("refused", "Lembaga tidak aktif"),
    "17": ("refused", "User tidak aktif"),
}

_SCORE = re.compile(r"^\s*(Tidak\s+)?Sesuai\s*\(\s*(\d{1,3})\s*\)\s*$", re.I)


def score_text(score: int, threshold: int) -> str:
    return f"{'Sesuai' if score >= threshold else 'Tidak Sesuai'} ({score})"


def parse_score(text: object) -> tuple[bool, int] | None:
    """"Sesuai (100)" -> (True, 100); "Tidak Sesuai (59)" -> (False, 59); else None."""
    match = _SCORE.match(str(text or ""))
    if match is None:
        return None
    return match.group(1) is None, min(100, int(match.group(2)))
