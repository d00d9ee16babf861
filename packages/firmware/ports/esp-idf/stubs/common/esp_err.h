/* Stub of ESP-IDF's esp_err.h (esp_common). */
#pragma once
typedef int esp_err_t;
#define ESP_OK 0
#define ESP_FAIL -1
