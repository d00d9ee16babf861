/* The protocol's lines: each link (docs/protocol.md) runs over one UART through ESP-IDF's UART driver. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "driver/uart.h"

typedef struct {
    uart_port_t uart;
} line_t;

/* Installs the driver on `uart` at CONFIG_TINYPIPE_UART_BAUD (UART1/UART2 on their Kconfig pins). */
void line_open(line_t *l, uart_port_t uart);

/* A tp_link write hook: port is the line_t. */
void line_write(void *port, const uint8_t *bytes, size_t n);

/* Reads what the driver holds into buf, waiting up to wait_ms; the byte count. */
int line_read(line_t *l, uint8_t *buf, size_t cap, int wait_ms);
