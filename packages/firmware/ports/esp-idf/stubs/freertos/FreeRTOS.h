#pragma once
#include <stdint.h>
typedef uint32_t TickType_t;
typedef int BaseType_t;
typedef unsigned int UBaseType_t;
typedef void *QueueHandle_t;
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#define pdPASS 1
