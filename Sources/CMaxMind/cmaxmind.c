#include "cmaxmind.h"

#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct rs_geo {
    MMDB_s mmdb;
};

rs_geo *rs_geo_open(const char *path, char *error, size_t error_length) {
    rs_geo *database = calloc(1, sizeof(rs_geo));
    if (database == NULL) {
        snprintf(error, error_length, "out of memory");
        return NULL;
    }
    int status = MMDB_open(path, MMDB_MODE_MMAP, &database->mmdb);
    if (status != MMDB_SUCCESS) {
        snprintf(error, error_length, "%s", MMDB_strerror(status));
        free(database);
        return NULL;
    }
    return database;
}

void rs_geo_close(rs_geo *database) {
    if (database == NULL) return;
    MMDB_close(&database->mmdb);
    free(database);
}

const char *rs_geo_database_type(const rs_geo *database) {
    return database->mmdb.metadata.database_type ? database->mmdb.metadata.database_type : "";
}

/// Copies at most `out_length - 1` bytes, backing off to a UTF-8 character boundary.
static void copy_utf8(char *out, size_t out_length, const char *text, size_t length) {
    if (out_length == 0) return;
    if (length > out_length - 1) {
        length = out_length - 1;
        while (length > 0 && (((unsigned char)text[length]) & 0xC0) == 0x80) length--;
    }
    memcpy(out, text, length);
    out[length] = 0;
}

/// Finds the address's entry: 1 found, 0 not in the database, -1 error (reason in out).
static int lookup(const rs_geo *database, const uint8_t address[16], MMDB_entry_s *entry, char *out, size_t out_length) {
    int is_ipv4 = address[10] == 0xFF && address[11] == 0xFF;
    for (int i = 0; i < 10; i++) if (address[i] != 0) is_ipv4 = 0;
    int mmdb_error = 0;
    MMDB_lookup_result_s result;
    // IPv4 as a sockaddr_in: libmaxminddb then starts at the database's IPv4 subtree (::/96),
    // where IPv6 databases keep IPv4 (the mapped form ::ffff:0:0/96 is not aliased in all).
    if (is_ipv4) {
        struct sockaddr_in v4;
        memset(&v4, 0, sizeof v4);
        v4.sin_family = AF_INET;
        memcpy(&v4.sin_addr, address + 12, 4);
        result = MMDB_lookup_sockaddr(&database->mmdb, (const struct sockaddr *)&v4, &mmdb_error);
    } else {
        struct sockaddr_in6 v6;
        memset(&v6, 0, sizeof v6);
        v6.sin6_family = AF_INET6;
        memcpy(&v6.sin6_addr, address, 16);
        result = MMDB_lookup_sockaddr(&database->mmdb, (const struct sockaddr *)&v6, &mmdb_error);
    }
    if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) return 0;
    if (mmdb_error != MMDB_SUCCESS) {
        copy_utf8(out, out_length, MMDB_strerror(mmdb_error), strlen(MMDB_strerror(mmdb_error)));
        return -1;
    }
    if (!result.found_entry) return 0;
    *entry = result.entry;
    return 1;
}

/// The string at `path` in an entry, copied into out: 1 found, 0 absent, -1 error.
static int entry_string(MMDB_entry_s *entry, const char *const *path, char *out, size_t out_length) {
    if (out_length > 0) out[0] = 0;
    MMDB_entry_data_s data;
    int status = MMDB_aget_value(entry, &data, path);
    if (status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR || status == MMDB_INVALID_LOOKUP_PATH_ERROR) return 0;
    if (status != MMDB_SUCCESS) {
        copy_utf8(out, out_length, MMDB_strerror(status), strlen(MMDB_strerror(status)));
        return -1;
    }
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) return 0;
    copy_utf8(out, out_length, data.utf8_string, data.data_size);
    return 1;
}

int rs_geo_city_country(const rs_geo *database, const uint8_t address[16], char *city, size_t city_length, char *country, size_t country_length) {
    if (city_length > 0) city[0] = 0;
    if (country_length > 0) country[0] = 0;
    MMDB_entry_s entry;
    int found = lookup(database, address, &entry, city, city_length);
    if (found <= 0) return found;
    const char *const city_path[] = {"city", "names", "en", NULL};
    const char *const country_path[] = {"country", "names", "en", NULL};
    int a = entry_string(&entry, city_path, city, city_length);
    if (a < 0) return -1;
    int b = entry_string(&entry, country_path, country, country_length);
    if (b < 0) {
        copy_utf8(city, city_length, country, strlen(country));
        return -1;
    }
    return 1;
}

int rs_geo_asn_organization(const rs_geo *database, const uint8_t address[16], char *out, size_t out_length) {
    if (out_length > 0) out[0] = 0;
    MMDB_entry_s entry;
    int found = lookup(database, address, &entry, out, out_length);
    if (found <= 0) return found;
    const char *const path[] = {"autonomous_system_organization", NULL};
    return entry_string(&entry, path, out, out_length);
}
