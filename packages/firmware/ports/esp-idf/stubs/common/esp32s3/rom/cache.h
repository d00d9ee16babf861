/* Stub of ESP-IDF's esp_rom esp32s3/rom/cache.h: the ESP32-S3 ROM's data cache manual preload and the
 * invalidate of a region (the functions preload.c uses; Cache_Invalidate_Addr as in esp-idf master's header,
 * read 2026-11). Declarations only, for the host compile check. */
#pragma once
#include <stdint.h>
uint32_t Cache_Start_DCache_Preload(uint32_t addr, uint32_t size, uint32_t order);
uint32_t Cache_DCache_Preload_Done(void);
void Cache_End_DCache_Preload(uint32_t autoload);
int Cache_Invalidate_Addr(uint32_t addr, uint32_t size);
