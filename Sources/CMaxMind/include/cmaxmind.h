// MaxMind DB look-ups through libmaxminddb (Debian libmaxminddb-dev), as plain C calls: Swift
// cannot call MMDB_get_value (variadic), so this shim opens a database and reads the few
// fields roomstream records (city and country names, the ASN organization).
#ifndef CMAXMIND_H
#define CMAXMIND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rs_geo rs_geo;

/// Opens a database (memory-mapped). NULL on failure, with the reason in `error`.
rs_geo *rs_geo_open(const char *path, char *error, size_t error_length);
void rs_geo_close(rs_geo *database);
/// The metadata's `database_type`, e.g. "GeoLite2-City" or "GeoLite2-ASN".
const char *rs_geo_database_type(const rs_geo *database);

/// Looks up a 16-byte address in network order (IPv4 as IPv4-mapped IPv6) and copies the
/// English city and country names (`city.names.en`, `country.names.en`, GeoLite2-City layout)
/// as NUL-terminated UTF-8, each cut at its length - 1 bytes on a character boundary, "" when
/// absent. Returns 1 when the address is in the database, 0 when not, -1 on a database error
/// (the reason in `city`). Safe from any thread: libmaxminddb look-ups only read the mapping.
int rs_geo_city_country(const rs_geo *database, const uint8_t address[16], char *city, size_t city_length, char *country, size_t country_length);

/// The same for `autonomous_system_organization` (GeoLite2-ASN layout).
int rs_geo_asn_organization(const rs_geo *database, const uint8_t address[16], char *out, size_t out_length);

#ifdef __cplusplus
}
#endif

#endif
