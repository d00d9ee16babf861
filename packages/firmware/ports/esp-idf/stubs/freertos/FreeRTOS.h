#pragma once
#include <stdint.h>
typedef uint32_t TickType_t;
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef void *QueueHandle_t;
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define portTICK_PERIOD_MS ((TickType_t)1) /* 1000 Hz tick (CONFIG_FREERTOS_HZ in sdkconfig.defaults) */
#define pdPASS 1
