/* Stub of ESP-IDF's esp_random.h (IDF 5.x): the hardware RNG. Declarations only, for the host compile check. */
#pragma once
#include <stdint.h>
uint32_t esp_random(void);
