#pragma once
#include <stdint.h>
#include "FreeRTOS.h"
typedef void *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t fn, const char *name, uint32_t stack_depth, void *arg,
                                   UBaseType_t priority, TaskHandle_t *created, BaseType_t core_id);
