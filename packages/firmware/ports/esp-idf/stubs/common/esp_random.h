/* Stub of ESP-IDF's esp_random.h (esp_hw_support): the hardware RNG. */
#pragma once
#include <stdint.h>
uint32_t esp_random(void);
