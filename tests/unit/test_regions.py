from importlib import resources

import pytest

from gateway.domain.regions import (
    Region,
    all_regions,
    get_region,
    is_nik_province,
    provinces,
    regencies_and_cities,
)

# fmt: off
PROVINCE_CODES = [
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35",
    "36", "51", "52", "53", "61", "62", "63", "64", "65", "71", "72", "73", "74", "75", "76",
    "81", "82", "91", "92", "93", "94", "95", "96",
]
# fmt: on


def test_the_38_provinces_in_code_order():
    assert [region.code for region in provinces()] == PROVINCE_CODES
    for region in provinces():
        assert region.kind == "province" and region.province == region.code


def test_more_than_500_regencies_and_cities():
    regions = regencies_and_cities()
    assert len(regions) == 514
    assert sum(region.kind == "city" for region in regions) == 98
    assert sum(region.kind == "regency" for region in regions) == 416


def test_muaro_jambi_whichever_way_the_code_is_written():
    expected = Region("15.05", "KABUPATEN MUARO JAMBI", "regency", "15")
    assert get_region("15.05") == expected
    assert get_region("1505") == expected
    assert get_region(" 15.05 ") == expected


def test_a_province_by_its_code():
    assert get_region("15") == Region("15", "JAMBI", "province", "15")


def test_jakarta_has_five_administrative_cities_and_one_regency():
    cities = [get_region(f"31.7{n}") for n in range(1, 6)]
    for city in cities:
        assert city is not None and city.kind == "city" and city.province == "31"
        assert city.name.startswith("KOTA ADMINISTRASI JAKARTA ")
    # Kemendagri's numbering (BPS numbers the same cities differently).
    assert get_region("31.71").name == "KOTA ADMINISTRASI JAKARTA PUSAT"
    assert get_region("31.74").name == "KOTA ADMINISTRASI JAKARTA SELATAN"
    assert get_region("31.01").name == "KABUPATEN ADMINISTRASI KEPULAUAN SERIBU"
    assert len(regencies_and_cities("31")) == 6


def test_every_regency_belongs_to_an_existing_province_and_is_coded_by_kind():
    province_codes = {region.code for region in provinces()}
    for region in regencies_and_cities():
        assert region.province in province_codes
        assert region.code.startswith(region.province + ".")
        number = int(region.code[3:])
        if region.kind == "city":
            assert 71 <= number <= 99 and region.name.startswith("KOTA ")
        else:
            assert 1 <= number <= 69 and region.name.startswith("KABUPATEN ")


def test_every_province_has_regencies_including_the_new_papua_provinces():
    for code in PROVINCE_CODES:
        assert regencies_and_cities(code), code
    assert [region.name for region in regencies_and_cities("93")] == [
        "KABUPATEN MERAUKE",
        "KABUPATEN BOVEN DIGOEL",
        "KABUPATEN MAPPI",
        "KABUPATEN ASMAT",
    ]
    assert len(regencies_and_cities("94")) == 8
    assert len(regencies_and_cities("95")) == 8
    assert get_region("96.71").name == "KOTA SORONG"


def test_papua_names_follow_kemendagri_not_the_old_population_table():
    assert get_region("91").name == "PAPUA"
    assert get_region("92").name == "PAPUA BARAT"
    assert get_region("93").name == "PAPUA SELATAN"
    assert get_region("94").name == "PAPUA TENGAH"
    assert get_region("95").name == "PAPUA PEGUNUNGAN"
    assert get_region("96").name == "PAPUA BARAT DAYA"
    # Merauke moved to Papua Selatan in 2022; it is no longer a regency of 91.
    assert all("MERAUKE" not in region.name for region in regencies_and_cities("91"))


@pytest.mark.parametrize("code", ["", "00", "15.99", "1599", "99", "15.5", "abc", "15.05.01"])
def test_unknown_codes(code):
    assert get_region(code) is None


def test_all_regions_are_unique_and_each_province_comes_before_its_regencies():
    regions = all_regions()
    codes = [region.code for region in regions]
    assert len(codes) == len(set(codes)) == 38 + 514
    assert codes == sorted(codes)
    # The returned list is a copy: callers cannot damage the table.
    regions.clear()
    assert len(all_regions()) == 552


@pytest.mark.parametrize("prefix", PROVINCE_CODES)
def test_every_province_code_is_a_nik_prefix(prefix):
    assert is_nik_province(prefix)


@pytest.mark.parametrize(
    "prefix", ["00", "10", "20", "22", "30", "37", "90", "97", "99", "9", "911", ""]
)
def test_other_prefixes_are_not(prefix):
    assert not is_nik_province(prefix)


def test_the_data_file_names_its_source():
    text = (resources.files("gateway") / "data" / "regions.csv").read_text(encoding="utf-8")
    assert text.startswith("# source: ")
