"""Word lists and value spellings for the demo roster generator (gateway.demo.rosters).

Common Indonesian names by region (Javanese, Sundanese, Batak, Minang, Malay, Bugis, Balinese,
eastern Indonesia), the positions and work units of each kind of non-ASN worker, and the ways
hand-kept spreadsheets write dates, money and gender (docs/domain.md §4). No real person's data.
"""

from __future__ import annotations

from datetime import date

from gateway.domain.records import Category


def _split(text: str) -> tuple[str, ...]:
    return tuple(word.replace("+", " ") for word in text.split())


def _options(text: str) -> tuple[str, ...]:
    return tuple(text.split("|"))


# Name pools: (men's given names, women's given names, second names for men, for women).
# A "+" joins a multi-word given name, e.g. Balinese birth-order names.
_NAMES: dict[str, tuple[str, str, str, str]] = {
    "jawa": (
        "Agus Bambang Budi Dwi Eko Hadi Joko Slamet Sugeng Teguh Wahyu Yudi Bayu Dimas Arif "
        "Heru Sutrisno Sigit Gatot Purwanto Rudi Tri Anton Bagus Wawan",
        "Sri Dewi Endang Siti Tri Rina Wulan Ayu Indah Ratna Sari Yuni Tutik Sumarni Dwi "
        "Retno Lestari Puji Nanik Ika",
        "Santoso Wibowo Setiawan Prasetyo Nugroho Saputra Susanto Hartono Purnomo Wijaya "
        "Kurniawan Suryadi Gunawan Prabowo Utomo Hidayat",
        "Lestari Wahyuni Rahayu Handayani Astuti Utami Pratiwi Susanti Setyaningsih Kurniasih "
        "Widyaningrum Purwanti Rahmawati",
    ),
    "sunda": (
        "Asep Cecep Dadang Ujang Encep Ade Dede Iwan Yayan Deden Acep Ahmad Jajang Dedi Rudi",
        "Euis Neneng Imas Cucu Entin Yuyun Iis Lilis Nining Tati Rina Siti Dewi Nur Ai",
        "Saepudin Hidayat Supriatna Sunarya Permana Suherman Kurnia Ramdani Nurjaman Sobari "
        "Mulyana Gunawan",
        "Komariah Rohaeti Nurhayati Suryani Kurniasih Rosita Maryam Herawati Sumiati Nurjanah",
    ),
    "batak": (
        "Roy Tigor Hotman Bonar Parulian Daniel Samuel Poltak Marihot Benny Ronald Sahat "
        "Togar Fernando Jefri Andreas",
        "Maria Rosmawati Tiurma Lasma Debora Sarma Friska Melati Intan Evi Rotua Lenny Nurhayati",
        "Simanjuntak Siregar Nasution Harahap Sitompul Hutapea Simatupang Pardede Sinaga "
        "Manurung Panjaitan Situmorang Tampubolon Lubis Silalahi Sihombing Napitupulu "
        "Tambunan Ginting Sembiring Tarigan Purba Saragih Damanik",
        "",
    ),
    "minang": (
        "Afrizal Rahmat Fadli Hendri Zulkifli Yusrizal Irwan Syafrizal Andika Rizal Jasman "
        "Nofrizal Fauzan Ikhsan Fikri Yuliandri",
        "Yulia Rahmi Fitri Nofriyanti Elvira Desmawati Yusnita Silvia Mardiana Syafrida Yessi "
        "Novia Zuraida Nurhasanah",
        "Putra Syahputra Chaniago Piliang Koto Tanjung Sikumbang Jambak Guci",
        "Putri Chaniago Piliang Koto Tanjung Sikumbang",
    ),
    "melayu": (
        "Muhammad Ahmad Abdul+Rahman Hendra Dedi Rudi Joni Heri Syaiful Zainal Ramli Rusli "
        "Junaidi Firdaus Ilham Rizki Fajar Taufik Ridwan Hasan Husin Iskandar Sofyan Darmawan",
        "Siti Nur Dewi Sri Rina Yanti Fitri Rahma Nurul Aisyah Aminah Fatimah Maryam Halimah "
        "Zubaidah Rosmiati Hartini Desi Mega Eka",
        "Saputra Kurniawan Hidayat Pratama Syahputra Ramadhan Firmansyah Rahman Hakim "
        "Setiawan Gunawan Irawan Fauzi Anwar",
        "Aminah Handayani Rahmawati Susanti Anggraini Oktaviani Novitasari Maharani Wulandari "
        "Safitri Yulianti Purnamasari Permatasari",
    ),
    "bugis": (
        "Andi+Muhammad Andi+Ahmad Muhammad Ilham Syamsul Arifin Rusdi Hasanuddin Bahar Jufri "
        "Nasrun Sudirman Irfan Amiruddin Baharuddin Kamaruddin Syahrir Zainuddin",
        "Andi+Nurhaliza Sitti Hasnah Nurhayati Haslinda Sumarni Rosmini Hasmawati Nurjannah "
        "Fatmawati Sukmawati Jumriah Asriani Andi+Tenri",
        "Arsyad Tahir Latif Rahim Amir Ishak Hamzah Syam Basri Saleh Halim Mansur",
        "Arsyad Tahir Latif Rahim Amir Syam Basri Saleh",
    ),
    "bali": (
        "I+Wayan I+Made I+Nyoman I+Ketut I+Putu I+Kadek I+Komang I+Gede I+Gusti+Ngurah Ida+Bagus",
        "Ni+Wayan Ni+Made Ni+Nyoman Ni+Ketut Ni+Putu Ni+Kadek Ni+Komang Ni+Luh Ida+Ayu "
        "Anak+Agung+Ayu",
        "Sudarta Suarsana Artawan Widiana Sukadana Budiarta Suparta Wirawan Adnyana Mahendra "
        "Sudiarsa Arimbawa Sanjaya",
        "Sariasih Suastini Ariani Wulandari Sukerti Widiastuti Puspawati Kartini Suryani "
        "Darmayanti Astiti Purnami",
    ),
    "timur": (
        "Yohanes Fransiskus Petrus Yosef Markus Stefanus Kornelis Agustinus Paulus Yakobus "
        "Daniel Frans Melkianus Marthen Alfons Benediktus Lukas Hendrik Yulius",
        "Maria Yuliana Agustina Margaretha Elisabeth Fransiska Theresia Veronika Paulina "
        "Katarina Yohana Oktovina Ester Martha Magdalena Kristina Agnes",
        "Lake Manafe Tefa Benu Leki Pattinama Latuheru Tuhumury Sahetapy Wenda Kogoya Rumbiak "
        "Mandowen Lumintang Sumampouw Wowor Rumengan Pangemanan Sondakh Mandagi Kaunang",
        "",
    ),
}
STYLES = tuple(_NAMES)
PROVINCE_STYLE = {
    "12": "batak", "13": "minang", "18": "jawa", "31": "jawa", "32": "sunda", "33": "jawa",
    "34": "jawa", "35": "jawa", "36": "sunda", "51": "bali", "53": "timur", "64": "bugis",
    "71": "timur", "72": "bugis", "73": "bugis", "74": "bugis", "76": "bugis", "81": "timur",
    "91": "timur", "92": "timur", "93": "timur", "94": "timur", "95": "timur", "96": "timur",
}  # fmt: skip

