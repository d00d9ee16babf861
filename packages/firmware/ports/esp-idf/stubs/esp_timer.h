/* Stub of ESP-IDF's esp_timer.h: microseconds since boot. Declarations only, for the host compile check. */
#pragma once
#include <stdint.h>
int64_t esp_timer_get_time(void);
