/* The UART lines (line.h). */
#include "line.h"

#include "esp_log.h"
#include "soc/uart_pins.h"

#define RING_BYTES 8192 /* per direction: the board computes while the driver sends (the emulated board too) */
#define EVENTS 16       /* per line; a full queue drops events, never data (the ring keeps it) */
#define MAX_LINES 2

static const char *TAG = "tinypipe";
/* One queue set over every line's events, so a board of a chain wakes for either neighbour. FreeRTOS
 * (queue.h): size it to the members' total, and read a member only after the set has named it. */
static QueueSetHandle_t lines;

/* UART0 on its IO MUX pins, which the DevKitC-1 wires to its USB-to-UART bridge; UART1/UART2 where Kconfig says. */
static void pins_of(uart_port_t uart, int *tx, int *rx) {
    if (uart == UART_NUM_0) *tx = U0TXD_GPIO_NUM, *rx = U0RXD_GPIO_NUM;
    else if (uart == UART_NUM_1) *tx = CONFIG_TINYPIPE_UART1_TX_PIN, *rx = CONFIG_TINYPIPE_UART1_RX_PIN;
    else *tx = CONFIG_TINYPIPE_UART2_TX_PIN, *rx = CONFIG_TINYPIPE_UART2_RX_PIN;
}

int line_open(line_t *l, uart_port_t uart) {
    uart_config_t cfg = {
        .baud_rate = CONFIG_TINYPIPE_UART_BAUD,
        .data_bits = UART_DATA_8_BITS,
        .parity = UART_PARITY_DISABLE,
        .stop_bits = UART_STOP_BITS_1,
        .flow_ctrl = UART_HW_FLOWCTRL_DISABLE,
        .source_clk = UART_SCLK_DEFAULT,
    };
    l->uart = uart;
    if (!lines && !(lines = xQueueCreateSet(MAX_LINES * EVENTS))) return 1;
    if (uart_driver_install(uart, RING_BYTES, RING_BYTES, EVENTS, &l->events, 0) != ESP_OK) return 1;
    if (uart_param_config(uart, &cfg) != ESP_OK) return 1;
    /* UART0 too: with the console elsewhere, IDF's bootloader (5.4.4, 5.5.2, 6.0 on) hands its pins back to GPIO */
    int tx, rx;
    pins_of(uart, &tx, &rx);
    if (uart_set_pin(uart, tx, rx, UART_PIN_NO_CHANGE, UART_PIN_NO_CHANGE) != ESP_OK) return 1;
    return xQueueAddToSet(l->events, lines) == pdPASS ? 0 : 1;
}

void line_write(void *port, const uint8_t *bytes, size_t n) { uart_write_bytes(((line_t *)port)->uart, bytes, n); }

void lines_wait(int wait_ms) {
    if (!lines) return;                                                                       /* no line opened */
    TickType_t ticks = (TickType_t)((wait_ms + portTICK_PERIOD_MS - 1) / portTICK_PERIOD_MS); /* rounded up */
    QueueSetMemberHandle_t ready = xQueueSelectFromSet(lines, ticks);
    uart_event_t ev;
    if (!ready || xQueueReceive(ready, &ev, 0) != pdTRUE) return;
    /* the data itself is read from the ring by line_read; an overflow lost bytes, which the link's ARQ resends */
    if (ev.type == UART_FIFO_OVF || ev.type == UART_BUFFER_FULL)
        ESP_LOGW(TAG, "a line's receive overflowed (%d)", (int)ev.type);
}

size_t line_read(line_t *l, uint8_t *buf, size_t cap) {
    size_t held = 0;
    if (uart_get_buffered_data_len(l->uart, &held) != ESP_OK || held == 0) return 0;
    int n = uart_read_bytes(l->uart, buf, (uint32_t)(held < cap ? held : cap), 0);
    return n > 0 ? (size_t)n : 0;
}
