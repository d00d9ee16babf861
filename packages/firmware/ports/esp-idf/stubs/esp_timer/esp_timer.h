/* Stub of ESP-IDF's esp_timer.h (component esp_timer): microseconds since boot. */
#pragma once
#include <stdint.h>
int64_t esp_timer_get_time(void);