_POSITIONS = {
    Category.HONORER: "Tenaga Administrasi|Pramu Kantor|Sopir|Tenaga Kebersihan|Operator "
    "Komputer|Petugas Keamanan|Guru Honorer|Tenaga Kesehatan|Perawat|Bidan|Penyuluh Pertanian|"
    "Petugas Pemadam Kebakaran|Staf Keuangan|Pengelola Arsip|Juru Taman|Teknisi Listrik",
    Category.PPNPN: "Pramu Bakti|Pengemudi|Satpam|Petugas Kebersihan|Operator Layanan|Staf "
    "Administrasi|Teknisi IT|Resepsionis|Arsiparis",
    Category.PENDAMPING_DESA: "Pendamping Desa|Pendamping Lokal Desa|Pendamping Desa Teknik "
    "Infrastruktur|Tenaga Ahli Pemberdayaan Masyarakat",
    Category.APARAT_DESA: "Sekretaris Desa|Kepala Urusan Keuangan|Kepala Urusan Umum|Kepala "
    "Seksi Pemerintahan|Kepala Dusun|Ketua BPD|Anggota BPD|Staf Desa",
    Category.RT_RW: "Ketua RT|Ketua RW|Sekretaris RT",
    Category.PEKERJA_RENTAN: "Petani|Nelayan|Pedagang Kecil|Buruh Harian Lepas|Pengemudi Ojek|"
    "Marbot Masjid|Guru Mengaji|Kader Posyandu",
}
_OPDS = (
    "Dinas Pendidikan|Dinas Kesehatan|BPKAD|Sekretariat Daerah|RSUD {place}|Puskesmas {village}|"
    "SD Negeri {n} {place}|Dinas Pekerjaan Umum dan Penataan Ruang|Dinas Perhubungan|Satuan "
    "Polisi Pamong Praja|Dinas Lingkungan Hidup|Dinas Sosial|Bappeda|Dinas Kependudukan dan "
    "Pencatatan Sipil|Kecamatan {village}|Sekretariat DPRD"
)
_UNITS = {
    Category.HONORER: _OPDS,
    Category.PPNPN: "Sekretariat Jenderal|Biro Umum|Inspektorat Jenderal|Pusat Data dan "
    "Informasi|Direktorat Jenderal Kefarmasian dan Alat Kesehatan",
    Category.PENDAMPING_DESA: "TPP Kabupaten {place}|P3MD Kecamatan {village}",
    Category.APARAT_DESA: "Pemerintah Desa {village}",
    Category.RT_RW: "Kelurahan {village}",
    Category.PEKERJA_RENTAN: "Desa {village}|Kelurahan {village}",
}
# Pre-split: the generator picks from these for every row.
POSITIONS = {category: _options(text) for category, text in _POSITIONS.items()}
UNITS = {category: _options(text) for category, text in _UNITS.items()}
VILLAGES = _options(
    "Sumber Jaya|Suka Maju|Mekar Sari|Karya Bakti|Tanjung Harapan|Sido Mulyo|Talang Datar|"
    "Sungai Gelam|Pematang Raman|Teluk Betung|Air Hitam|Kota Baru|Bukit Indah|Sri Rejeki"
)
CATEGORY_TEXT = {
    Category.HONORER: "Honorer",
    Category.PPNPN: "PPNPN",
    Category.PENDAMPING_DESA: "Pendamping Desa",
    Category.APARAT_DESA: "Aparat Desa",
    Category.RT_RW: "RT/RW",
    Category.PEKERJA_RENTAN: "Pekerja Rentan",
}
WAGE_FACTOR = {  # of the provincial minimum wage: honorer are often paid below it
    Category.HONORER: (0.45, 1.3),
    Category.PPNPN: (0.9, 1.5),
    Category.PENDAMPING_DESA: (0.8, 1.4),
    Category.APARAT_DESA: (0.6, 1.0),
    Category.RT_RW: (0.3, 0.5),
    Category.PEKERJA_RENTAN: (0.3, 0.6),
}
_MONTHS = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"
_MONTH_NAMES = _MONTHS.split()
_MONTH_SHORT = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agt", "Sep", "Okt", "Nov", "Des"]
DATE_STYLES = ("dd-mm-yyyy", "dd/mm/yyyy", "yyyy-mm-dd", "d month yyyy", "d mon yyyy")
MONEY_STYLES = ("Rp 3.500.000", "Rp3.500.000", "3500000", "3.500.000,00", "4,500,000.00")
GENDER_STYLES = (
    ("L", "P"),
    ("Laki-laki", "Perempuan"),
    ("LAKI-LAKI", "PEREMPUAN"),
    ("Pria", "Wanita"),
)


# An empty women's list: women carry the family name too (Batak marga, eastern family names).
POOLS = {
    style: (_split(men), _split(women), _split(men_2), _split(women_2 or men_2))
    for style, (men, women, men_2, women_2) in _NAMES.items()
}


def date_text(day: date, style: str) -> str:
    if style == "dd-mm-yyyy":
        return f"{day.day:02d}-{day.month:02d}-{day.year}"
    if style == "dd/mm/yyyy":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if style == "yyyy-mm-dd":
        return day.isoformat()
    months = _MONTH_NAMES if style == "d month yyyy" else _MONTH_SHORT
    return f"{day.day} {months[day.month - 1]} {day.year}"


def money_text(amount: int, style: str) -> str:
    dotted = f"{amount:,}".replace(",", ".")
    return {
        "Rp 3.500.000": f"Rp {dotted}",
        "Rp3.500.000": f"Rp{dotted}",
        "3500000": str(amount),
        "3.500.000,00": f"{dotted},00",
        "4,500,000.00": f"{amount:,}.00",
    }[style]
