/* Stub of ESP-IDF's esp_heap_caps.h (heap): allocation from PSRAM. */
#pragma once
#include <stddef.h>
#include <stdint.h>
#define MALLOC_CAP_SPIRAM (1 << 10)
void *heap_caps_malloc(size_t size, uint32_t caps);
