/* Stub of ESP-IDF's esp_partition.h (component esp_partition): find the model partition and map it. */
#pragma once
#include "esp_err.h"
#include "esp_idf_version.h"
#include <stddef.h>
#include <stdint.h>
typedef enum { ESP_PARTITION_TYPE_APP = 0x00, ESP_PARTITION_TYPE_DATA = 0x01 } esp_partition_type_t;
typedef int esp_partition_subtype_t;
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(6, 2, 0)
/* 6.2 names the mapping argument a set of flags (the old type name stays as a deprecated alias) */
typedef enum { ESP_PARTITION_MMAP_DATA = 0, ESP_PARTITION_MMAP_INST = 1 } esp_partition_mmap_flag_t;
#else
typedef enum { ESP_PARTITION_MMAP_DATA, ESP_PARTITION_MMAP_INST } esp_partition_mmap_memory_t;
#define esp_partition_mmap_flag_t esp_partition_mmap_memory_t
#endif
typedef uint32_t esp_partition_mmap_handle_t;
typedef struct {
    void *flash_chip;
    esp_partition_type_t type;
    esp_partition_subtype_t subtype;
    uint32_t address;
    uint32_t size;
    uint32_t erase_size;
    char label[17];
    int encrypted;
    int readonly;
} esp_partition_t;
const esp_partition_t *esp_partition_find_first(esp_partition_type_t type, esp_partition_subtype_t subtype,
                                                const char *label);
esp_err_t esp_partition_mmap(const esp_partition_t *partition, size_t offset, size_t size,
                             esp_partition_mmap_flag_t memory, const void **out_ptr,
                             esp_partition_mmap_handle_t *out_handle);
