/* Stub of ESP-IDF's esp_idf_version.h (esp_common): the version the stubs stand for, which check.sh picks
 * with -DTP_STUB_IDF_MAJOR/MINOR so that uart.h and esp_partition.h take that version's shape. */
#pragma once
#if !defined(TP_STUB_IDF_MAJOR) || !defined(TP_STUB_IDF_MINOR)
#error "the stubs stand for one IDF version: compile with -DTP_STUB_IDF_MAJOR=n -DTP_STUB_IDF_MINOR=n (check.sh does)"
#endif
#define ESP_IDF_VERSION_MAJOR TP_STUB_IDF_MAJOR
#define ESP_IDF_VERSION_MINOR TP_STUB_IDF_MINOR
#define ESP_IDF_VERSION_PATCH 0
#define ESP_IDF_VERSION_VAL(major, minor, patch) (((major) << 16) | ((minor) << 8) | (patch))
#define ESP_IDF_VERSION ESP_IDF_VERSION_VAL(ESP_IDF_VERSION_MAJOR, ESP_IDF_VERSION_MINOR, ESP_IDF_VERSION_PATCH)
