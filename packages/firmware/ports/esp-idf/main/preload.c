/* The cache preload (preload.h), with the ROM functions of esp32s3/rom/cache.h. */
#include "preload.h"

#include "esp32s3/rom/cache.h"

static const uint8_t *preload_at;
static uint32_t preload_bytes, preload_autoload;
static int preloading;

void preload_set(const uint8_t *at, uint32_t bytes) {
    preload_at = at;
    preload_bytes = bytes;
}

void preload_pace(void *port, int starting) {
    (void)port;
    if (starting) {
        if (!preloading) return;
        while (!Cache_DCache_Preload_Done()) {}
        Cache_End_DCache_Preload(preload_autoload);
        preloading = 0;
    } else if (preload_bytes > 0) {
        preload_autoload = Cache_Start_DCache_Preload((uint32_t)(uintptr_t)preload_at, preload_bytes, 0);
        preloading = 1;
    }
}

void preload_now(void *port, const uint8_t *at, size_t bytes) {
    preload_pace(port, 1);
    uint32_t autoload = Cache_Start_DCache_Preload((uint32_t)(uintptr_t)at, (uint32_t)bytes, 0);
    while (!Cache_DCache_Preload_Done()) {}
    Cache_End_DCache_Preload(autoload);
}

void preload_drop(void *port, const uint8_t *at, size_t bytes) {
    preload_pace(port, 1);
    Cache_Invalidate_Addr((uint32_t)(uintptr_t)at, (uint32_t)bytes);
}
