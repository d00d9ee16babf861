/* The protocol's lines: each link (docs/protocol.md) runs over one UART through ESP-IDF's UART driver, whose
 * event queues wake the board as soon as bytes arrive on any of its lines. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "driver/uart.h"
#include "freertos/queue.h"

typedef struct {
    uart_port_t uart;
    QueueHandle_t events; /* the driver's: UART_DATA once bytes wait (RX timeout or FIFO threshold), overflows */
} line_t;

/* Installs the driver on `uart` at CONFIG_TINYPIPE_UART_BAUD, on UART0's own pins (the DevKitC-1's
 * USB-to-UART bridge) or the Kconfig's for UART1/UART2; 0 on success. */
int line_open(line_t *l, uart_port_t uart);

/* A tp_link write hook: port is the line_t. */
void line_write(void *port, const uint8_t *bytes, size_t n);

/* Returns at the first event on any open line, or after wait_ms. */
void lines_wait(int wait_ms);

/* Copies up to cap bytes the driver holds into buf without waiting; the byte count. */
size_t line_read(line_t *l, uint8_t *buf, size_t cap);
